package server

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"llmops/store"
)

type feedbackRequest struct {
	TraceID string `json:"trace_id"`
	Value   int    `json:"value"`
	Comment string `json:"comment"`
}

// handleFeedback records thumbs up/down with an optional comment on a
// trace, from any authenticated client.
func (s *Server) handleFeedback(c echo.Context) error {
	var req feedbackRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.TraceID == "" {
		return store.Errorf(store.EINVALID, "trace_id is required")
	}
	f := &store.Feedback{TraceID: req.TraceID, Value: req.Value, Comment: req.Comment}
	if err := s.store.AddFeedback(c.Request().Context(), principalOf(c).actor, f); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, f)
}
