package answer

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"llmops/rag/chunk"
	"llmops/store"
)

// passage is one sentence (or table row, or code block) of a context item,
// analysed once and shared by the extractive answerer and Ground.
type passage struct {
	text  string // as quoted in an answer: list marker removed, blanks collapsed
	terms map[string]struct{}
	toks  []token
	pos   int // position in its item
	words int // blank-separated words, for length rules
	code  bool
	// sparse marks a table row that says nothing without its header.
	sparse bool
	// heading marks a line that titles what follows (an inline heading, an
	// FAQ question, a table's header row): it is context, not an answer.
	heading bool
	// local holds the stems of the nearest heading line above the passage.
	local map[string]struct{}
	// poles are the actions the passage states (see polarity.go), and
	// localPoles those of the nearest heading line above it.
	poles, localPoles poleSet
	// section counts the heading lines at or above the passage in its
	// item: passages with the same section sit under the same heading.
	section int
	// list numbers the list the passage belongs to within its item (1,
	// 2, …; 0 in prose). step is the number of its list item: the
	// source's own in a numbered (ordered) list ("3." → 3), counted in a
	// bulleted one. cont marks a later sentence of the same item ("Click
	// Connect. You are redirected to Slack.").
	list    int
	step    int
	ordered bool
	cont    bool
}

// item is one context chunk with its passages.
type item struct {
	n        int // context number, 1-based
	ref      store.ChunkRef
	passages []passage
	// head holds the stems of the chunk's heading path and document title.
	head map[string]struct{}
	// section holds the stems of the last heading of the path, the one
	// right above the chunk's text, and sectionPoles its actions.
	section      map[string]struct{}
	sectionPoles poleSet
}

// analyse splits every context chunk into passages.
func analyse(chunks []store.ChunkRef) []item {
	items := make([]item, len(chunks))
	for i, ref := range chunks {
		it := item{n: i + 1, ref: ref, head: make(map[string]struct{}), section: make(map[string]struct{})}
		for _, h := range ref.Chunk.Headings {
			addStems(it.head, h)
		}
		if hs := ref.Chunk.Headings; len(hs) > 0 {
			addStems(it.section, hs[len(hs)-1])
			it.sectionPoles = poles(hs[len(hs)-1])
		}
		if ref.Document != nil {
			addStems(it.head, ref.Document.Title)
		}
		it.passages = splitPassages(ref.Chunk.Text)
		items[i] = it
	}
	return items
}

func addStems(set map[string]struct{}, text string) {
	for _, t := range tokenize(text) {
		set[t.stem] = struct{}{}
	}
}

// splitPassages splits chunk text into passages: blocks (separated by
// blank lines) that look like code stay whole, table rows are one passage
// each, and prose goes through chunk.Sentences. List items keep their
// place in their list, so an answer can quote a procedure as one.
func splitPassages(text string) []passage {
	var out []passage
	var local map[string]struct{}
	var localPoles poleSet
	section := 0
	// The list being read: its number, kind, and the last item's step.
	list, lists, step, ordered := 0, 0, 0, false
	add := func(p passage) {
		p.pos = len(out)
		p.words = len(strings.Fields(p.text))
		p.toks = tokenize(p.text)
		p.terms = make(map[string]struct{}, len(p.toks))
		for _, t := range p.toks {
			p.terms[t.stem] = struct{}{}
		}
		p.poles = poles(p.text)
		if p.heading {
			local, localPoles = p.terms, p.poles
			section++
		}
		p.local, p.localPoles = local, localPoles
		p.section = section
		if p.list == 0 {
			list = 0
		}
		out = append(out, p)
	}
	for _, block := range splitBlocks(text) {
		if looksLikeCode(block) {
			add(passage{text: strings.TrimRight(block, " \t\n"), code: true})
			continue
		}
		lines := strings.Split(block, "\n")
		for i := 0; i < len(lines); {
			if isTableRow(lines[i]) {
				if !isTableRule(lines[i]) {
					header := (i == 0 || !isTableRow(lines[i-1])) && i+1 < len(lines) && isTableRow(lines[i+1])
					add(tableRow(lines[i], header))
				}
				i++
				continue
			}
			j := i
			for j < len(lines) && !isTableRow(lines[j]) {
				j++
			}
			for _, s := range mergeShort(lineSentences(unwrap(lines[i:j]))) {
				p := passage{text: quotable(s.text)}
				marker := strings.TrimSpace(s.text)
				isItem := s.lineStart && (isListItem(marker) || startsNumbered(marker))
				switch {
				case isItem && s.indent && list != 0 && ordered && !startsNumbered(marker):
					// A bullet indented under a step belongs to the step.
					p.list, p.step, p.ordered, p.cont = list, step, true, true
				case isItem:
					num := startsNumbered(marker)
					if list == 0 || num != ordered {
						lists++
						list, step, ordered = lists, 0, num
					}
					step++
					if num {
						step = leadingNumber(marker)
					}
					p.list, p.step, p.ordered = list, step, ordered
				case !s.lineStart && list != 0:
					p.list, p.step, p.ordered, p.cont = list, step, ordered, true
				default:
					p.heading = isHeadingLine(s.text)
				}
				add(p)
			}
			i = j
		}
	}
	return out
}

// lineSentence is a sentence of a prose run and where it starts: at the
// start of a line (indented or not) or after another sentence.
type lineSentence struct {
	text      string
	lineStart bool
	indent    bool
}

// lineSentences splits a prose run with chunk.Sentences, noting which
// sentences open a line: only those can be list items.
func lineSentences(run string) []lineSentence {
	var out []lineSentence
	cursor := 0
	for _, s := range chunk.Sentences(run) {
		at := strings.Index(run[cursor:], s)
		if at < 0 {
			out = append(out, lineSentence{text: s})
			continue
		}
		at += cursor
		cursor = at + len(s)
		before := strings.TrimRight(run[:at], " \t")
		out = append(out, lineSentence{
			text:      s,
			lineStart: before == "" || strings.HasSuffix(before, "\n"),
			indent:    len(before) < at,
		})
	}
	return out
}

// leadingNumber returns the number a numbered item opens with ("12. Save"
// → 12).
func leadingNumber(s string) int {
	n := 0
	for _, r := range strings.TrimSpace(s) {
		if !unicode.IsDigit(r) || n > 9999 {
			break
		}
		n = 10*n + int(r-'0')
	}
	return n
}

// tableRow makes a passage of a table row. A row is quoted as
// "first cell: other; cells", which reads as a sentence where the raw
// "a | b | c" does not; rows with fewer than two cells of words (✓ and –
// marks of a feature matrix) mean nothing without their header and are
// not quoted at all.
func tableRow(line string, header bool) passage {
	var cells []string
	words := 0
	for _, c := range strings.Split(line, "|") {
		if c = strings.TrimSpace(c); c != "" {
			cells = append(cells, c)
			if hasLetter(c) {
				words++
			}
		}
	}
	p := passage{heading: header, sparse: words < 2}
	switch {
	case header || len(cells) < 2:
		p.text = strings.Join(cells, " | ")
	default:
		p.text = cells[0] + ": " + strings.Join(cells[1:], "; ")
	}
	return p
}

func hasLetter(s string) bool { return strings.IndexFunc(s, unicode.IsLetter) >= 0 }

// wrapWidth is the line length from which a line without closing
// punctuation is taken for hard-wrapped text (PDF extracts wrap at 80-90
// characters), so "Recovery Point\nObjective" stays one sentence.
const wrapWidth = 60

// unwrap joins the lines of a prose run, keeping a line break where one
// ends a line of its own: after closing punctuation, after a short line, or
// before a list item.
func unwrap(lines []string) string {
	var b strings.Builder
	for i, l := range lines {
		if i > 0 {
			prev := strings.TrimSpace(lines[i-1])
			last, _ := utf8.DecodeLastRuneInString(prev)
			if utf8.RuneCountInString(prev) >= wrapWidth && !strings.ContainsRune(".!?:;", last) && !isListItem(strings.TrimSpace(l)) && !startsNumbered(l) {
				b.WriteByte(' ')
			} else {
				b.WriteByte('\n')
			}
		}
		b.WriteString(l)
	}
	return b.String()
}

// startsNumbered reports whether a line opens a numbered item: "2. Click".
func startsNumbered(l string) bool {
	l = strings.TrimSpace(l)
	i := strings.IndexFunc(l, func(r rune) bool { return !unicode.IsDigit(r) })
	return i > 0 && i < len(l)-1 && (l[i] == '.' || l[i] == ')') && l[i+1] == ' '
}

// splitBlocks splits text at blank lines.
func splitBlocks(text string) []string {
	var blocks []string
	var cur []string
	for _, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			if len(cur) > 0 {
				blocks = append(blocks, strings.Join(cur, "\n"))
				cur = nil
			}
			continue
		}
		cur = append(cur, line)
	}
	if len(cur) > 0 {
		blocks = append(blocks, strings.Join(cur, "\n"))
	}
	return blocks
}

// looksLikeCode reports whether a block is a code sample: chunk text keeps
// code without its fences, so shell commands, JSON and indented blocks are
// recognised by their shape.
func looksLikeCode(block string) bool {
	first := strings.TrimSpace(block[:strings.IndexByte(block+"\n", '\n')])
	for _, p := range []string{"curl ", "$ ", "{", "}", "[", "]", "<?", "#!", "import ", "package ", "func ", "const ", "var ", "let "} {
		if strings.HasPrefix(first, p) {
			return true
		}
	}
	lines := strings.Split(block, "\n")
	indented, continued := 0, 0
	for _, l := range lines {
		if strings.HasPrefix(l, "    ") || strings.HasPrefix(l, "\t") {
			indented++
		}
		if strings.HasSuffix(strings.TrimSpace(l), "\\") {
			continued++
		}
	}
	return continued > 0 || (len(lines) > 1 && indented*2 > len(lines))
}

func isTableRow(line string) bool {
	return strings.Contains(line, " | ") || strings.HasPrefix(line, "| ")
}

// isTableRule matches a Markdown table's |---|---| separator.
func isTableRule(line string) bool {
	return strings.Trim(line, "|-: \t") == "" && strings.Contains(line, "-")
}

// isHeadingLine reports whether a sentence titles what follows: a question
// on a line of its own (FAQ articles put each question so), a sentence
// ending in a colon, or a short line without a sentence's closing
// punctuation.
func isHeadingLine(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" || isListItem(s) {
		return false
	}
	if strings.HasSuffix(s, ":") {
		return true // introduces the list or table below it
	}
	if strings.Contains(s, "\n") {
		return false
	}
	last, _ := utf8.DecodeLastRuneInString(s)
	if last == '?' {
		return len(strings.Fields(s)) <= 16
	}
	if strings.ContainsRune(".!:;,…\"”", last) {
		return false
	}
	// Up to 12 words: an HTML page's FAQ titles are statements as often
	// as questions ("My shifts stopped syncing after I changed my
	// password"), and quoted as a sentence they run into the answer below.
	return len(strings.Fields(s)) <= 12
}

func isListItem(s string) bool {
	return strings.HasPrefix(s, "- ") || strings.HasPrefix(s, "* ") || strings.HasPrefix(s, "• ")
}

// quotable turns a sentence into the form an answer quotes: blanks
// collapsed, a bullet or step number removed, and a list item that
// continues a sentence made one of its own ("- falls outside the
// employee's availability," → "Falls outside the employee's
// availability."). A step quoted alone or out of its list reads better
// without its number.
func quotable(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	item := false
	for _, p := range []string{"- ", "* ", "• "} {
		if strings.HasPrefix(s, p) {
			s, item = strings.TrimSpace(s[len(p):]), true
			break
		}
	}
	if startsNumbered(s) {
		s, item = strings.TrimSpace(s[strings.IndexByte(s, ' '):]), true
	}
	if item {
		r, size := utf8.DecodeRuneInString(s)
		s = string(unicode.ToUpper(r)) + s[size:]
		if strings.HasSuffix(s, ",") || strings.HasSuffix(s, ";") {
			s = s[:len(s)-1] + "."
		}
	}
	return s
}

// signpostRe matches a sentence that announces what its article says
// instead of saying it: "This article explains when you are charged, where
// to find invoices and…", "Here is exactly what happens." Help centres
// open their articles and sections with them, and they share many words
// with a question, the article's topic, without answering it.
var signpostRe = regexp.MustCompile(`^(?:(?:this|the following|in this) (?:article|guide|page|section|document|faq|tutorial|post|chapter|overview)\b[^.!?]*\b(?:explains?|covers?|describes?|lists?|shows?|summari[sz]es|walks|outlines?|tells?|helps?|answers?|goes through)\b|here (?:is|are|'s)\b|below (?:is|are|you)\b|read on\b)`)

// isSignpost reports whether s only announces what follows (signpostRe)
// or only points elsewhere ("See Failed payments.").
func isSignpost(s string) bool {
	s = strings.ToLower(quotable(s))
	return signpostRe.MatchString(s) || strings.HasPrefix(s, "see ") && len(strings.Fields(s)) <= 6
}

// mergeShort joins a very short sentence to the one after it: FAQ answers
// open with "No." or "Yes.", which say little alone and a lot in front of
// their explanation.
func mergeShort(sentences []lineSentence) []lineSentence {
	out := sentences[:0:0]
	for i := 0; i < len(sentences); i++ {
		s := sentences[i]
		if i+1 < len(sentences) && isShortReply(s.text) && !isHeadingLine(sentences[i+1].text) {
			s.text += " " + sentences[i+1].text
			out = append(out, s)
			i++
			continue
		}
		out = append(out, s)
	}
	return out
}

func isShortReply(s string) bool {
	words := strings.Fields(s)
	if len(words) == 0 || len(words) > 2 {
		return false
	}
	last, _ := utf8.DecodeLastRuneInString(s)
	first, _ := utf8.DecodeRuneInString(s)
	return (last == '.' || last == '!') && unicode.IsUpper(first)
}
