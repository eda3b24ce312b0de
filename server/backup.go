package server

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
)

// handleBackup streams a consistent copy of the database while the server
// keeps running (llmops backup --server URL uses it).
func (s *Server) handleBackup(c echo.Context) error {
	name := fmt.Sprintf("llmops-backup-%s.db", s.now().UTC().Format("20060102-150405"))
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "application/octet-stream")
	h.Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	_, err := s.store.Backup(c.Request().Context(), c.Response(), func(size int64) {
		h.Set(echo.HeaderContentLength, strconv.FormatInt(size, 10))
		c.Response().WriteHeader(http.StatusOK)
	})
	if err != nil {
		if !c.Response().Committed {
			return err
		}
		// The length was promised: aborting the connection makes the
		// client see a failed download, never a short file that looks whole.
		s.log.Error("backup failed mid-stream", "request_id", requestID(c), "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}
