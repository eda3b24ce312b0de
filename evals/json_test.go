package evals

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// TestJSONKeysSnakeCase walks every type the eval API and the CLI report
// encode: each exported field has a snake_case JSON name (or is embedded,
// or left out with "-").
func TestJSONKeysSnakeCase(t *testing.T) {
	snake := regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type, string)
	walk = func(ty reflect.Type, path string) {
		for ty.Kind() == reflect.Pointer || ty.Kind() == reflect.Slice || ty.Kind() == reflect.Array || ty.Kind() == reflect.Map {
			ty = ty.Elem()
		}
		if ty.Kind() != reflect.Struct || seen[ty] || ty.PkgPath() == "time" {
			return
		}
		seen[ty] = true
		for i := range ty.NumField() {
			f := ty.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			switch {
			case name == "-":
				continue
			case f.Anonymous && name == "":
				walk(f.Type, path)
				continue
			case !snake.MatchString(name):
				t.Errorf("%s.%s (%s): JSON name %q is not snake_case", path, f.Name, ty, name)
			}
			walk(f.Type, path+"."+name)
		}
	}
	walk(reflect.TypeFor[Report](), "Report")
	walk(reflect.TypeFor[Comparison](), "Comparison")
	walk(reflect.TypeFor[Import](), "Import")
}
