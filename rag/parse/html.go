package parse

import (
	"context"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// parseHTML reads a web page with x/net/html's tokenizer, in two streaming
// passes and without building a DOM: the first finds the title, the
// <meta name> tags and the main content element; the second extracts that
// element's text, leaving out site boilerplate. Memory beyond the input is
// the output plus a stack of open elements.
func parseHTML(ctx context.Context, name string, data []byte, lim Limits) (*Document, error) {
	src, err := decodeTextBytes(data)
	if err != nil {
		return nil, err
	}
	scan := scanHTML(src)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	x := &htmlExtractor{b: newSectionBuilder(ctx, lim), root: scan.root()}
	x.run(src)
	sections, err := x.b.done()
	if err != nil {
		return nil, err
	}
	title := scan.title
	if title == "" {
		title = scan.firstH1
	}
	return &Document{Title: title, Meta: scan.meta, Sections: sections}, nil
}

// htmlScan is what the first pass learns about a page. The *At fields are
// the ordinal of an element's start tag among all start tags, or -1.
type htmlScan struct {
	title, firstH1                      string
	meta                                map[string]string
	mainAt, articleAt, roleMainAt, body int
}

// root returns the ordinal of the element that holds the content: <main>,
// else <article>, else [role=main], else <body>; -1 means the whole page.
func (s *htmlScan) root() int {
	for _, at := range []int{s.mainAt, s.articleAt, s.roleMainAt, s.body} {
		if at >= 0 {
			return at
		}
	}
	return -1
}

func scanHTML(src []byte) *htmlScan {
	s := &htmlScan{meta: map[string]string{}, mainAt: -1, articleAt: -1, roleMainAt: -1, body: -1}
	z := html.NewTokenizer(newRawTextFilter(src))
	ordinal := -1
	var inTitle, inH1 bool
	var svgDepth int
	var title, h1 strings.Builder
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			s.title = truncateRunes(cleanLine(title.String()), maxTitleRunes)
			s.firstH1 = truncateRunes(cleanLine(h1.String()), maxTitleRunes)
			return s
		case html.TextToken:
			switch {
			case inTitle && title.Len() < 4096:
				title.Write(z.Text())
			case inH1 && h1.Len() < 4096:
				h1.Write(z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			ordinal++
			tag, attrs := readTag(z)
			switch tag {
			case "main":
				setOnce(&s.mainAt, ordinal)
			case "article":
				setOnce(&s.articleAt, ordinal)
			case "body":
				setOnce(&s.body, ordinal)
			case "svg":
				if tt == html.StartTagToken {
					svgDepth++
				}
			case "title":
				inTitle = tt == html.StartTagToken && svgDepth == 0 && s.title == "" && title.Len() == 0
			case "h1":
				inH1 = tt == html.StartTagToken && h1.Len() == 0
			case "meta":
				if name := strings.ToLower(strings.TrimSpace(attrs["name"])); name != "" && attrs["content"] != "" && !technicalMeta(name) {
					if _, dup := s.meta[name]; !dup {
						s.meta[name] = cleanLine(attrs["content"])
					}
				}
			}
			if strings.EqualFold(attrs["role"], "main") {
				setOnce(&s.roleMainAt, ordinal)
			}
		case html.EndTagToken:
			tag, _ := z.TagName()
			switch string(tag) {
			case "title":
				inTitle = false
			case "h1":
				inH1 = false
			case "svg":
				svgDepth = max(svgDepth-1, 0)
			}
		}
	}
}

// technicalMeta reports <meta> names that instruct browsers and crawlers
// rather than describe the document.
func technicalMeta(name string) bool {
	switch name {
	case "viewport", "robots", "googlebot", "referrer", "theme-color", "color-scheme",
		"format-detection", "generator", "csrf-token", "csrf-param", "google-site-verification":
		return true
	}
	return strings.HasPrefix(name, "msapplication-") || strings.HasPrefix(name, "apple-") || strings.HasPrefix(name, "twitter:")
}

func setOnce(at *int, ordinal int) {
	if *at < 0 {
		*at = ordinal
	}
}

// readTag returns the current tag's name and the attributes we look at.
// Attribute values are capped: a 10 MB data: URL must not be copied.
func readTag(z *html.Tokenizer) (string, map[string]string) {
	name, more := z.TagName()
	var attrs map[string]string
	for more {
		var key, val []byte
		key, val, more = z.TagAttr()
		switch string(key) {
		case "class", "id", "role", "name", "content", "hidden", "aria-hidden", "style", "start":
			if attrs == nil {
				attrs = map[string]string{}
			}
			if len(val) > 1024 {
				cut := 1024
				for cut > 1020 && !utf8.RuneStart(val[cut]) {
					cut--
				}
				val = val[:cut]
			}
			attrs[string(key)] = string(val)
		}
	}
	return string(name), attrs
}

// htmlVoid are the elements that never have an end tag.
var htmlVoid = map[string]bool{
	"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true, "img": true,
	"input": true, "keygen": true, "link": true, "meta": true, "param": true, "source": true,
	"track": true, "wbr": true,
}

// htmlDropped are elements that are never article content.
var htmlDropped = map[string]bool{
	"head": true, "script": true, "style": true, "noscript": true, "template": true, "svg": true,
	"math": true, "nav": true, "footer": true, "aside": true, "form": true, "iframe": true,
	"object": true, "embed": true, "canvas": true, "video": true, "audio": true, "button": true,
	"select": true, "textarea": true, "dialog": true, "map": true,
}

// boilerplateWords are class and id words that mark site chrome. They are
// matched against whole words of the attribute ("main-nav" → "main", "nav"),
// never substrings, so "navy" or "address" are safe.
var boilerplateWords = map[string]bool{
	"nav": true, "navbar": true, "navigation": true, "menu": true, "menubar": true,
	"sidebar": true, "footer": true, "breadcrumb": true, "breadcrumbs": true,
	"cookie": true, "cookies": true, "consent": true, "banner": true, "feedback": true,
	"toc": true, "share": true, "social": true, "related": true, "advert": true,
	"advertisement": true, "ads": true, "popup": true, "modal": true, "newsletter": true,
	"pagination": true, "pager": true, "skip": true,
}

// boilerplateRoles are ARIA landmarks of site chrome.
var boilerplateRoles = map[string]bool{
	"navigation": true, "banner": true, "contentinfo": true, "complementary": true,
	"search": true, "menu": true, "menubar": true, "dialog": true, "alertdialog": true,
}

// htmlBlocks end the paragraph they interrupt.
var htmlBlocks = map[string]bool{
	"p": true, "div": true, "section": true, "blockquote": true, "dl": true, "dt": true,
	"dd": true, "figure": true, "figcaption": true, "address": true, "details": true,
	"summary": true, "fieldset": true, "center": true, "main": true, "article": true,
	"header": true, "hgroup": true, "body": true, "caption": true, "legend": true,
}

// maxHTMLDepth bounds the element stack; deeper elements are read as if
// they had no tags of their own.
const maxHTMLDepth = 512

type htmlElem struct {
	tag  string
	drop bool // the element starts a dropped subtree
}

type htmlList struct {
	ordered bool
	next    int    // the next ordered-list number
	marker  string // the open item's marker; "" once its first line is out
	open    bool   // an item is open
}

// htmlExtractor is the second pass: a state machine over tokens that feeds
// a sectionBuilder.
type htmlExtractor struct {
	b    *sectionBuilder
	root int // ordinal of the content element, -1 for the whole page

	stack   []htmlElem
	capture bool // inside the content element
	rootAt  int  // stack depth of the content element
	dropped int  // open dropped subtrees
	// outerDropped holds dropped while inside the content element: the
	// element the page calls its main content is read even if it sits in
	// something that looks like chrome.
	outerDropped int
	article      int // open <article> elements

	para    strings.Builder
	heading int // level of the open heading, 0 if none
	hbuf    strings.Builder
	pre     int // open <pre> elements
	pbuf    strings.Builder
	table   int // open <table> elements; only the outermost makes rows
	rows    [][]string
	row     []string
	inCell  bool
	cbuf    strings.Builder
	lists   []htmlList
}

func (x *htmlExtractor) run(src []byte) {
	z := html.NewTokenizer(newRawTextFilter(src))
	x.capture = x.root < 0
	ordinal := -1
	for x.b.err == nil {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			x.endAll()
			return
		case html.TextToken:
			if x.capture && x.dropped == 0 {
				x.text(z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			ordinal++
			tag, attrs := readTag(z)
			x.start(tag, attrs, ordinal == x.root, tt == html.SelfClosingTagToken)
		case html.EndTagToken:
			tag, _ := z.TagName()
			x.end(string(tag))
		}
	}
}

func (x *htmlExtractor) start(tag string, attrs map[string]string, isRoot, selfClosing bool) {
	x.closeImplied(tag)
	if isRoot {
		x.capture, x.rootAt = true, len(x.stack)
		x.outerDropped, x.dropped = x.dropped, 0
	}
	if htmlVoid[tag] || selfClosing {
		if x.capture && x.dropped == 0 {
			x.void(tag)
		}
		return
	}
	if len(x.stack) >= maxHTMLDepth {
		return
	}
	drop := !isRoot && x.isBoilerplate(tag, attrs)
	x.stack = append(x.stack, htmlElem{tag: tag, drop: drop})
	if drop {
		x.dropped++
		return
	}
	if x.capture && x.dropped == 0 {
		x.open(tag, attrs)
	}
}

// end pops to the nearest open element with this tag; an end tag with no
// open element is ignored, as browsers do.
func (x *htmlExtractor) end(tag string) {
	for i := len(x.stack) - 1; i >= 0; i-- {
		if x.stack[i].tag == tag {
			for len(x.stack) > i {
				x.pop()
			}
			return
		}
	}
}

func (x *htmlExtractor) endAll() {
	for len(x.stack) > 0 {
		x.pop()
	}
	x.flushPara()
}

func (x *htmlExtractor) pop() {
	e := x.stack[len(x.stack)-1]
	x.stack = x.stack[:len(x.stack)-1]
	switch {
	case e.drop:
		x.dropped--
	case x.capture && x.dropped == 0:
		x.close(e.tag)
	}
	if x.root >= 0 && x.capture && len(x.stack) == x.rootAt {
		x.flushPara()
		x.capture = false
		x.dropped, x.outerDropped = x.outerDropped, 0
	}
}

// closeImplied closes the elements whose end tag HTML lets authors leave
// out, so "<li>a<li>b" is two items, not one nested in the other.
func (x *htmlExtractor) closeImplied(tag string) {
	var closes []string
	var stops []string
	switch {
	case tag == "li":
		closes, stops = []string{"li"}, []string{"ul", "ol", "menu"}
	case tag == "dt" || tag == "dd":
		closes, stops = []string{"dt", "dd"}, []string{"dl"}
	case tag == "td" || tag == "th":
		closes, stops = []string{"td", "th"}, []string{"tr", "table"}
	case tag == "tr":
		closes, stops = []string{"tr", "td", "th"}, []string{"table", "thead", "tbody", "tfoot"}
	case headingLevel(tag) > 0 && x.heading > 0:
		// A heading never nests in another: "<h2>a<h3>b" closes the h2.
		for i := len(x.stack) - 1; i >= 0; i-- {
			if headingLevel(x.stack[i].tag) > 0 {
				for len(x.stack) > i {
					x.pop()
				}
				return
			}
		}
		return
	case tag == "p" || htmlBlocks[tag] || headingLevel(tag) > 0 || tag == "ul" || tag == "ol" || tag == "pre" || tag == "table" || tag == "hr":
		if n := len(x.stack); n > 0 && x.stack[n-1].tag == "p" {
			x.pop()
		}
		return
	default:
		return
	}
	for i := len(x.stack) - 1; i >= 0; i-- {
		t := x.stack[i].tag
		if containsString(stops, t) {
			return
		}
		if containsString(closes, t) {
			for len(x.stack) > i {
				x.pop()
			}
			return
		}
	}
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// isBoilerplate reports site chrome: a dropped tag, a chrome ARIA role, a
// hidden element, or a class or id made of a boilerplate word. <header>
// is kept inside an <article>, where it holds the article's own title.
func (x *htmlExtractor) isBoilerplate(tag string, attrs map[string]string) bool {
	if htmlDropped[tag] {
		return true
	}
	if tag == "header" && x.article == 0 {
		return true
	}
	if attrs == nil {
		return false
	}
	if boilerplateRoles[strings.ToLower(strings.TrimSpace(attrs["role"]))] {
		return true
	}
	if _, hidden := attrs["hidden"]; hidden || strings.EqualFold(attrs["aria-hidden"], "true") {
		return true
	}
	if style := strings.ReplaceAll(strings.ToLower(attrs["style"]), " ", ""); strings.Contains(style, "display:none") {
		return true
	}
	switch tag {
	case "html", "body", "main", "article":
		return false // a page-wide class such as "has-sidebar" says nothing about the element
	}
	return hasBoilerplateWord(attrs["class"]) || hasBoilerplateWord(attrs["id"])
}

// hasBoilerplateWord splits a class or id into words at punctuation and
// camelCase humps and looks each up in boilerplateWords.
func hasBoilerplateWord(s string) bool {
	start := -1
	var prev rune
	for i, r := range s + " " {
		isWordRune := unicode.IsLetter(r) || unicode.IsDigit(r)
		hump := start >= 0 && unicode.IsUpper(r) && unicode.IsLower(prev)
		if start >= 0 && (!isWordRune || hump) {
			if boilerplateWords[strings.ToLower(s[start:i])] {
				return true
			}
			start = -1
		}
		if isWordRune && start < 0 {
			start = i
		}
		prev = r
	}
	return false
}

func headingLevel(tag string) int {
	if len(tag) == 2 && tag[0] == 'h' && tag[1] >= '1' && tag[1] <= '6' {
		return int(tag[1] - '0')
	}
	return 0
}

// open handles the start of a kept element.
func (x *htmlExtractor) open(tag string, attrs map[string]string) {
	switch {
	case tag == "article":
		x.article++
		x.blockBreak()
	case x.pre > 0:
		if tag == "pre" {
			x.pre++
		}
	case x.table > 0:
		x.openInTable(tag)
	case headingLevel(tag) > 0:
		if x.heading == 0 {
			x.flushPara()
			x.heading = headingLevel(tag)
			x.hbuf.Reset()
		}
	case tag == "pre":
		x.flushPara()
		x.pre = 1
		x.pbuf.Reset()
	case tag == "table":
		x.flushPara()
		x.table, x.rows, x.row, x.inCell = 1, nil, nil, false
	case tag == "ul" || tag == "ol" || tag == "menu":
		x.flushPara()
		l := htmlList{ordered: tag == "ol", next: 1}
		if n, err := strconv.Atoi(strings.TrimSpace(attrs["start"])); err == nil && tag == "ol" {
			l.next = n
		}
		x.lists = append(x.lists, l)
	case tag == "li":
		x.flushPara()
		if len(x.lists) == 0 {
			x.lists = append(x.lists, htmlList{})
		}
		l := &x.lists[len(x.lists)-1]
		l.open, l.marker = true, "-"
		if l.ordered {
			l.marker = strconv.Itoa(l.next) + "."
			l.next++
		}
	case htmlBlocks[tag]:
		x.blockBreak()
	}
}

// openInTable handles the start of an element inside a table: only the
// outermost table's rows and cells count; a nested table is text of its
// cell.
func (x *htmlExtractor) openInTable(tag string) {
	switch {
	case tag == "table":
		x.table++
	case x.table > 1:
	case tag == "tr" || tag == "caption":
		x.endRow()
		if tag == "caption" {
			x.inCell = true
			x.cbuf.Reset()
		}
	case tag == "td" || tag == "th":
		x.endCell()
		x.inCell = true
		x.cbuf.Reset()
	default:
		if x.inCell {
			x.cbuf.WriteByte(' ')
		}
	}
}

// close handles the end of a kept element.
func (x *htmlExtractor) close(tag string) {
	switch {
	case tag == "article":
		x.article = max(x.article-1, 0)
		x.blockBreak()
	case x.pre > 0:
		if tag == "pre" {
			if x.pre--; x.pre == 0 {
				x.b.code(x.pbuf.String())
			}
		}
	case x.table > 0:
		x.closeInTable(tag)
	case x.heading > 0 && headingLevel(tag) > 0:
		x.b.heading(x.heading, x.hbuf.String())
		x.heading = 0
	case tag == "ul" || tag == "ol" || tag == "menu":
		x.flushPara()
		if len(x.lists) > 0 {
			x.lists = x.lists[:len(x.lists)-1]
		}
	case tag == "li":
		x.flushPara()
		if len(x.lists) > 0 {
			x.lists[len(x.lists)-1].open = false
		}
	case htmlBlocks[tag]:
		x.blockBreak()
	}
}

func (x *htmlExtractor) closeInTable(tag string) {
	switch {
	case tag == "table":
		if x.table--; x.table == 0 {
			x.endRow()
			x.b.table(x.rows)
			x.rows = nil
		}
	case x.table > 1:
	case tag == "td" || tag == "th":
		x.endCell()
	case tag == "tr" || tag == "caption":
		x.endRow()
	}
}

func (x *htmlExtractor) endCell() {
	if x.inCell {
		x.row = append(x.row, x.cbuf.String())
		x.inCell = false
		x.cbuf.Reset()
	}
}

func (x *htmlExtractor) endRow() {
	x.endCell()
	if len(x.row) > 0 {
		x.rows = append(x.rows, x.row)
		x.row = nil
	}
}

// void handles an element without content (<br>, <hr>, <img>...).
func (x *htmlExtractor) void(tag string) {
	switch tag {
	case "br":
		switch {
		case x.pre > 0:
			x.pbuf.WriteByte('\n')
		case x.heading > 0:
			x.hbuf.WriteByte(' ')
		case x.table > 0:
			x.cbuf.WriteByte(' ')
		case x.inListItem():
			x.para.WriteByte(' ')
		default:
			x.para.WriteByte('\n')
		}
	case "hr":
		if x.pre == 0 && x.table == 0 && x.heading == 0 {
			x.flushPara()
		}
	}
}

// text routes character data to the open heading, code block, table cell
// or paragraph. Outside <pre>, HTML whitespace (newlines included) is one
// space.
func (x *htmlExtractor) text(t []byte) {
	switch {
	case x.pre > 0:
		x.pbuf.Write(t)
	case x.heading > 0:
		appendCollapsed(&x.hbuf, t)
	case x.table > 0:
		if x.inCell {
			appendCollapsed(&x.cbuf, t)
		}
	default:
		appendCollapsed(&x.para, t)
	}
}

// appendCollapsed appends t with every run of whitespace made one space,
// and no space doubled at the seam with what b already holds.
func appendCollapsed(b *strings.Builder, t []byte) {
	s := string(t)
	space := b.Len() > 0 && isSpaceByte(lastByte(b))
	for _, r := range s {
		if unicode.IsSpace(r) {
			if !space {
				b.WriteByte(' ')
				space = true
			}
			continue
		}
		b.WriteRune(r)
		space = false
	}
}

func lastByte(b *strings.Builder) byte {
	s := b.String()
	return s[len(s)-1]
}

func isSpaceByte(c byte) bool { return c == ' ' || c == '\n' }

func (x *htmlExtractor) inListItem() bool {
	return len(x.lists) > 0 && x.lists[len(x.lists)-1].open
}

// blockBreak ends the current paragraph at a block boundary; inside a list
// item, blocks (<p> in <li>) only add a space, so the item stays one line.
func (x *htmlExtractor) blockBreak() {
	if x.inListItem() {
		x.para.WriteByte(' ')
		return
	}
	x.flushPara()
}

// flushPara hands the text gathered so far to the builder, as a list line
// if an item is open.
func (x *htmlExtractor) flushPara() {
	text := x.para.String()
	x.para.Reset()
	if strings.TrimSpace(text) == "" {
		return
	}
	if x.inListItem() {
		l := &x.lists[len(x.lists)-1]
		indent := len(x.lists) - 1
		if l.marker == "" {
			x.b.listItem(indent+1, "", text)
		} else {
			x.b.listItem(indent, l.marker, text)
		}
		l.marker = ""
		return
	}
	x.b.paragraph(text)
}

// htmlFragmentText returns the visible text of an HTML fragment, such as a
// raw HTML block in Markdown.
func htmlFragmentText(fragment string) string {
	z := html.NewTokenizer(newRawTextFilter([]byte(fragment)))
	var b strings.Builder
	for {
		switch z.Next() {
		case html.ErrorToken:
			return b.String()
		case html.TextToken:
			appendCollapsed(&b, z.Text())
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			if tag, _ := z.TagName(); htmlBlocks[string(tag)] || string(tag) == "br" || string(tag) == "li" {
				b.WriteByte('\n')
			}
		}
	}
}
