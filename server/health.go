package server

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"llmops/store"
)

// handleHealthz answers while the process is up.
func (s *Server) handleHealthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// handleReadyz answers 200 once the store is open and the indexes are
// loaded, and 503 while starting or shutting down.
func (s *Server) handleReadyz(c echo.Context) error {
	if !s.ready.Load() {
		return store.Errorf(store.EUNAVAILABLE, "starting or shutting down")
	}
	if err := s.store.Ping(c.Request().Context()); err != nil {
		s.log.Error("readyz: store ping", "err", err)
		return store.Errorf(store.EUNAVAILABLE, "store is not answering")
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}
