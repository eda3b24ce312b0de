package server

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
)

// handleBackup streams a consistent copy of the database while the server
// keeps running (llmops backup --server URL uses it).
func (s *Server) handleBackup(c echo.Context) error {
	name := fmt.Sprintf("llmops-backup-%s.db", s.now().UTC().Format("20060102-150405"))
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "application/octet-stream")
	h.Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	c.Response().WriteHeader(http.StatusOK)
	if _, err := s.store.Backup(c.Request().Context(), c.Response()); err != nil {
		// Headers are sent; the client sees a truncated body and the log
		// has the cause.
		s.log.Error("backup failed mid-stream", "request_id", requestID(c), "err", err)
	}
	return nil
}
