package store

import "fmt"

// Role is what a user or API key may do. Roles are ordered: each one may do
// everything the ones below it may.
type Role string

const (
	RoleViewer   Role = "viewer"   // reads everything
	RoleReviewer Role = "reviewer" // + labels answers in the review queue, gives feedback
	RoleEditor   Role = "editor"   // + changes knowledge, prompts, test sets; runs evals
	RoleAdmin    Role = "admin"    // + manages users, API keys and settings
)

// Roles lists every role from most to least powerful.
var Roles = []Role{RoleAdmin, RoleEditor, RoleReviewer, RoleViewer}

func (r Role) rank() int {
	switch r {
	case RoleAdmin:
		return 4
	case RoleEditor:
		return 3
	case RoleReviewer:
		return 2
	case RoleViewer:
		return 1
	}
	return 0
}

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool { return r.rank() > 0 }

// Allows reports whether r may do what needs at least role min.
func (r Role) Allows(min Role) bool { return r.Valid() && r.rank() >= min.rank() }

// ParseRole validates a role name.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if !r.Valid() {
		return "", Errorf(EINVALID, "role must be one of admin, editor, reviewer, viewer (got %q)", s)
	}
	return r, nil
}

// Actor is who made a change: a signed-in user, an API key, the CLI or the
// system itself. It is recorded on every audit event.
type Actor struct {
	Kind string `json:"kind"` // "user", "key", "cli", "system" or "anonymous"
	ID   string `json:"id,omitempty"`
	Name string `json:"name"`
}

// Actor kinds.
const (
	ActorUser   = "user"
	ActorKey    = "key"
	ActorCLI    = "cli"
	ActorSystem = "system"
	// ActorAnonymous acts in sign-in attempts that have not (yet) proved
	// who they are; its Name is "anonymous".
	ActorAnonymous = "anonymous"
)

func (a Actor) String() string {
	if a.Kind == "" {
		return "unknown"
	}
	return fmt.Sprintf("%s:%s", a.Kind, a.Name)
}
