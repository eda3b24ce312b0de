package server

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// retentionEvery is how often the background retention pass runs; the
// first runs a minute after start, so a restart loop does no heavy work.
const retentionEvery = time.Hour

// retentionBatch bounds the traces one retention transaction deletes.
const retentionBatch = 500

// retain deletes traces past the retention setting until ctx ends.
func (s *Server) retain(ctx context.Context) {
	t := time.NewTimer(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n, err := s.applyRetention(ctx); err != nil {
			s.log.Warn("retention pass failed", "err", err, "deleted", n)
		} else if n > 0 {
			s.log.Info("retention: old traces deleted", "traces", n)
		}
		t.Reset(retentionEvery)
	}
}

// applyRetention deletes the traces older than the retention setting (and
// their full-text entries), then the conversations last active before
// then, with the contact details visitors left and their inbox records;
// rollups stay.
func (s *Server) applyRetention(ctx context.Context) (int, error) {
	days, err := s.store.RetentionDays(ctx)
	if err != nil {
		return 0, err
	}
	cutoff := s.now().Add(-time.Duration(days) * 24 * time.Hour)
	n, err := s.store.DeleteTracesBefore(ctx, cutoff, retentionBatch, func(ids []string) {
		if err := s.app.TraceSearch.Delete(ids); err != nil {
			s.log.Warn("retention: full-text index not updated", "err", err)
		}
	})
	if err != nil {
		return n, err
	}
	convs, err := s.store.DeleteConversationsBefore(ctx, cutoff, retentionBatch)
	if convs > 0 {
		s.log.Info("retention: old conversations deleted", "conversations", convs)
	}
	return n, err
}

func (s *Server) handleRetentionGet(c echo.Context) error {
	days, err := s.store.RetentionDays(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]int{"retention_days": days})
}

func (s *Server) handleRetentionPut(c echo.Context) error {
	var body struct {
		Days int `json:"retention_days"`
	}
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	if err := s.store.SetRetentionDays(c.Request().Context(), principalOf(c).actor, body.Days); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]int{"retention_days": body.Days})
}
