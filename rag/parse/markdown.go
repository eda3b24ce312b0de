package parse

import (
	"context"
	"strconv"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	extast "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// maxBlockDepth is how deep the Markdown walker recurses into nested block
// quotes and lists before it flattens the rest of a subtree into one
// paragraph: enough for any real document, and a fixed stack cost for
// hostile ones (a million ">" in a row).
const maxBlockDepth = 32

// parseMarkdown reads Markdown with goldmark's CommonMark parser and the GFM
// table extension. Front matter gives Meta and the title; each heading
// starts a Section; code blocks and tables become Sections of their own.
// Large or pathological input is first split and tamed (markdownguard.go).
func parseMarkdown(ctx context.Context, name string, data []byte, lim Limits) (*Document, error) {
	src, err := decodeText(data)
	if err != nil {
		return nil, err
	}
	meta := map[string]string{}
	if front, body, ok := splitFrontMatter(src); ok {
		meta = parseFrontMatter(front)
		src = body
	}
	md := goldmark.New(goldmark.WithExtensions(extension.Table, extension.Strikethrough))
	w := &mdWalker{b: newSectionBuilder(ctx, lim)}
	for _, piece := range splitMarkdown(src) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		w.src = []byte(piece)
		w.blocks(md.Parser().Parse(text.NewReader(w.src)), 0)
	}
	sections, err := w.b.done()
	if err != nil {
		return nil, err
	}
	title := meta["title"]
	if title == "" {
		title = w.firstH1
	}
	return &Document{Title: title, Meta: meta, Sections: sections}, nil
}

// mdWalker feeds goldmark's block tree to a sectionBuilder.
type mdWalker struct {
	b       *sectionBuilder
	src     []byte
	firstH1 string
}

func (w *mdWalker) blocks(parent ast.Node, depth int) {
	for n := parent.FirstChild(); n != nil && w.b.err == nil; n = n.NextSibling() {
		w.block(n, depth)
	}
}

func (w *mdWalker) block(n ast.Node, depth int) {
	switch n := n.(type) {
	case *ast.Heading:
		heading := inlineText(n, w.src)
		if n.Level == 1 && w.firstH1 == "" {
			w.firstH1 = cleanLine(heading)
		}
		w.b.heading(n.Level, heading)
	case *ast.Paragraph, *ast.TextBlock:
		w.b.paragraph(inlineText(n, w.src))
	case *ast.FencedCodeBlock, *ast.CodeBlock:
		w.b.code(string(n.Lines().Value(w.src)))
	case *extast.Table:
		w.table(n)
	case *ast.List:
		w.list(n, 0, depth)
	case *ast.HTMLBlock:
		w.b.paragraph(htmlFragmentText(string(n.Lines().Value(w.src))))
	case *ast.ThematicBreak:
	default: // block quotes and any container an extension adds
		if depth >= maxBlockDepth {
			w.b.paragraph(inlineText(n, w.src))
			return
		}
		w.blocks(n, depth+1)
	}
}

// list writes one line per item ("- text" or "3. text"), indenting nested
// lists by two spaces. Code blocks and tables inside items become their own
// Sections, as everywhere else.
func (w *mdWalker) list(l *ast.List, indent, depth int) {
	if depth >= maxBlockDepth {
		w.b.paragraph(inlineText(l, w.src))
		return
	}
	num := l.Start
	for item := l.FirstChild(); item != nil; item = item.NextSibling() {
		marker := "-"
		if l.IsOrdered() {
			marker = strconv.Itoa(num) + "."
			num++
		}
		var text []string
		emit := func() {
			if len(text) > 0 {
				if marker == "" {
					w.b.listItem(indent+1, "", strings.Join(text, " "))
				} else {
					w.b.listItem(indent, marker, strings.Join(text, " "))
				}
				text, marker = nil, ""
			}
		}
		for c := item.FirstChild(); c != nil; c = c.NextSibling() {
			switch c := c.(type) {
			case *ast.Paragraph, *ast.TextBlock:
				text = append(text, inlineText(c, w.src))
			case *ast.List:
				emit()
				w.list(c, indent+1, depth+1)
			default:
				emit()
				w.block(c, depth+1)
			}
		}
		emit()
	}
}

func (w *mdWalker) table(t *extast.Table) {
	var rows [][]string
	for r := t.FirstChild(); r != nil; r = r.NextSibling() { // the header, then the rows
		var cells []string
		for c := r.FirstChild(); c != nil; c = c.NextSibling() {
			cells = append(cells, inlineText(c, w.src))
		}
		rows = append(rows, cells)
	}
	w.b.table(rows)
}

// inlineText returns the text a reader sees in n: link text without the
// URL, code spans with their code, escapes and entities resolved, soft line
// breaks as spaces. Nested blocks (when a subtree is flattened) are
// separated by newlines. It walks without recursion.
func inlineText(root ast.Node, src []byte) string {
	var b strings.Builder
	walkAST(root, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Text:
			v := n.Value(src)
			if !n.IsRaw() {
				v = util.ResolveEntityNames(util.ResolveNumericReferences(util.UnescapePunctuations(v)))
			}
			b.Write(v)
			switch {
			case n.HardLineBreak():
				b.WriteByte('\n')
			case n.SoftLineBreak():
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(n.Value)
		case *ast.AutoLink:
			b.Write(n.Label(src))
		case *ast.RawHTML:
			return false
		case *ast.FencedCodeBlock, *ast.CodeBlock, *ast.HTMLBlock:
			b.WriteByte('\n')
			b.Write(n.Lines().Value(src))
			return false
		default:
			if n.Type() == ast.TypeBlock {
				b.WriteByte('\n')
			}
		}
		return true
	})
	return b.String()
}

// walkAST visits the descendants of root in document order. visit returns
// false to skip a node's children. It keeps no stack, so input nested a
// million levels deep costs no more than flat input.
func walkAST(root ast.Node, visit func(ast.Node) bool) {
	n := root.FirstChild()
	for n != nil {
		if visit(n) && n.FirstChild() != nil {
			n = n.FirstChild()
			continue
		}
		for n != root && n.NextSibling() == nil {
			n = n.Parent()
		}
		if n == root {
			return
		}
		n = n.NextSibling()
	}
}
