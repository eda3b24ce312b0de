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
	if _, err := s.traceForFeedback(c.Request().Context(), req.TraceID); err != nil {
		return err
	}
	return s.addFeedback(c, req)
}

func (s *Server) addFeedback(c echo.Context, req feedbackRequest) error {
	f := &store.Feedback{TraceID: req.TraceID, Value: req.Value, Comment: req.Comment}
	if err := s.store.AddFeedback(c.Request().Context(), principalOf(c).actor, f); err != nil {
		return err
	}
	s.onFeedback(f)
	return c.JSON(http.StatusCreated, f)
}
