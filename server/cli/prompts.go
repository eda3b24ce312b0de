package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"llmops/rag/prompt"
	"llmops/store"
)

var promptsExportCmd = &command{
	name: "prompts export", short: "write every prompt version to files, one per version",
	args: "DIR",
	long: `Write every version of every prompt of a data dir no server holds (--data)
to DIR, one file per version: DIR/NAME@VERSION.prompt. Each file is front
matter between "---" lines (name, version, message, author, created_at,
variables and config, values in JSON) and then the template, verbatim.
Files of versions that exist already are rewritten only when they differ.`,
	run: runPromptsExport,
}

var promptsImportCmd = &command{
	name: "prompts import", short: "load prompt versions from files (idempotent)",
	args: "DIR",
	long: `Load every *.prompt file of DIR (as prompts export writes them) into a
data dir no server holds (--data), in name and version order. A file whose
template, variables and config equal an existing version changes nothing
(same content = same version); any other becomes the prompt's next version,
with the file's message. Templates and configs are checked as the API
checks them; a bad file is reported with its name and the rest still load.
Labels are not moved: promote with the API or the Prompts page.`,
	run: runPromptsImport,
}

// promptFileExt is the extension of exported prompt versions.
const promptFileExt = ".prompt"

// frontMatter is the head of a prompt file.
type frontMatter struct {
	Name      string
	Version   int
	Message   string
	Author    string
	CreatedAt time.Time
	Variables []string
	Config    store.PromptConfig
}

// encodePromptFile writes v as front matter and template.
func encodePromptFile(v store.PromptVersion) []byte {
	var b bytes.Buffer
	line := func(key string, val any) {
		j, _ := json.Marshal(val)
		fmt.Fprintf(&b, "%s: %s\n", key, j)
	}
	b.WriteString("---\n")
	line("name", v.Name)
	line("version", v.Version)
	line("message", v.Message)
	line("author", v.Author)
	line("created_at", v.CreatedAt)
	line("variables", v.Variables)
	line("config", v.Config)
	b.WriteString("---\n")
	b.WriteString(v.Template)
	return b.Bytes()
}

// decodePromptFile reads what encodePromptFile wrote. Lines of the front
// matter are "key: JSON value"; unknown keys are refused.
func decodePromptFile(data []byte) (frontMatter, string, error) {
	var fm frontMatter
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	rest, ok := strings.CutPrefix(text, "---\n")
	if !ok {
		return fm, "", fmt.Errorf("line 1: want --- to open the front matter")
	}
	head, body, ok := strings.Cut(rest, "\n---\n")
	if !ok {
		return fm, "", fmt.Errorf("the front matter has no closing ---")
	}
	sc := bufio.NewScanner(strings.NewReader(head))
	for n := 2; sc.Scan(); n++ {
		l := sc.Text()
		if strings.TrimSpace(l) == "" {
			continue
		}
		key, val, ok := strings.Cut(l, ":")
		if !ok {
			return fm, "", fmt.Errorf("line %d: want key: value", n)
		}
		var dst any
		switch strings.TrimSpace(key) {
		case "name":
			dst = &fm.Name
		case "version":
			dst = &fm.Version
		case "message":
			dst = &fm.Message
		case "author":
			dst = &fm.Author
		case "created_at":
			dst = &fm.CreatedAt
		case "variables":
			dst = &fm.Variables
		case "config":
			dec := json.NewDecoder(strings.NewReader(val))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&fm.Config); err != nil {
				return fm, "", fmt.Errorf("line %d: config: %v", n, err)
			}
			continue
		default:
			return fm, "", fmt.Errorf("line %d: unknown key %q", n, key)
		}
		if err := json.Unmarshal([]byte(strings.TrimSpace(val)), dst); err != nil {
			return fm, "", fmt.Errorf("line %d: %s: %v", n, key, err)
		}
	}
	if fm.Name == "" {
		return fm, "", fmt.Errorf("the front matter has no name")
	}
	return fm, body, nil
}

// openPrompts opens a data dir's store and its prompt registry, seeded.
func openPrompts(ctx context.Context, dataDir string) (*store.Store, *prompt.Registry, error) {
	st, err := store.Open(ctx, dataDir, store.Options{})
	if err != nil {
		return nil, nil, err
	}
	reg := prompt.New(st, nil)
	if err := reg.Seed(ctx); err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, reg, nil
}

func runPromptsExport(ctx context.Context, env *Env, cmd *command, args []string) error {
	fs := cmd.flagSet(env)
	app := newAppFlags(fs, env, true, false)
	if err := cmd.parse(env, fs, args, true); err != nil {
		return err
	}
	if err := app.done(); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("give one folder to write to")
	}
	dir := fs.Arg(0)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	st, _, err := openPrompts(ctx, app.cfg.DataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	ps, err := st.Prompts(ctx)
	if err != nil {
		return err
	}
	written, same := 0, 0
	for _, p := range ps {
		vs, err := st.PromptVersions(ctx, p.Name)
		if err != nil {
			return err
		}
		for _, v := range vs {
			path := filepath.Join(dir, p.Name+"@"+strconv.Itoa(v.Version)+promptFileExt)
			data := encodePromptFile(v)
			if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
				same++
				continue
			}
			if err := os.WriteFile(path, data, 0o644); err != nil {
				return err
			}
			written++
		}
	}
	fmt.Fprintf(env.Stdout, "%d prompt versions written to %s (%d unchanged)\n", written, dir, same)
	return nil
}

func runPromptsImport(ctx context.Context, env *Env, cmd *command, args []string) error {
	fs := cmd.flagSet(env)
	app := newAppFlags(fs, env, true, false)
	if err := cmd.parse(env, fs, args, true); err != nil {
		return err
	}
	if err := app.done(); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("give one folder to read from")
	}
	dir := fs.Arg(0)
	paths, err := filepath.Glob(filepath.Join(dir, "*"+promptFileExt))
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return fmt.Errorf("%s holds no %s files", dir, promptFileExt)
	}
	type file struct {
		path string
		fm   frontMatter
		body string
	}
	var files []file
	failed := 0
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err == nil && len(data) > store.MaxPromptTemplate+4096 {
			err = fmt.Errorf("file is larger than a prompt may be")
		}
		var f file
		if err == nil {
			f.fm, f.body, err = decodePromptFile(data)
		}
		if err != nil {
			fmt.Fprintf(env.Stderr, "%s: %v\n", filepath.Base(path), err)
			failed++
			continue
		}
		f.path = path
		files = append(files, f)
	}
	slices.SortFunc(files, func(a, b file) int {
		if c := strings.Compare(a.fm.Name, b.fm.Name); c != 0 {
			return c
		}
		return a.fm.Version - b.fm.Version
	})
	st, reg, err := openPrompts(ctx, app.cfg.DataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	actor := store.Actor{Kind: store.ActorCLI, Name: "llmops prompts import"}
	created, existing := 0, 0
	for _, f := range files {
		p, err := st.Prompt(ctx, f.fm.Name)
		var v *store.PromptVersion
		isNew := false
		if err == nil {
			cfg := f.fm.Config
			body := f.body
			vars := f.fm.Variables
			if vars == nil {
				vars = []string{}
			}
			msg := f.fm.Message
			if strings.TrimSpace(msg) == "" {
				msg = "Imported from " + filepath.Base(f.path)
			}
			v, isNew, err = reg.Save(ctx, actor, f.fm.Name, prompt.Draft{Template: &body, Variables: vars, Config: &cfg, Message: msg}, p.Latest)
		}
		if err != nil {
			fmt.Fprintf(env.Stderr, "%s: %s\n", filepath.Base(f.path), store.ErrorMessage(err))
			failed++
			continue
		}
		if isNew {
			created++
			fmt.Fprintf(env.Stdout, "%s: new version %s@%d\n", filepath.Base(f.path), v.Name, v.Version)
		} else {
			existing++
		}
	}
	fmt.Fprintf(env.Stdout, "%d new versions, %d already there, %d failed\n", created, existing, failed)
	if failed > 0 {
		return fmt.Errorf("%d of %d prompt files failed", failed, len(paths))
	}
	return nil
}
