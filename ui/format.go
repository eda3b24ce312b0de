package ui

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Latency formats a duration the way every page shows it: 850ms, 1.2s,
// 3m 5s; "--" when missing.
func Latency(d time.Duration) string {
	switch {
	case d <= 0:
		return "--"
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	}
	m := int(d / time.Minute)
	s := int((d % time.Minute) / time.Second)
	return fmt.Sprintf("%dm %ds", m, s)
}

// Cost formats US dollars: $0, <$0.01, $1.23.
func Cost(usd float64) string {
	switch {
	case usd == 0:
		return "$0"
	case usd < 0.01:
		return "<$0.01"
	}
	return "$" + Count(int64(math.Floor(usd))) + fmt.Sprintf("%.2f", usd-math.Floor(usd))[1:]
}

// Count formats a count with thousands separators, and as 1.2M past a
// million.
func Count[T ~int | ~int64](n T) string {
	v := int64(n)
	if v >= 1_000_000 || v <= -1_000_000 {
		return strconv.FormatFloat(float64(v)/1e6, 'f', 1, 64) + "M"
	}
	s := strconv.FormatInt(v, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Tokens formats token usage as "in → out (Σ total)".
func Tokens(in, out int) string {
	if in == 0 && out == 0 {
		return "--"
	}
	return fmt.Sprintf("%s → %s (Σ %s)", Count(in), Count(out), Count(in+out))
}

// Ago formats how long before now t was: "just now", "5m ago", "3h ago",
// "2d ago", then the date. Zero times are "--".
func Ago(t, now time.Time) string {
	if t.IsZero() {
		return "--"
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d/time.Minute))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh ago", int(d/time.Hour))
	case d < 30*24*time.Hour:
		return fmt.Sprintf("%dd ago", int(d/(24*time.Hour)))
	}
	return t.Format("2 Jan 2006")
}

// Stamp formats an absolute time for tooltips and tables.
func Stamp(t time.Time) string {
	if t.IsZero() {
		return "--"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// Or returns s, or "--" when s is empty.
func Or(s string) string {
	if strings.TrimSpace(s) == "" {
		return "--"
	}
	return s
}

// Bytes formats a size: 512 B, 12 KB, 1.4 MB.
func Bytes(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 1_000_000:
		return fmt.Sprintf("%.0f KB", float64(n)/1e3)
	case n < 1_000_000_000:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%.1f GB", float64(n)/1e9)
}

// Percent formats done/total as a whole percentage.
func Percent(done, total int) string {
	if total <= 0 {
		return "0%"
	}
	return fmt.Sprintf("%d%%", done*100/total)
}

// Plural formats a count with its noun: "1 chunk", "3 chunks".
func Plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return Count(n) + " " + many
}

// RelevanceFloor is the relevance below which an answer falls back
// (rag/answer.DefaultMinRelevance; a test there keeps the two equal).
const RelevanceFloor = 0.1

// ExtractiveModel is the model name traces record for the offline
// extractive answerer (rag/assistant.ExtractiveName).
const ExtractiveModel = "extractive"

// RelevanceBand places a relevance score: below RelevanceFloor "error"
// (such an answer falls back), below one half "warn" (it states part of
// what was asked), else "ok". assets/chat.js draws the same bands.
func RelevanceBand(r float64) string {
	switch {
	case r >= 0.5:
		return "ok"
	case r >= RelevanceFloor:
		return "warn"
	}
	return "error"
}

// GroundednessBand places a groundedness score against the threshold
// answers are held to: below it "error" (such an answer falls back), in
// the lower half of what is left above it "warn", else "ok". With the
// default 0.6 the bands are < 0.6, 0.6–0.8 and ≥ 0.8. assets/chat.js
// draws the same bands.
func GroundednessBand(g, threshold float64) string {
	switch {
	case g >= threshold+(1-threshold)/2:
		return "ok"
	case g >= threshold:
		return "warn"
	}
	return "error"
}

// ActorLabel shows a stored actor ("user:ada@example.com", "key:CI gate")
// as people read it: the person's address, or which key.
func ActorLabel(actor string) string {
	kind, name, ok := strings.Cut(actor, ":")
	switch {
	case !ok || name == "":
		return Or(actor)
	case kind == "user":
		return name
	case kind == "key":
		return "API key “" + name + "”"
	}
	return name + " (" + kind + ")"
}
