package ui

import (
	"strings"
	"testing"
	"time"
)

func TestLabelTargets(t *testing.T) {
	tests := []struct {
		stored string
		want   string
	}{
		{"", "--"},
		{"3", "v3"},
		{"3:90,4:10", "v3/v4 90/10"},
		{"1:1,2:1,3:1", "v1/v2/v3 34/33/33"},
		{"1:0,2:5", "v1/v2 0/100"},
	}
	for _, tc := range tests {
		if got := labelTargetText(tc.stored); got != tc.want {
			t.Errorf("labelTargetText(%q) = %q, want %q", tc.stored, got, tc.want)
		}
	}
	split := LabelChip{Split: []SplitArm{{Version: 1, Weight: 90}, {Version: 2, Weight: 0}}}
	if !split.Points(1) || split.Points(2) {
		t.Errorf("a 90/0 split points at 1: %v, at 2: %v; want true, false", split.Points(1), split.Points(2))
	}
}

func TestTemplateLines(t *testing.T) {
	lines := TemplateLines("[system]\nHi {{.Question}} and {{range .Context}}\n{{ .Text\n}} done")
	if len(lines) != 4 {
		t.Fatalf("%d lines, want 4", len(lines))
	}
	kinds := func(l TplLine) string {
		var b strings.Builder
		for _, s := range l.Segs {
			b.WriteString("<" + s.Kind + ":" + s.Text + ">")
		}
		return b.String()
	}
	want := []string{
		"<role:[system]>",
		"<:Hi ><action:{{><var:.Question><action:}}><: and ><action:{{range ><var:.Context><action:}}>",
		"<action:{{ ><var:.Text>",
		"<action:}}><: done>",
	}
	for i, w := range want {
		if got := kinds(lines[i]); got != w {
			t.Errorf("line %d = %s, want %s", i+1, got, w)
		}
	}
}

// TestPromptPageRendering: the page a viewer sees has no forms that
// change anything; an editor's has the moves and the split; the gate's
// verdict and the override (admins only) show when a gate is set.
func TestPromptPageRendering(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	labels := []LabelChip{{Label: "production", Version: 1, Live: true}, {Label: "staging", Split: []SplitArm{{1, 90}, {2, 10}}}}
	p := PromptPage{Chrome: Chrome{Title: "Prompt", Active: "prompts", Viewer: admin}, Env: "production", Now: now,
		Prompt:   PromptRow{Name: "support-answer", Latest: 2, Labels: labels},
		Versions: []PromptVersionRow{{Version: 2, Message: "Brief", Labels: []string{"staging"}}, {Version: 1, Message: "Built-in", Labels: []string{"production", "staging"}}},
		Labels:   []PromptLabelRow{{LabelChip: labels[0], Gated: true}, {LabelChip: labels[1]}},
		History:  []LabelMoveRow{{Label: "staging", From: "1", To: "1:90,2:10", Actor: "maya", Time: now}},
		Gate: &GateView{On: true, SetName: "Regressions", Thresholds: []GateMin{{Metric: "faithfulness", Min: 0.8}},
			Verdict: &GateVerdict{Version: 2, Reason: "no finished run of v2 on Regressions"}},
	}
	doc, _ := renderDoc(t, PromptView(p))
	if doc.Find(`form`).Length() != 1 { // sign out only
		t.Errorf("a viewer's page has %d forms, want only sign-out", doc.Find(`form`).Length())
	}
	if got := strings.TrimSpace(doc.Find(`[data-testid="label-row-staging"] [data-testid="label-target"]`).Text()); got != "v1/v2 90/10" {
		t.Errorf("staging target %q", got)
	}
	if got := doc.Find(`[data-testid="gate-verdict"]`).Text(); !strings.Contains(got, "v2 does not pass") {
		t.Errorf("gate verdict %q", got)
	}
	p.CanEdit, p.IsAdmin = true, true
	doc, _ = renderDoc(t, PromptView(p))
	for _, sel := range []string{`[data-testid="move-production"]`, `[data-testid="move-staging"]`, `[data-testid="split-form"]`, `[data-testid="override-form"]`, `[data-testid="rollback"]`, `[data-testid="run-gate"]`, `[data-testid="gate-form"]`} {
		if doc.Find(sel).Length() != 1 {
			t.Errorf("an admin's page lacks %s", sel)
		}
	}
	if got := doc.Find(`[data-testid="rollback"]`).Closest("form").Find(`input[name="target"]`).AttrOr("value", ""); got != "1" {
		t.Errorf("rollback target %q, want 1", got)
	}
	p.IsAdmin = false
	doc, _ = renderDoc(t, PromptView(p))
	if doc.Find(`[data-testid="override-form"]`).Length() != 0 {
		t.Error("an editor is offered the gate override")
	}
}
