package server

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"llmops/store"
)

// formAs posts a form with an API key.
func formAs(h http.Handler, path string, vals url.Values, key string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(vals.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+key)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// editorForm is the new-version form as version 1 of support-answer
// fills it, with template changed.
func editorForm(t *testing.T, s *Server, template, message string, base int) url.Values {
	t.Helper()
	v1, err := s.app.Prompts.Version(t.Context(), "support-answer", 1)
	if err != nil {
		t.Fatal(err)
	}
	f := formOf(v1)
	return url.Values{"template": {template}, "variables": {f.Variables}, "temperature": {f.Temperature}, "max_tokens": {f.MaxTokens},
		"top_k": {"4"}, "message": {message}, "base_version": {strconv.Itoa(base)}, "from": {"1"}}
}

// TestPromptPages walks the pages as an editor and a viewer: the list,
// a save through the form (a template error re-renders the editor with
// its line, a stale base gets 409 with a link to the current version), a
// label move and a split, the diff, and what viewers may not do.
func TestPromptPages(t *testing.T) {
	t.Parallel()
	s := mustServer(t)
	h := s.http.Handler
	editor, viewer, admin := keyFor(t, s, store.RoleEditor), keyFor(t, s, store.RoleViewer), keyFor(t, s, store.RoleAdmin)

	doc := pageDoc(t, call(h, http.MethodGet, "/prompts", "", viewer))
	if n := doc.Find(`[data-testid="prompt-row"]`).Length(); n < 3 {
		t.Fatalf("%d prompts listed, want the built-in ones", n)
	}
	if got := doc.Find(`[data-name="support-answer"] [data-testid="label-production"]`).AttrOr("title", ""); got != "production → v1" {
		t.Errorf("support-answer production chip %q", got)
	}

	// Viewers read everything, with no forms that change anything.
	doc = pageDoc(t, call(h, http.MethodGet, "/prompts/support-answer", "", viewer))
	if doc.Find(`[data-testid^="move-"], [data-testid="split-form"], [data-testid="override-form"]`).Length() != 0 {
		t.Error("a viewer is offered label moves")
	}
	doc = pageDoc(t, call(h, http.MethodGet, "/prompts/support-answer/versions/1", "", viewer))
	if doc.Find(`[data-testid="version-form"]`).Length() != 0 {
		t.Error("a viewer is offered the new-version editor")
	}
	if got := doc.Find(`[data-testid="template-text"] .tpl-var`).First().Text(); !strings.HasPrefix(got, ".") {
		t.Errorf("template variables not highlighted: first .tpl-var %q", got)
	}
	v1, _ := s.app.Prompts.Version(t.Context(), "support-answer", 1)
	edited := strings.Replace(v1.Template, "[system]\n", "[system]\nBe brief.\n", 1)
	if rec := formAs(h, "/prompts/support-answer/versions", editorForm(t, s, edited, "Brief", 1), viewer); rec.Code != http.StatusForbidden {
		t.Errorf("viewer save: %d, want 403", rec.Code)
	}

	// A template error: 400, the editor again with the text as typed and
	// the line and column.
	bad := v1.Template + "\n{{ .Nope }}"
	rec := formAs(h, "/prompts/support-answer/versions", editorForm(t, s, bad, "Broken", 1), editor)
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("bad template: %d, want 400", rec.Code)
	}
	doc = pageDoc(t, rec)
	at := doc.Find(`[data-testid="save-error-at"]`)
	if at.AttrOr("data-line", "") != strconv.Itoa(strings.Count(bad, "\n")+1) || !strings.Contains(at.Text(), "{{ .Nope }}") {
		t.Errorf("error position: line %q, text %q", at.AttrOr("data-line", ""), at.Text())
	}
	if got := doc.Find(`#ed-template`).Text(); got != bad {
		t.Errorf("the editor lost the text as typed")
	}
	// A config value out of range names its key.
	vals := editorForm(t, s, edited, "Deep", 1)
	vals.Set("top_k", "25")
	if rec := formAs(h, "/prompts/support-answer/versions", vals, editor); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "config.top_k") {
		t.Errorf("top_k 25: %d, want 400 naming config.top_k", rec.Code)
	}

	// Saved: 303 to version 2; the same content again says so.
	rec = formAs(h, "/prompts/support-answer/versions", editorForm(t, s, edited, "Brief", 1), editor)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/prompts/support-answer/versions/2?notice=saved" {
		t.Fatalf("save: %d to %q", rec.Code, rec.Header().Get("Location"))
	}
	// Two saves from the same base: the second is told who was first.
	rec = formAs(h, "/prompts/support-answer/versions", editorForm(t, s, edited+"\n", "Also brief", 1), editor)
	if rec.Code != http.StatusConflict {
		t.Fatalf("stale base: %d, want 409", rec.Code)
	}
	if href := pageDoc(t, rec).Find(`[data-testid="conflict-link"]`).AttrOr("href", ""); href != "/prompts/support-answer/versions/2" {
		t.Errorf("conflict links to %q", href)
	}

	// The diff: one added line, top_k set.
	doc = pageDoc(t, call(h, http.MethodGet, "/prompts/support-answer/diff?from=1&to=2", "", viewer))
	if got := doc.Find(`tr[data-op="+"]`).Text(); !strings.Contains(got, "Be brief.") {
		t.Errorf("added lines %q", got)
	}
	if doc.Find(`tr[data-op="-"]`).Length() != 0 {
		t.Error("the diff shows removed lines")
	}
	if got := doc.Find(`[data-testid="config-change-top_k"]`).Text(); !strings.Contains(got, "server default") || !strings.Contains(got, "4") {
		t.Errorf("top_k change %q", got)
	}

	// Moving labels: viewers are refused, editors move and split, only an
	// admin overrides.
	if rec := formAs(h, "/prompts/support-answer/labels/staging", url.Values{"version": {"2"}}, viewer); rec.Code != http.StatusForbidden {
		t.Errorf("viewer move: %d, want 403", rec.Code)
	}
	if rec := formAs(h, "/prompts/support-answer/labels/production", url.Values{"version": {"2"}, "override_reason": {"hotfix"}}, editor); rec.Code != http.StatusForbidden {
		t.Errorf("editor override: %d, want 403", rec.Code)
	}
	rec = formAs(h, "/prompts/support-answer/labels/staging", url.Values{"version": {"2"}}, editor)
	if rec.Code != http.StatusSeeOther || !strings.Contains(rec.Header().Get("Location"), "notice=moved") {
		t.Fatalf("move: %d to %q", rec.Code, rec.Header().Get("Location"))
	}
	rec = formAs(h, "/prompts/support-answer/labels", url.Values{"label": {"production"}, "split": {"1:90, 2:10"}}, editor)
	if rec.Code != http.StatusSeeOther || !strings.Contains(rec.Header().Get("Location"), "notice=moved") {
		t.Fatalf("split: %d to %q", rec.Code, rec.Header().Get("Location"))
	}
	rec = formAs(h, "/prompts/support-answer/labels", url.Values{"label": {"production"}, "split": {"1:0, 2:0"}}, editor)
	if rec.Code != http.StatusSeeOther || !strings.Contains(rec.Header().Get("Location"), "error=") {
		t.Errorf("zero split: %d to %q, want the error back on the page", rec.Code, rec.Header().Get("Location"))
	}
	doc = pageDoc(t, call(h, http.MethodGet, "/prompts/support-answer", "", editor))
	if got := doc.Find(`[data-testid="label-row-production"] [data-testid="label-target"]`).Text(); strings.TrimSpace(got) != "v1/v2 90/10" {
		t.Errorf("production shows %q, want v1/v2 90/10", got)
	}
	if got := doc.Find(`[data-testid="label-row-staging"] [data-testid="label-target"]`).Text(); strings.TrimSpace(got) != "v2" {
		t.Errorf("staging shows %q, want v2", got)
	}
	// Rollback is one click: the newest move of staging offers it.
	form := doc.Find(`[data-testid="rollback"]`).First().Closest("form")
	if form.Length() == 0 {
		t.Fatal("no rollback offered")
	}
	target := form.Find(`input[name="target"]`).AttrOr("value", "")
	rec = formAs(h, form.AttrOr("action", ""), url.Values{"target": {target}}, editor)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("rollback: %d", rec.Code)
	}
	p, err := s.store.Prompt(t.Context(), "support-answer")
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Labels["production"].String(); got != "1" {
		t.Errorf("after rolling back production points at %q, want 1", got)
	}
	if rec := formAs(h, "/prompts/support-answer/labels/production", url.Values{"version": {"2"}, "override_reason": {"hotfix"}}, admin); rec.Code != http.StatusSeeOther {
		t.Errorf("admin override: %d, want 303", rec.Code)
	}
	hist, err := s.app.Prompts.History(t.Context(), "support-answer", "production")
	if err != nil || len(hist) == 0 || hist[0].Reason != "hotfix" {
		t.Errorf("the override is not in the label history: %+v (%v)", hist, err)
	}
}

// TestPlaygroundPage answers one question with two versions side by side,
// and with a draft; a draft with a template error says where.
func TestPlaygroundPage(t *testing.T) {
	t.Parallel()
	s := sampleServer(t)
	h := s.http.Handler
	viewer, editor := keyFor(t, s, store.RoleViewer), keyFor(t, s, store.RoleEditor)
	v1, _ := s.app.Prompts.Version(t.Context(), "support-answer", 1)
	if rec := formAs(h, "/prompts/support-answer/versions", editorForm(t, s, v1.Template, "Top 4", 1), editor); rec.Code != http.StatusSeeOther {
		t.Fatalf("save v2: %d", rec.Code)
	}

	doc := pageDoc(t, call(h, http.MethodGet, "/prompts/support-answer/playground", "", viewer))
	if got := doc.Find(`#pg-a option[selected]`).AttrOr("value", ""); got != "1" {
		t.Errorf("A defaults to %q, want production's 1", got)
	}
	if got := doc.Find(`#pg-b option[selected]`).AttrOr("value", ""); got != "2" {
		t.Errorf("B defaults to %q, want the latest 2", got)
	}
	rec := formAs(h, "/prompts/support-answer/playground", url.Values{"question": {"How do I cancel my subscription?"}, "a": {"1"}, "b": {"2"}}, viewer)
	if rec.Code != http.StatusOK {
		t.Fatalf("playground: %d %s", rec.Code, rec.Body)
	}
	doc = pageDoc(t, rec)
	arms := doc.Find(`[data-testid="arm"]`)
	if arms.Length() != 2 || arms.Eq(0).AttrOr("data-prompt", "") != "support-answer@1" || arms.Eq(1).AttrOr("data-prompt", "") != "support-answer@2" {
		t.Fatalf("arms: %d", arms.Length())
	}
	if n1, n2 := arms.Eq(0).Find(".passages li").Length(), arms.Eq(1).Find(".passages li").Length(); n2 != 4 || n1 <= n2 {
		t.Errorf("retrieved %d and %d passages, want v2's top_k 4 fewer than v1's", n1, n2)
	}
	if !strings.Contains(arms.Eq(1).Find(".rendered").Text(), "How do I cancel my subscription?") {
		t.Error("the rendered prompt lacks the question")
	}
	for i := range 2 {
		if strings.TrimSpace(arms.Eq(i).Find(`[data-testid="arm-answer"]`).Text()) == "" {
			t.Errorf("arm %d has no answer", i)
		}
	}

	// A draft with a template error: 400 and the line.
	vals := url.Values{"question": {"How do I cancel?"}, "a": {"1"}, "b": {"draft"}, "template": {v1.Template + "\n{{ .Nope }}"}, "variables": {"Question, Context"}}
	rec = formAs(h, "/prompts/support-answer/playground", vals, viewer)
	if rec.Code != http.StatusBadRequest || !strings.Contains(pageDoc(t, rec).Find(`[data-testid="playground-error"]`).Text(), "{{ .Nope }}") {
		t.Errorf("bad draft: %d", rec.Code)
	}
	vals.Set("template", strings.Replace(v1.Template, "[system]\n", "[system]\nDraft line.\n", 1))
	rec = formAs(h, "/prompts/support-answer/playground", vals, viewer)
	if rec.Code != http.StatusOK {
		t.Fatalf("draft: %d", rec.Code)
	}
	doc = pageDoc(t, rec)
	if got := doc.Find(`[data-testid="arm"]`).Eq(1).AttrOr("data-prompt", ""); got != "support-answer@draft" {
		t.Errorf("draft arm is %q", got)
	}
	if !strings.Contains(doc.Find(`.rendered`).Eq(1).Text(), "Draft line.") {
		t.Error("the draft's rendered prompt lacks its line")
	}
	// Only the answer prompt has a playground.
	if rec := call(h, http.MethodGet, "/prompts/fallback-message/playground", "", viewer); rec.Code != http.StatusBadRequest {
		t.Errorf("fallback-message playground: %d, want 400", rec.Code)
	}
}

// TestPromptGatePages sets the eval gate through its form, sees the
// verdict refuse a version without a run, starts "Run the gate", and is
// refused a production move until then.
func TestPromptGatePages(t *testing.T) {
	t.Parallel()
	s := sampleServer(t)
	h := s.http.Handler
	editor := keyFor(t, s, store.RoleEditor)
	sets, err := s.store.TestSets(t.Context())
	if err != nil || len(sets) == 0 {
		t.Fatalf("sample test sets: %v (%v)", sets, err)
	}
	gate := func(vals url.Values) *httptest.ResponseRecorder {
		return formAs(h, "/prompts/support-answer/gate", vals, editor)
	}
	for _, bad := range []string{"nonsense>=1", "faithfulness>=x", "faithfulness"} {
		if rec := gate(url.Values{"set_id": {sets[0].ID}, "thresholds": {bad}}); !strings.Contains(rec.Header().Get("Location"), "error=") {
			t.Errorf("thresholds %q: %d to %q, want the error back", bad, rec.Code, rec.Header().Get("Location"))
		}
	}
	if rec := gate(url.Values{"set_id": {sets[0].ID}}); !strings.Contains(rec.Header().Get("Location"), "error=") {
		t.Errorf("a gate with no bar: %q, want an error", rec.Header().Get("Location"))
	}
	if rec := gate(url.Values{"set_id": {sets[0].ID}, "thresholds": {"hit@5>=0.5"}}); rec.Header().Get("Location") != "/prompts/support-answer?notice=gate" {
		t.Fatalf("set gate: %d to %q", rec.Code, rec.Header().Get("Location"))
	}
	v1, _ := s.app.Prompts.Version(t.Context(), "support-answer", 1)
	if rec := formAs(h, "/prompts/support-answer/versions", editorForm(t, s, v1.Template, "Top 4", 1), editor); rec.Code != http.StatusSeeOther {
		t.Fatalf("save v2: %d", rec.Code)
	}
	doc := pageDoc(t, call(h, http.MethodGet, "/prompts/support-answer", "", editor))
	if v := doc.Find(`[data-testid="gate-verdict"]`); v.AttrOr("data-pass", "") != "false" || !strings.Contains(v.Text(), "v2") {
		t.Errorf("verdict on v2 %q (pass %q), want a refusal", v.Text(), v.AttrOr("data-pass", ""))
	}
	if got := doc.Find(`#gate-thresholds`).AttrOr("value", ""); got != "hit@5>=0.5" {
		t.Errorf("the gate form shows %q", got)
	}
	if rec := formAs(h, "/prompts/support-answer/labels/production", url.Values{"version": {"2"}}, editor); !strings.Contains(rec.Header().Get("Location"), "error=") {
		t.Errorf("promotion without a run: %q, want the gate's refusal", rec.Header().Get("Location"))
	}
	rec := formAs(h, "/prompts/support-answer/gate/run", url.Values{"version": {"2"}}, editor)
	loc := rec.Header().Get("Location")
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(loc, "/evals/runs/") {
		t.Fatalf("run the gate: %d to %q", rec.Code, loc)
	}
	run, err := s.store.Run(t.Context(), strings.TrimPrefix(loc, "/evals/runs/"))
	if err != nil || run.Settings.Prompt != "support-answer@2" {
		t.Errorf("gate run %+v (%v), want one at support-answer@2", run, err)
	}
	// Turning it off.
	if rec := gate(url.Values{"set_id": {""}}); rec.Header().Get("Location") != "/prompts/support-answer?notice=gate" {
		t.Errorf("gate off: %q", rec.Header().Get("Location"))
	}
	if p, _ := s.store.Prompt(t.Context(), "support-answer"); p.Gate != nil {
		t.Errorf("gate still %+v", p.Gate)
	}
}
