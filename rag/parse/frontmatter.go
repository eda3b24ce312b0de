package parse

import (
	"strings"
)

// splitFrontMatter cuts the front matter off a Markdown text: the lines
// between a first line "---" and the next "---" (or "..."). A leading "---"
// whose block has no "key: value" line is a thematic break, not front
// matter, and ok is false.
func splitFrontMatter(text string) (front, body string, ok bool) {
	text = strings.TrimPrefix(text, "\uFEFF")
	first, rest, found := strings.Cut(text, "\n")
	if !found || strings.TrimRight(first, " \t\r") != "---" {
		return "", text, false
	}
	pos := 0
	for pos <= len(rest) {
		end := strings.IndexByte(rest[pos:], '\n')
		line := rest[pos:]
		if end >= 0 {
			line = rest[pos : pos+end]
		}
		if t := strings.TrimRight(line, " \t\r"); t == "---" || t == "..." {
			front = rest[:pos]
			if end >= 0 {
				body = rest[pos+end+1:]
			}
			return front, body, front == "" || hasYAMLKey(front)
		}
		if end < 0 {
			break
		}
		pos += end + 1
	}
	return "", text, false
}

func hasYAMLKey(front string) bool {
	for line := range strings.Lines(front) {
		if key, _, ok := cutYAMLKey(line); ok && key != "" {
			return true
		}
	}
	return false
}

// cutYAMLKey splits a top-level "key: value" line. Indented lines, list
// items and comments are not keys.
func cutYAMLKey(line string) (key, value string, ok bool) {
	line = strings.TrimRight(line, "\r\n")
	if line == "" || line[0] == ' ' || line[0] == '\t' || line[0] == '#' || line[0] == '-' {
		return "", "", false
	}
	key, value, ok = strings.Cut(line, ":")
	if !ok || strings.ContainsAny(key, "\"'{}[]") {
		return "", "", false
	}
	if value != "" && value[0] != ' ' && value[0] != '\t' {
		return "", "", false // "http://x" is not a key
	}
	return strings.ToLower(strings.TrimSpace(key)), strings.TrimSpace(value), true
}

// parseFrontMatter reads the simple YAML that help-centre front matter uses,
// without a YAML dependency: "key: value" with plain, single- or
// double-quoted values; lists as "[a, b]" or as "- item" lines below the
// key; and "|" or ">" block scalars. Keys are lower-cased and lists are
// joined with ",". Nested maps are skipped.
func parseFrontMatter(front string) map[string]string {
	meta := map[string]string{}
	lines := strings.Split(strings.ReplaceAll(front, "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		key, value, ok := cutYAMLKey(lines[i])
		if !ok || key == "" {
			continue
		}
		// Collect the indented lines that belong to this key.
		var block []string
		for i+1 < len(lines) && (lines[i+1] == "" || lines[i+1][0] == ' ' || lines[i+1][0] == '\t' || strings.HasPrefix(lines[i+1], "- ")) {
			i++
			block = append(block, lines[i])
		}
		if v, ok := yamlValue(value, block); ok {
			meta[key] = v
		}
	}
	return meta
}

// yamlValue turns the text after "key:" and the indented lines below it
// into one string; ok is false for a nested map.
func yamlValue(value string, block []string) (string, bool) {
	value = stripYAMLComment(value)
	switch {
	case strings.HasPrefix(value, "["):
		return strings.Join(yamlFlowList(value), ","), true
	case value == "|" || value == "|-" || value == ">" || value == ">-":
		var kept []string
		for _, l := range block {
			kept = append(kept, strings.TrimSpace(l))
		}
		sep := "\n"
		if value[0] == '>' {
			sep = " "
		}
		return strings.TrimSpace(strings.Join(kept, sep)), true
	case value != "":
		return yamlScalar(value), true
	}
	var items []string
	for _, l := range block {
		t := strings.TrimSpace(l)
		if t == "" {
			continue
		}
		item, isItem := strings.CutPrefix(t, "- ")
		if !isItem && t != "-" {
			return "", false // a nested map
		}
		if item = yamlScalar(strings.TrimSpace(item)); item != "" {
			items = append(items, item)
		}
	}
	return strings.Join(items, ","), true
}

// yamlFlowList splits "[a, 'b', "c, d"]" into its items.
func yamlFlowList(value string) []string {
	value = strings.TrimSuffix(strings.TrimPrefix(value, "["), "]")
	var items []string
	var cur strings.Builder
	var quote byte
	flush := func() {
		if item := yamlScalar(strings.TrimSpace(cur.String())); item != "" {
			items = append(items, item)
		}
		cur.Reset()
	}
	for i := 0; i < len(value); i++ {
		c := value[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == '"' || c == '\''):
			quote = c
		case quote == 0 && c == ',':
			flush()
			continue
		}
		cur.WriteByte(c)
	}
	flush()
	return items
}

// yamlScalar unquotes a scalar. Double quotes take the common escapes;
// single quotes double themselves.
func yamlScalar(v string) string {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		r := strings.NewReplacer(`\"`, `"`, `\\`, `\`, `\n`, "\n", `\t`, "\t")
		return r.Replace(v[1 : len(v)-1])
	}
	if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
		return strings.ReplaceAll(v[1:len(v)-1], "''", "'")
	}
	return v
}

// stripYAMLComment drops a " # comment" after a value, quoted or not.
func stripYAMLComment(v string) string {
	if v == "" {
		return v
	}
	if q := v[0]; q == '"' || q == '\'' {
		for i := 1; i < len(v); i++ {
			switch {
			case q == '"' && v[i] == '\\':
				i++
			case v[i] == q && q == '\'' && i+1 < len(v) && v[i+1] == '\'':
				i++
			case v[i] == q:
				if rest := strings.TrimSpace(v[i+1:]); rest == "" || rest[0] == '#' {
					return v[:i+1]
				}
				return v
			}
		}
		return v
	}
	if i := strings.Index(v, " #"); i >= 0 {
		return strings.TrimSpace(v[:i])
	}
	return v
}
