package prompt

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"
	"unicode/utf8"

	"llmops/store"
)

// Message is one rendered chat message.
type Message struct {
	Role    string `json:"role"` // system or user
	Content string `json:"content"`
}

// Role markers: a line that is exactly "[system]" or "[user]" starts a
// message of that role in a template. A template without markers is one
// user message (or, for a plain text such as the fallback message, just
// the text). Markers are read from the template's source, never from what
// it renders, so a passage that contains "[system]" stays inside its
// message.
const (
	RoleSystem = "system"
	RoleUser   = "user"
)

// TemplateError is a template that does not parse, uses a variable it
// does not declare, or lacks one its prompt requires. Line and Column
// are 1-based, in the whole template text.
type TemplateError struct {
	Line, Column int
	Msg          string
}

func (e *TemplateError) Error() string {
	return fmt.Sprintf("template line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

// storeError is e as the store's EINVALID, keeping e in the chain.
func (e *TemplateError) storeError() error {
	return &invalidTemplate{Err: store.Errorf(store.EINVALID, "%s", e.Error()), T: e}
}

// invalidTemplate is an EINVALID store error that still carries the
// position (errors.As finds either).
type invalidTemplate struct {
	Err *store.Error
	T   *TemplateError
}

func (e *invalidTemplate) Error() string   { return e.Err.Message }
func (e *invalidTemplate) Unwrap() []error { return []error{e.Err, e.T} }

// section is one message of a compiled template.
type section struct {
	role string
	t    *template.Template
}

// splitSections cuts a template's source at its role markers. Each
// section remembers the line it starts on, for error positions.
func splitSections(text string) (roles, bodies []string, firstLines []int) {
	lines := strings.SplitAfter(text, "\n")
	role, start := "", 1
	var cur strings.Builder
	flush := func() {
		if role == "" && strings.TrimSpace(cur.String()) == "" && len(bodies) == 0 {
			cur.Reset()
			return
		}
		roles, bodies, firstLines = append(roles, role), append(bodies, cur.String()), append(firstLines, start)
		cur.Reset()
	}
	for i, l := range lines {
		switch strings.TrimSpace(l) {
		case "[" + RoleSystem + "]", "[" + RoleUser + "]":
			flush()
			role, start = strings.Trim(strings.TrimSpace(l), "[]"), i+2
			continue
		}
		cur.WriteString(l)
	}
	flush()
	for i := range bodies {
		// The newline before the next marker belongs to neither.
		bodies[i] = strings.TrimSuffix(bodies[i], "\n")
		if roles[i] == "" {
			roles[i] = RoleUser
		}
	}
	return roles, bodies, firstLines
}

// compile parses text for spec and checks its variables: every root
// field it uses must be declared, and every variable spec requires must
// be used. It also renders spec's sample data once, so a template that
// parses but cannot execute (a field a passage does not have) is refused
// at save time, not at the first ask.
func compile(spec *Spec, text string, declared []string) ([]section, error) {
	if !utf8.ValidString(text) {
		return nil, store.Errorf(store.EINVALID, "template is not valid UTF-8")
	}
	if len(text) > store.MaxPromptTemplate {
		return nil, store.Errorf(store.EINVALID, "template is %d bytes; the limit is %d", len(text), store.MaxPromptTemplate)
	}
	if strings.TrimSpace(text) == "" {
		return nil, (&TemplateError{Line: 1, Column: 1, Msg: "template is empty"}).storeError()
	}
	for _, v := range declared {
		if !slices.Contains(spec.Variables, v) {
			return nil, store.Errorf(store.EINVALID, "variables: %s is not something %s provides (it provides %s)", v, spec.Name, strings.Join(spec.Variables, ", "))
		}
	}
	roles, bodies, firstLines := splitSections(text)
	used := map[string]bool{}
	var out []section
	for i, body := range bodies {
		t, err := template.New(spec.Name).Option("missingkey=error").Funcs(spec.Funcs).Parse(body)
		if err != nil {
			return nil, parseError(err, body, firstLines[i]).storeError()
		}
		for _, tt := range t.Templates() {
			if tt.Tree == nil {
				continue
			}
			if err := checkFields(tt.Tree.Root, true, declared, used, body, firstLines[i]); err != nil {
				return nil, err.storeError()
			}
		}
		out = append(out, section{role: roles[i], t: t})
	}
	for _, v := range spec.Required {
		if !used[v] {
			line := strings.Count(text, "\n") + 1
			col := utf8.RuneCountInString(text[strings.LastIndex(text, "\n")+1:]) + 1
			return nil, (&TemplateError{Line: line, Column: col, Msg: fmt.Sprintf("the template never uses {{.%s}}, which %s needs (%s)", v, spec.Name, spec.describe(v))}).storeError()
		}
	}
	if spec.Sample != nil {
		for i, s := range out {
			if err := s.t.Execute(&bytes.Buffer{}, spec.Sample); err != nil {
				return nil, execError(err, bodies[i], firstLines[i]).storeError()
			}
		}
	}
	return out, nil
}

// checkFields walks a parse tree. root says whether dot is the template's
// data there (inside range and with it is something else).
func checkFields(n parse.Node, root bool, declared []string, used map[string]bool, body string, firstLine int) *TemplateError {
	check := func(name string, pos parse.Pos) *TemplateError {
		if !slices.Contains(declared, name) {
			line, col := position(body, int(pos), firstLine)
			return &TemplateError{Line: line, Column: col, Msg: fmt.Sprintf("{{.%s}} is not a declared variable (declared: %s)", name, strings.Join(declared, ", "))}
		}
		used[name] = true
		return nil
	}
	var walk func(n parse.Node, root bool) *TemplateError
	walkPipe := func(p *parse.PipeNode, root bool) *TemplateError {
		if p == nil {
			return nil
		}
		for _, c := range p.Cmds {
			for _, a := range c.Args {
				if err := walk(a, root); err != nil {
					return err
				}
			}
		}
		return nil
	}
	walk = func(n parse.Node, root bool) *TemplateError {
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return nil
			}
			for _, c := range n.Nodes {
				if err := walk(c, root); err != nil {
					return err
				}
			}
		case *parse.ActionNode:
			return walkPipe(n.Pipe, root)
		case *parse.PipeNode:
			return walkPipe(n, root)
		case *parse.FieldNode:
			if root {
				return check(n.Ident[0], n.Pos)
			}
		case *parse.VariableNode:
			if len(n.Ident) > 1 && n.Ident[0] == "$" {
				return check(n.Ident[1], n.Pos)
			}
		case *parse.ChainNode:
			return walk(n.Node, root)
		case *parse.IfNode:
			return walkBranch(walk, walkPipe, &n.BranchNode, root, root)
		case *parse.RangeNode:
			return walkBranch(walk, walkPipe, &n.BranchNode, root, false)
		case *parse.WithNode:
			return walkBranch(walk, walkPipe, &n.BranchNode, root, false)
		case *parse.TemplateNode:
			return walkPipe(n.Pipe, root)
		}
		return nil
	}
	return walk(n, root)
}

func walkBranch(walk func(parse.Node, bool) *TemplateError, walkPipe func(*parse.PipeNode, bool) *TemplateError, b *parse.BranchNode, root, inner bool) *TemplateError {
	if err := walkPipe(b.Pipe, root); err != nil {
		return err
	}
	if b.List != nil {
		if err := walk(b.List, inner); err != nil {
			return err
		}
	}
	if b.ElseList != nil {
		return walk(b.ElseList, root)
	}
	return nil
}

// position turns a byte offset in body into a line and column of the
// whole template.
func position(body string, off, firstLine int) (int, int) {
	off = min(max(off, 0), len(body))
	before := body[:off]
	line := strings.Count(before, "\n")
	col := utf8.RuneCountInString(before[strings.LastIndex(before, "\n")+1:]) + 1
	return firstLine + line, col
}

// text/template reports "template: NAME:LINE: msg" when parsing and
// "template: NAME:LINE:COL: executing ..." when executing.
var (
	parseErrRE = regexp.MustCompile(`^template: [^:]*:(\d+): (.*)$`)
	execErrRE  = regexp.MustCompile(`^template: [^:]*:(\d+):(\d+): (.*)$`)
	quotedRE   = regexp.MustCompile(`"([^"]+)"`)
)

// parseError places a parse error. The parser reports only a line; the
// column is that of the quoted token the message names, if it is on the
// line, else of the line's first action.
func parseError(err error, body string, firstLine int) *TemplateError {
	m := parseErrRE.FindStringSubmatch(err.Error())
	if m == nil {
		return &TemplateError{Line: firstLine, Column: 1, Msg: strings.TrimPrefix(err.Error(), "template: ")}
	}
	n, _ := strconv.Atoi(m[1])
	msg := m[2]
	lines := strings.Split(body, "\n")
	col := 1
	if n >= 1 && n <= len(lines) {
		l := lines[n-1]
		i := -1
		if q := quotedRE.FindStringSubmatch(msg); q != nil {
			i = strings.Index(l, strings.Trim(q[1], "{} "))
		}
		if i < 0 {
			i = strings.Index(l, "{{")
		}
		if i >= 0 {
			col = utf8.RuneCountInString(l[:i]) + 1
		}
	}
	return &TemplateError{Line: firstLine + n - 1, Column: col, Msg: msg}
}

func execError(err error, body string, firstLine int) *TemplateError {
	m := execErrRE.FindStringSubmatch(err.Error())
	if m == nil {
		return &TemplateError{Line: firstLine, Column: 1, Msg: strings.TrimPrefix(err.Error(), "template: ")}
	}
	line, _ := strconv.Atoi(m[1])
	col, _ := strconv.Atoi(m[2])
	msg := m[3]
	if i := strings.Index(msg, ": "); strings.HasPrefix(msg, "executing") && i >= 0 {
		msg = msg[i+2:]
	}
	return &TemplateError{Line: firstLine + line - 1, Column: col + 1, Msg: msg}
}
