package server

import (
	"context"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"llmops/store"
)

// maxPinnedLen bounds a pinned question, in characters: a suggestion is a
// chip, not a paragraph.
const maxPinnedLen = 120

// pinnedQuestions are the chat suggestions an admin pinned.
func (s *Server) pinnedQuestions(ctx context.Context) ([]string, error) {
	var qs []string
	if _, err := s.store.Setting(ctx, store.SettingPinnedQuestions, &qs); err != nil {
		return nil, err
	}
	return qs, nil
}

// cleanPinned trims and checks pinned questions: blank lines go, repeats
// (paraphrases too) go, and there are at most as many as the chat shows.
func cleanPinned(in []string) ([]string, error) {
	out := []string{}
	seen := map[string]bool{}
	for _, q := range in {
		q = strings.Join(strings.Fields(q), " ")
		if q == "" {
			continue
		}
		if n := utf8.RuneCountInString(q); n > maxPinnedLen {
			return nil, store.Errorf(store.EINVALID, "pinned: %q is %d characters, at most %d", store.Preview(q, 40), n, maxPinnedLen)
		}
		if k := paraphraseKey(q); !seen[k] {
			seen[k] = true
			out = append(out, asked(q))
		}
	}
	if len(out) > maxSuggestions {
		return nil, store.Errorf(store.EINVALID, "pinned: %d questions, at most %d (the chat shows %d)", len(out), maxSuggestions, maxSuggestions)
	}
	return out, nil
}

// handleSuggestionsGet lists the chat's suggestions as the chat page shows
// them, and which of them an admin pinned.
func (s *Server) handleSuggestionsGet(c echo.Context) error {
	ctx := c.Request().Context()
	pinned, err := s.pinnedQuestions(ctx)
	if err != nil {
		return err
	}
	if pinned == nil {
		pinned = []string{}
	}
	hasSample, err := s.hasSampleData(ctx)
	if err != nil {
		return err
	}
	qs, err := s.suggestions(ctx, hasSample)
	if err != nil {
		return err
	}
	if qs == nil {
		qs = []string{}
	}
	return c.JSON(http.StatusOK, map[string]any{"suggestions": qs, "pinned": pinned})
}

// handleSuggestionsPut replaces the pinned questions: {"pinned": [...]}.
func (s *Server) handleSuggestionsPut(c echo.Context) error {
	var body struct {
		Pinned []string `json:"pinned"`
	}
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	pinned, err := cleanPinned(body.Pinned)
	if err != nil {
		return err
	}
	if err := s.store.PutSetting(c.Request().Context(), principalOf(c).actor, store.SettingPinnedQuestions, pinned); err != nil {
		return err
	}
	return s.handleSuggestionsGet(c)
}

// handleSuggestionsForm saves the pinned questions from the chat page's
// form: one question a line.
func (s *Server) handleSuggestionsForm(c echo.Context) error {
	if err := parseForm(c); err != nil {
		return err
	}
	text := c.FormValue("pinned")
	pinned, err := cleanPinned(strings.Split(text, "\n"))
	if err != nil {
		return s.chatPage(c, http.StatusBadRequest, text, store.ErrorMessage(err))
	}
	if err := s.store.PutSetting(c.Request().Context(), principalOf(c).actor, store.SettingPinnedQuestions, pinned); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/chat")
}
