// Package prompt is the prompt registry: every prompt the product uses
// (support-answer, followup-rewrite, fallback-message and the judge-*
// prompts), with immutable versions, labels that point at a version or
// split traffic between versions, a diff between versions, and the
// compiled-template cache the answer path resolves through.
//
// # The model
//
// A version (store.PromptVersion) is a template text, the variables it
// declares, a Config (model, temperature, max tokens, top-k, retrieval
// mode, rerank, groundedness threshold; a key left out takes the server's
// setting), a commit message, an author and a time. Versions are
// content-addressed: saving the same template, variables and config
// again returns the existing version. A label (production, staging, dev,
// or any custom name) points at one version or at a weighted split.
//
// Templates are Go text/template. A line that is exactly "[system]" or
// "[user]" starts a chat message of that role; a template without markers
// is one user message (or, for fallback-message, the text itself). The
// variables each prompt gets are in its Spec (support-answer: .Question
// and .Context, a list of Passage). Saving checks the template: it must
// parse, use only declared variables and use every required one; errors
// are EINVALID with the line and column (errors.As finds a
// *TemplateError with them).
//
// # What a UI calls
//
//	List(ctx)                          the Prompts page: every prompt with its latest version and labels
//	Get(ctx, name)                     one prompt: versions (newest first), labels, label history, gate
//	Version(ctx, name, v)              one version in full
//	Save(ctx, actor, name, draft, base) a new version (created=false: same content existed)
//	MoveLabel(ctx, actor, name, label, target, override) move or split a label; production obeys the gate
//	DeleteVersion(ctx, actor, name, v) refused while a label points at it
//	Diff(ctx, name, a, b)              line diff of the templates, key-by-key config diff
//	Draft(name, template, vars, config) a compiled unsaved version (the playground)
//
// # What the answer path calls
//
//	Resolve(ctx, name, label, sticky) → *Compiled
//
// Resolve picks the label's version (for a split, by a hash of sticky, so
// one conversation or widget visitor always gets the same arm) and
// returns its compiled templates from a cache. Moving a label through
// MoveLabel invalidates the prompt's cache entry, so the next ask sees
// the new version without a restart; an ask keeps the *Compiled it
// resolved (it is immutable), so an ask in flight finishes on its version.
package prompt

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"

	"llmops/rag/judge"
	"llmops/store"
)

// Store is what the registry keeps prompts in; *store.Store is one.
type Store interface {
	Prompts(ctx context.Context) ([]store.Prompt, error)
	Prompt(ctx context.Context, name string) (*store.Prompt, error)
	PromptVersions(ctx context.Context, name string) ([]store.PromptVersion, error)
	PromptVersion(ctx context.Context, name string, v int) (*store.PromptVersion, error)
	CreatePrompt(ctx context.Context, actor store.Actor, p store.Prompt, first store.PromptVersion, labels []string) (bool, error)
	SavePromptVersion(ctx context.Context, actor store.Actor, v store.PromptVersion, base int) (*store.PromptVersion, bool, error)
	MovePromptLabel(ctx context.Context, actor store.Actor, name, label string, to store.PromptLabel, reason string, check func(*store.Prompt) error) (*store.Prompt, error)
	LabelHistory(ctx context.Context, name, label string) ([]store.LabelMove, error)
	DeletePromptVersion(ctx context.Context, actor store.Actor, name string, v int) error
	SetPromptGate(ctx context.Context, actor store.Actor, name string, g *store.PromptGate) (*store.Prompt, error)
}

var _ Store = (*store.Store)(nil)

// Labels every prompt is seeded with.
const (
	LabelProduction = "production"
	LabelStaging    = "staging"
	LabelDev        = "dev"
)

// Labels are the standard labels, the ones --env picks from.
var Labels = []string{LabelProduction, LabelStaging, LabelDev}

// GateCheck decides whether production may move to version of p (p.Gate
// is set): nil when a finished run on the gate's set passes, else an
// error saying why not (ECONFLICT). The server wires it to evals.
type GateCheck func(ctx context.Context, p *store.Prompt, version int) error

// Registry is the prompt registry. It is safe for concurrent use.
type Registry struct {
	st   Store
	gate GateCheck

	mu    sync.RWMutex
	cache map[string]*entry // prompt name → its labels and compiled versions
}

// entry is what Resolve needs of one prompt, loaded once.
type entry struct {
	labels   map[string]store.PromptLabel
	compiled map[int]*Compiled
}

// New returns a registry over st. gate may be nil (no gate is enforced).
func New(st Store, gate GateCheck) *Registry {
	return &Registry{st: st, gate: gate, cache: map[string]*entry{}}
}

// Seed stores version 1 of every built-in prompt that is not stored yet,
// with production, staging and dev pointing at it. It runs at every start.
func (r *Registry) Seed(ctx context.Context) error {
	for _, s := range Builtins {
		v := store.PromptVersion{Template: s.Builtin, Variables: slices.Clone(s.Variables), Config: s.Config, Message: "Built-in text"}
		p := store.Prompt{Name: s.Name, Description: s.Description, Kind: s.Kind}
		if _, err := r.st.CreatePrompt(ctx, store.Actor{Kind: store.ActorSystem, Name: "llmops"}, p, v, Labels); err != nil {
			return fmt.Errorf("seed prompt %s: %w", s.Name, err)
		}
	}
	return nil
}

// Compiled is a version ready to render: immutable, shared by every ask
// that resolved it.
type Compiled struct {
	Version  store.PromptVersion
	Label    string // the label it was resolved through; "" for a version or a draft
	Draft    bool   // an unsaved version (the playground)
	spec     *Spec
	sections []section
}

// Ref is "name@version" ("name@draft" for an unsaved version), as traces
// and answers record it.
func (c *Compiled) Ref() string {
	if c.Draft {
		return c.Version.Name + "@draft"
	}
	return c.Version.Name + "@" + strconv.Itoa(c.Version.Version)
}

// Config is the version's config.
func (c *Compiled) Config() Config { return c.Version.Config }

// Messages renders data into chat messages, in template order.
func (c *Compiled) Messages(data any) ([]Message, error) {
	out := make([]Message, 0, len(c.sections))
	var b bytes.Buffer
	for _, s := range c.sections {
		b.Reset()
		if err := s.t.Execute(&b, data); err != nil {
			return nil, store.Errorf(store.EINVALID, "prompt %s: %v", c.Ref(), err)
		}
		out = append(out, Message{Role: s.role, Content: b.String()})
	}
	return out, nil
}

// Text renders data as one text (the messages' contents, joined by a
// blank line): for prompts that are not chat messages.
func (c *Compiled) Text(data any) (string, error) {
	msgs, err := c.Messages(data)
	if err != nil {
		return "", err
	}
	parts := make([]string, len(msgs))
	for i, m := range msgs {
		parts[i] = m.Content
	}
	return strings.Join(parts, "\n\n"), nil
}

func compileVersion(v *store.PromptVersion) (*Compiled, error) {
	spec := SpecOf(v.Name)
	if spec == nil {
		return nil, store.Errorf(store.ENOTFOUND, "no prompt %q", v.Name)
	}
	secs, err := compile(spec, v.Template, v.Variables)
	if err != nil {
		return nil, err
	}
	return &Compiled{Version: *v, spec: spec, sections: secs}, nil
}

// Builtin returns version 1 of the built-in prompt name, compiled, for
// code that runs without a registry (tests, tools).
func Builtin(name string) *Compiled {
	s := SpecOf(name)
	if s == nil {
		panic("prompt: no built-in prompt " + name)
	}
	c, err := compileVersion(&store.PromptVersion{Name: s.Name, Version: 1, Template: s.Builtin, Variables: s.Variables, Config: s.Config})
	if err != nil {
		panic("prompt: built-in " + name + ": " + err.Error())
	}
	return c
}

// Resolve returns the version label points at for prompt name, compiled.
// For a split, sticky picks the arm (the same sticky key always gets the
// same version while the split stands); an empty sticky picks at random.
// A label the prompt does not have is ENOTFOUND.
func (r *Registry) Resolve(ctx context.Context, name, label, sticky string) (*Compiled, error) {
	r.mu.RLock()
	e := r.cache[name]
	r.mu.RUnlock()
	if e == nil {
		var err error
		if e, err = r.load(ctx, name); err != nil {
			return nil, err
		}
	}
	l, ok := e.labels[label]
	if !ok {
		return nil, store.Errorf(store.ENOTFOUND, "prompt %s has no label %q", name, label)
	}
	v := Pick(name, label, l, sticky)
	r.mu.RLock()
	c := e.compiled[v]
	r.mu.RUnlock()
	if c == nil {
		var err error
		if c, err = r.compileInto(ctx, e, name, v); err != nil {
			return nil, err
		}
	}
	if c.Label == label {
		return c, nil
	}
	cp := *c
	cp.Label = label
	return &cp, nil
}

// ResolveVersion returns version v of name, compiled (eval runs and the
// playground pick versions by number).
func (r *Registry) ResolveVersion(ctx context.Context, name string, v int) (*Compiled, error) {
	r.mu.RLock()
	e := r.cache[name]
	var c *Compiled
	if e != nil {
		c = e.compiled[v]
	}
	r.mu.RUnlock()
	if c != nil {
		return c, nil
	}
	pv, err := r.st.PromptVersion(ctx, name, v)
	if err != nil {
		return nil, err
	}
	return compileVersion(pv)
}

func (r *Registry) load(ctx context.Context, name string) (*entry, error) {
	p, err := r.st.Prompt(ctx, name)
	if err != nil {
		return nil, err
	}
	e := &entry{labels: p.Labels, compiled: map[int]*Compiled{}}
	r.mu.Lock()
	defer r.mu.Unlock()
	if cur := r.cache[name]; cur != nil {
		return cur, nil // another ask loaded it first
	}
	r.cache[name] = e
	return e, nil
}

func (r *Registry) compileInto(ctx context.Context, e *entry, name string, v int) (*Compiled, error) {
	pv, err := r.st.PromptVersion(ctx, name, v)
	if err != nil {
		return nil, err
	}
	c, err := compileVersion(pv)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	if cur := e.compiled[v]; cur != nil {
		c = cur
	} else {
		e.compiled[v] = c
	}
	r.mu.Unlock()
	return c, nil
}

// invalidate drops name's cache entry: the next Resolve reloads it.
func (r *Registry) invalidate(name string) {
	r.mu.Lock()
	delete(r.cache, name)
	r.mu.Unlock()
}

// Pick chooses the version a label gives sticky: the label's version, or
// for a split the arm a hash of (name, label, sticky) falls in, weighted.
// An empty sticky picks at random.
func Pick(name, label string, l store.PromptLabel, sticky string) int {
	if len(l.Split) == 0 {
		return l.Version
	}
	total := 0
	for _, s := range l.Split {
		total += s.Weight
	}
	if total <= 0 {
		return l.Split[0].Version
	}
	var u uint64
	if sticky == "" {
		u = rand.Uint64()
	} else {
		h := fnv.New64a()
		h.Write([]byte(name))
		h.Write([]byte{0})
		h.Write([]byte(label))
		h.Write([]byte{0})
		h.Write([]byte(sticky))
		u = mix(h.Sum64())
	}
	x := int(u % uint64(total))
	for _, s := range l.Split {
		if x < s.Weight {
			return s.Version
		}
		x -= s.Weight
	}
	return l.Split[len(l.Split)-1].Version
}

// mix is splitmix64's finaliser: FNV's low bits are poorly spread for
// keys that differ only at the end, and the modulo reads the low bits.
func mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Summary is one prompt of the list.
type Summary struct {
	Name        string         `json:"name"`
	Description string         `json:"description"`
	Kind        string         `json:"kind"`
	Latest      int            `json:"latest"`
	Labels      map[string]any `json:"labels"` // label → version, or its split
}

// labelView is how the API shows a label: its version, or its split.
func labelView(l store.PromptLabel) any {
	if len(l.Split) == 0 {
		return l.Version
	}
	return map[string]any{"split": l.Split}
}

// List returns every prompt, in the order of Builtins.
func (r *Registry) List(ctx context.Context) ([]Summary, error) {
	ps, err := r.st.Prompts(ctx)
	if err != nil {
		return nil, err
	}
	order := func(name string) int {
		for i, s := range Builtins {
			if s.Name == name {
				return i
			}
		}
		return len(Builtins)
	}
	slices.SortFunc(ps, func(a, b store.Prompt) int {
		return cmp.Or(cmp.Compare(order(a.Name), order(b.Name)), strings.Compare(a.Name, b.Name))
	})
	out := make([]Summary, len(ps))
	for i, p := range ps {
		out[i] = Summary{Name: p.Name, Description: p.Description, Kind: p.Kind, Latest: p.Latest, Labels: map[string]any{}}
		for l, t := range p.Labels {
			out[i].Labels[l] = labelView(t)
		}
	}
	return out, nil
}

// VersionInfo is a version as the prompt's page lists it.
type VersionInfo struct {
	Version   int    `json:"version"`
	Message   string `json:"message"`
	Author    string `json:"author"`
	CreatedAt string `json:"created_at"`
}

// Detail is one prompt with its versions (newest first), labels, label
// history (newest first) and gate.
type Detail struct {
	Summary
	Versions  []VersionInfo       `json:"versions"`
	History   []store.LabelMove   `json:"history"`
	Gate      *store.PromptGate   `json:"gate,omitempty"`
	Variables []string            `json:"variables"` // what the product provides
	Required  []string            `json:"required"`  // what a version must use
	LabelInfo map[string]LabelRow `json:"label_info"`
}

// LabelRow is a label with who moved it last and when.
type LabelRow struct {
	store.PromptLabel
}

// Get returns prompt name in detail.
func (r *Registry) Get(ctx context.Context, name string) (*Detail, error) {
	p, err := r.st.Prompt(ctx, name)
	if err != nil {
		return nil, err
	}
	vs, err := r.st.PromptVersions(ctx, name)
	if err != nil {
		return nil, err
	}
	hist, err := r.st.LabelHistory(ctx, name, "")
	if err != nil {
		return nil, err
	}
	d := &Detail{Summary: Summary{Name: p.Name, Description: p.Description, Kind: p.Kind, Latest: p.Latest, Labels: map[string]any{}},
		Versions: make([]VersionInfo, 0, len(vs)), History: hist, Gate: p.Gate, LabelInfo: map[string]LabelRow{}}
	if d.History == nil {
		d.History = []store.LabelMove{}
	}
	for l, t := range p.Labels {
		d.Labels[l] = labelView(t)
		d.LabelInfo[l] = LabelRow{t}
	}
	for i := len(vs) - 1; i >= 0; i-- {
		v := vs[i]
		d.Versions = append(d.Versions, VersionInfo{Version: v.Version, Message: v.Message, Author: v.Author, CreatedAt: v.CreatedAt.Format("2006-01-02T15:04:05Z07:00")})
	}
	if s := SpecOf(name); s != nil {
		d.Variables, d.Required = s.Variables, s.Required
	}
	return d, nil
}

// Version returns version v of name.
func (r *Registry) Version(ctx context.Context, name string, v int) (*store.PromptVersion, error) {
	return r.st.PromptVersion(ctx, name, v)
}

// Draft is a version being saved, or tried unsaved. A nil field is taken
// from the base version.
type Draft struct {
	Template  *string  `json:"template,omitempty"`
	Variables []string `json:"variables,omitempty"`
	Config    *Config  `json:"config,omitempty"`
	Message   string   `json:"message"`
}

// build fills d from base and checks it.
func (r *Registry) build(ctx context.Context, name string, d Draft, base int) (*store.PromptVersion, *Compiled, error) {
	spec := SpecOf(name)
	if spec == nil {
		return nil, nil, store.Errorf(store.ENOTFOUND, "no prompt %q", name)
	}
	v := store.PromptVersion{Name: name, Message: strings.TrimSpace(d.Message)}
	if d.Template == nil || d.Config == nil || d.Variables == nil {
		if base < 1 {
			return nil, nil, store.Errorf(store.EINVALID, "base_version is required (the version this one changes)")
		}
		bv, err := r.st.PromptVersion(ctx, name, base)
		if err != nil {
			if store.ErrorCode(err) == store.ENOTFOUND {
				return nil, nil, store.Errorf(store.EINVALID, "base_version %d: %s", base, store.ErrorMessage(err))
			}
			return nil, nil, err
		}
		v.Template, v.Variables, v.Config = bv.Template, bv.Variables, bv.Config
	}
	if d.Template != nil {
		v.Template = strings.ReplaceAll(*d.Template, "\r\n", "\n")
	}
	if d.Variables != nil {
		v.Variables = d.Variables
	}
	if d.Config != nil {
		v.Config = *d.Config
	}
	if err := ValidateConfig(v.Config); err != nil {
		return nil, nil, err
	}
	secs, err := compile(spec, v.Template, v.Variables)
	if err != nil {
		return nil, nil, err
	}
	return &v, &Compiled{Version: v, spec: spec, sections: secs}, nil
}

// Save stores d as the next version of name, made from version base. The
// same content as an existing version returns that version (created
// false). When base is not the latest version the save fails with
// *store.ConflictError (ECONFLICT) holding the latest.
func (r *Registry) Save(ctx context.Context, actor store.Actor, name string, d Draft, base int) (*store.PromptVersion, bool, error) {
	if len([]rune(d.Message)) > store.MaxPromptMessage {
		return nil, false, store.Errorf(store.EINVALID, "message is longer than %d characters", store.MaxPromptMessage)
	}
	if strings.TrimSpace(d.Message) == "" {
		return nil, false, store.Errorf(store.EINVALID, "message is required: say what changed and why")
	}
	v, _, err := r.build(ctx, name, d, base)
	if err != nil {
		return nil, false, err
	}
	return r.st.SavePromptVersion(ctx, actor, *v, base)
}

// Compile checks an unsaved draft of name (made from version base) and
// returns it compiled, for the playground.
func (r *Registry) Compile(ctx context.Context, name string, d Draft, base int) (*Compiled, error) {
	_, c, err := r.build(ctx, name, d, base)
	if err != nil {
		return nil, err
	}
	c.Draft = true
	return c, nil
}

// Target is where a label moves: one version, or a split by weight.
type Target struct {
	Version int                 `json:"version,omitempty"`
	Split   []store.SplitTarget `json:"split,omitempty"`
}

// MaxWeight bounds one arm's weight.
const MaxWeight = 1_000_000

func (t Target) label() (store.PromptLabel, error) {
	switch {
	case t.Version != 0 && len(t.Split) > 0:
		return store.PromptLabel{}, store.Errorf(store.EINVALID, "give version or split, not both")
	case len(t.Split) > 0:
		if len(t.Split) > store.MaxSplitArms {
			return store.PromptLabel{}, store.Errorf(store.EINVALID, "split: at most %d versions", store.MaxSplitArms)
		}
		total, seen := 0, map[int]bool{}
		for i, s := range t.Split {
			if s.Version < 1 {
				return store.PromptLabel{}, store.Errorf(store.EINVALID, "split[%d].version must be a version number", i)
			}
			if seen[s.Version] {
				return store.PromptLabel{}, store.Errorf(store.EINVALID, "split: version %d is listed twice", s.Version)
			}
			seen[s.Version] = true
			if s.Weight < 0 || s.Weight > MaxWeight {
				return store.PromptLabel{}, store.Errorf(store.EINVALID, "split[%d].weight must be 0 to %d (got %d)", i, MaxWeight, s.Weight)
			}
			total += s.Weight
		}
		if total <= 0 {
			return store.PromptLabel{}, store.Errorf(store.EINVALID, "split weights must sum to a positive number")
		}
		if len(t.Split) == 1 {
			return store.PromptLabel{Version: t.Split[0].Version}, nil
		}
		return store.PromptLabel{Split: slices.Clone(t.Split)}, nil
	case t.Version > 0:
		return store.PromptLabel{Version: t.Version}, nil
	}
	return store.PromptLabel{}, store.Errorf(store.EINVALID, "give version (a version number) or split")
}

// ErrGate is wrapped by the ECONFLICT of a production move the gate
// refuses.
var ErrGate = errors.New("the eval gate refuses this version")

// MoveLabel points label of name at t, effective for the next Resolve. A
// move of production on a prompt with a gate needs every version it
// names to pass (GateCheck), unless override is a reason given by an admin
// (the caller checks the role); the override is kept in the label's
// history and the audit log.
func (r *Registry) MoveLabel(ctx context.Context, actor store.Actor, name, label string, t Target, override string) (*store.Prompt, error) {
	to, err := t.label()
	if err != nil {
		return nil, err
	}
	override = strings.TrimSpace(override)
	if len([]rune(override)) > store.MaxPromptMessage {
		return nil, store.Errorf(store.EINVALID, "override_reason is longer than %d characters", store.MaxPromptMessage)
	}
	var check func(*store.Prompt) error
	if label == LabelProduction && override == "" && r.gate != nil {
		// A version production has answered with before needs no run:
		// rolling back must stay one click.
		ran := map[int]bool{}
		hist, err := r.st.LabelHistory(ctx, name, LabelProduction)
		if err != nil {
			return nil, err
		}
		for _, m := range hist {
			for _, part := range strings.Split(m.To, ",") {
				n, _ := strconv.Atoi(strings.SplitN(part, ":", 2)[0])
				ran[n] = true
			}
		}
		check = func(p *store.Prompt) error {
			if p.Gate == nil {
				return nil
			}
			for _, v := range to.Versions() {
				if ran[v] {
					continue
				}
				if err := r.gate(ctx, p, v); err != nil {
					return err
				}
			}
			return nil
		}
	}
	p, err := r.st.MovePromptLabel(ctx, actor, name, label, to, override, check)
	if err != nil {
		return nil, err
	}
	r.invalidate(name)
	return p, nil
}

// DeleteVersion deletes version v of name; refused (ECONFLICT) while a
// label points at it.
func (r *Registry) DeleteVersion(ctx context.Context, actor store.Actor, name string, v int) error {
	if err := r.st.DeletePromptVersion(ctx, actor, name, v); err != nil {
		return err
	}
	r.invalidate(name)
	return nil
}

// SetGate sets or (nil) clears the eval gate of name.
func (r *Registry) SetGate(ctx context.Context, actor store.Actor, name string, g *store.PromptGate) (*store.Prompt, error) {
	return r.st.SetPromptGate(ctx, actor, name, g)
}

// History lists name's label moves, newest first (label "" for all).
func (r *Registry) History(ctx context.Context, name, label string) ([]store.LabelMove, error) {
	return r.st.LabelHistory(ctx, name, label)
}

// JudgeRenderer renders the judge's templates from the registry: the
// version label points at (production's when the prompt lacks label) of
// the prompt named like the template ("judge-support" for
// "judge-support@1"). Its ref ("judge-support@3") keys the judge's cache.
func (r *Registry) JudgeRenderer(label string) judge.Renderer {
	return func(ctx context.Context, name string, input any) (string, string, error) {
		base, _, _ := strings.Cut(name, "@")
		c, err := r.Resolve(ctx, base, label, "")
		if err != nil && store.ErrorCode(err) == store.ENOTFOUND && label != LabelProduction {
			c, err = r.Resolve(ctx, base, LabelProduction, "")
		}
		if err != nil {
			return "", "", fmt.Errorf("judge prompt %s: %w", base, err)
		}
		text, err := c.Text(input)
		if err != nil {
			return "", "", err
		}
		return text, c.Ref(), nil
	}
}
