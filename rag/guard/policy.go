package guard

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	gtext "github.com/yuin/goldmark/text"
)

// Policy is the output policy an answer is held to before anyone sees it:
// links and images only to allowed domains, no blocked terms, no trace of
// the system prompt (its canary), and no raw HTML. Answers are Markdown
// that the chat and widget render (assets/widget.js escapes HTML first);
// the policy works on the Markdown itself so that the stored answer, the
// API's answer and every renderer get the same cleaned text.
type Policy struct {
	AllowedDomains []string
	BlockedTerms   []string
	Canary         string
}

// markdown parses answers the way CommonMark + GFM autolinks read them,
// so a link hidden in a reference definition or an autolink is seen.
var markdown = goldmark.New(goldmark.WithExtensions(extension.Linkify))

// strict is bluemonday's policy that allows no HTML at all: raw HTML in an
// answer becomes its text.
var strict = bluemonday.StrictPolicy()

var (
	mdLinkRe  = regexp.MustCompile(`(!?)\[([^\]\n]*)\]\(\s*<?((?:[^()\s>]|\([^()\s]*\))*)>?(?:\s+(?:"[^"\n]*"|'[^'\n]*'))?\s*\)`)
	refDefRe  = regexp.MustCompile(`(?m)^ {0,3}\[[^\]\n]+\]:[ \t]*<?(\S+?)>?(?:[ \t]+.*)?$`)
	bareURLRe = regexp.MustCompile(`(?i)\b(?:https?://|www\.)[^\s<>()\[\]"'` + "`" + `]+`)
)

// Apply returns text cleaned of what the policy forbids, the reasons (none
// when text complies), and whether the canary leaked (the answer must be
// withheld whole).
func (p Policy) Apply(text string) (cleaned string, reasons []string, leak bool) {
	if p.Canary != "" && strings.Contains(text, p.Canary) {
		return text, []string{"reveals the system prompt (canary found)"}, true
	}
	src := []byte(text)
	doc := markdown.Parser().Parse(gtext.NewReader(src))
	var bad []string // disallowed destinations
	var html [][2]int
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Link:
			if !p.allowed(string(n.Destination)) {
				bad = append(bad, string(n.Destination))
			}
		case *ast.Image:
			if !p.allowed(string(n.Destination)) {
				bad = append(bad, string(n.Destination))
			}
		case *ast.AutoLink:
			if u := string(n.URL(src)); n.AutoLinkType == ast.AutoLinkURL && !p.allowed(u) {
				bad = append(bad, u)
			}
		case *ast.RawHTML:
			for i := 0; i < n.Segments.Len(); i++ {
				s := n.Segments.At(i)
				html = append(html, [2]int{s.Start, s.Stop})
			}
		case *ast.HTMLBlock:
			for i := 0; i < n.Lines().Len(); i++ {
				s := n.Lines().At(i)
				html = append(html, [2]int{s.Start, s.Stop})
			}
			if n.HasClosure() {
				html = append(html, [2]int{n.ClosureLine.Start, n.ClosureLine.Stop})
			}
		}
		return ast.WalkContinue, nil
	})
	out := text
	if len(html) > 0 {
		// Replace from the end so earlier offsets stay valid.
		slices.SortFunc(html, func(a, b [2]int) int { return b[0] - a[0] })
		for _, r := range html {
			out = out[:r[0]] + strict.Sanitize(out[r[0]:r[1]]) + out[r[1]:]
		}
		reasons = append(reasons, "raw HTML removed")
	}
	if len(bad) > 0 {
		out = p.removeLinks(out)
		hosts := []string{}
		for _, b := range bad {
			if h := host(b); !slices.Contains(hosts, h) {
				hosts = append(hosts, h)
			}
		}
		reasons = append(reasons, "links outside the allowed domains: "+strings.Join(hosts, ", "))
	}
	if terms := p.blocked(out); len(terms) > 0 {
		re := p.termsRe()
		// Twice: a match takes the separator that the next one needs.
		out = re.ReplaceAllString(re.ReplaceAllString(out, "${1}[removed]${3}"), "${1}[removed]${3}")
		reasons = append(reasons, "blocked terms: "+strings.Join(terms, ", "))
	}
	return out, reasons, false
}

// removeLinks drops disallowed images, keeps a disallowed link's text,
// and removes disallowed bare URLs and reference definitions.
func (p Policy) removeLinks(s string) string {
	s = mdLinkRe.ReplaceAllStringFunc(s, func(m string) string {
		sm := mdLinkRe.FindStringSubmatch(m)
		if p.allowed(sm[3]) {
			return m
		}
		if sm[1] == "!" {
			return ""
		}
		return sm[2]
	})
	s = refDefRe.ReplaceAllStringFunc(s, func(m string) string {
		if p.allowed(refDefRe.FindStringSubmatch(m)[1]) {
			return m
		}
		return ""
	})
	return bareURLRe.ReplaceAllStringFunc(s, func(m string) string {
		u := strings.TrimRight(m, ".,;:!?")
		if p.allowed(u) {
			return m
		}
		return "[link removed]" + m[len(u):]
	})
}

// allowed reports whether a link destination may stay: relative links
// and anchors, and absolute http(s) links to an allowed domain or one of
// its subdomains. Any other scheme (javascript:, data:) is refused.
func (p Policy) allowed(dest string) bool {
	dest = strings.TrimSpace(dest)
	if strings.HasPrefix(strings.ToLower(dest), "www.") {
		dest = "http://" + dest
	}
	u, err := url.Parse(dest)
	if err != nil {
		return false
	}
	if u.Scheme == "" && u.Host == "" {
		return !strings.HasPrefix(dest, "//")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return false
	}
	h := strings.ToLower(u.Hostname())
	for _, d := range p.AllowedDomains {
		if h == d || strings.HasSuffix(h, "."+d) {
			return true
		}
	}
	return false
}

func host(dest string) string {
	if strings.HasPrefix(strings.ToLower(dest), "www.") {
		dest = "http://" + dest
	}
	if u, err := url.Parse(dest); err == nil && u.Host != "" {
		return u.Hostname()
	}
	return dest
}

// termsRe matches any blocked term as a whole word (letters and digits on
// neither side), in any case.
func (p Policy) termsRe() *regexp.Regexp {
	key := strings.Join(p.BlockedTerms, "\x00")
	if re, ok := termsCache.Load(key); ok {
		return re.(*regexp.Regexp)
	}
	alts := make([]string, len(p.BlockedTerms))
	for i, t := range p.BlockedTerms {
		alts[i] = regexp.QuoteMeta(t)
	}
	re := regexp.MustCompile(`(?i)(^|[^\p{L}\p{N}])(` + strings.Join(alts, "|") + `)($|[^\p{L}\p{N}])`)
	termsCache.Store(key, re)
	return re
}

// termsCache keeps the compiled expression of each blocked-term list:
// compiling it cost more than checking an answer. Lists change only when
// an admin saves the Guardrails page.
var termsCache sync.Map

// blocked lists the blocked terms text contains.
func (p Policy) blocked(text string) []string {
	if len(p.BlockedTerms) == 0 {
		return nil
	}
	var out []string
	for _, m := range p.termsRe().FindAllStringSubmatch(text, -1) {
		if t := strings.ToLower(m[2]); !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}
