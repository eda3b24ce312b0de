package schema_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"

	"llmops/store/schema"
)

// attrKeys reads every Attr* constant of attributes.go.
func attrKeys(t *testing.T) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "attributes.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{} // value → constant name
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, "Attr") {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok {
					t.Fatalf("%s is not a string literal", name.Name)
				}
				v, _ := strconv.Unquote(lit.Value)
				if other, dup := keys[v]; dup {
					t.Errorf("%s and %s are both %q", other, name.Name, v)
				}
				keys[v] = name.Name
			}
		}
	}
	if len(keys) < 40 {
		t.Fatalf("read %d keys from attributes.go; the parser missed some", len(keys))
	}
	return keys
}

// Keys map one to one onto OTLP attributes: namespaced, lower-case, and no
// key is also a namespace another key lives under (OpenTelemetry forbids
// "a.b" beside "a.b.c").
func TestAttributeKeysAreFlatAndOTelShaped(t *testing.T) {
	keys := attrKeys(t)
	for k, name := range keys {
		if !strings.HasPrefix(k, "gen_ai.") && !strings.HasPrefix(k, "llmops.") {
			t.Errorf("%s = %q: want a gen_ai. or llmops. key", name, k)
		}
		if k != strings.ToLower(k) || strings.ContainsAny(k, " -/") {
			t.Errorf("%s = %q: want lower-case snake_case segments", name, k)
		}
		for other := range keys {
			if strings.HasPrefix(other, k+".") {
				t.Errorf("%q is a key and the namespace of %q", k, other)
			}
		}
	}
}

func TestStatusValues(t *testing.T) {
	for _, s := range schema.TraceStatuses {
		if !s.Valid() {
			t.Errorf("%q not valid", s)
		}
	}
	if schema.TraceStatus("").Valid() || schema.TraceStatus("OK").Valid() {
		t.Error("an empty or unknown status is valid")
	}
	for s, want := range map[schema.RunStatus]bool{schema.RunQueued: true, schema.RunRunning: true, schema.RunDone: false, schema.RunJudgeFailed: false} {
		if s.Active() != want {
			t.Errorf("%s.Active() = %v, want %v", s, s.Active(), want)
		}
	}
}
