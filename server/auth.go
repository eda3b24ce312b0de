package server

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/bcrypt"

	"llmops/store"
	"llmops/ui"
)

const sessionCookie = "llmops_session"

// principal is who a request acts as: a signed-in user or an API key.
type principal struct {
	actor store.Actor
	role  store.Role
	user  *store.User   // set for sessions
	key   *store.APIKey // set for API keys
	// sessionID names the browser session on traces: a prefix of the
	// session's stored hash, never the token.
	sessionID string
	session   *store.Session // the browser session, for cookie sign-ins
}

// principalKey is the echo context key; values are only ever *principal.
const principalKey = "llmops.principal"

// principalOf returns the request's principal, or nil when anonymous.
func principalOf(c echo.Context) *principal {
	p, _ := c.Get(principalKey).(*principal)
	return p
}

// authenticate identifies the caller from an Authorization: Bearer API key
// or the session cookie. A bad key fails the request at once, except on
// public routes, which ignore the header: a probe or a browser sending a
// stale key still gets its health check or login page. A stale cookie is
// cleared and the request continues anonymous, so public pages still work
// and protected ones redirect to login.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		if strings.HasPrefix(c.Request().URL.Path, widgetPrefix) {
			// A refused widget key must still be readable by the page.
			setWidgetCORS(c)
		}
		if h := c.Request().Header.Get(echo.HeaderAuthorization); h != "" && !s.isPublic(c) {
			secret, ok := strings.CutPrefix(h, "Bearer ")
			if !ok {
				return store.Errorf(store.EUNAUTHORIZED, "Authorization header must be \"Bearer KEY\"")
			}
			k, err := s.store.APIKeyBySecret(ctx, strings.TrimSpace(secret))
			if err != nil {
				return err
			}
			// Last-used is bookkeeping: at most one write a minute per key.
			if now := s.now(); now.Sub(k.LastUsedAt) > time.Minute {
				if err := s.store.TouchAPIKey(ctx, k.ID, now); err != nil {
					s.log.Warn("touch api key", "key", k.ID, "err", err)
				}
			}
			c.Set(principalKey, &principal{actor: store.Actor{Kind: store.ActorKey, ID: k.ID, Name: k.Name}, role: k.Role, key: k})
			return next(c)
		}
		if ck, err := c.Cookie(sessionCookie); err == nil && ck.Value != "" {
			sess, u, err := s.store.SessionUser(ctx, ck.Value, s.cfg.SessionIdle)
			switch {
			case err == nil:
				// Last-seen is bookkeeping too: at most one write a minute
				// per session, however many requests it makes.
				if s.now().Sub(sess.LastSeenAt) >= time.Minute {
					if err := s.store.TouchSession(ctx, sess.Hash, c.RealIP()); err != nil {
						s.log.Warn("touch session", "session", sess.ID(), "err", err)
					}
				}
				c.Set(principalKey, &principal{actor: store.Actor{Kind: store.ActorUser, ID: u.ID, Name: u.Email}, role: u.Role, user: u, sessionID: sess.ID(), session: sess})
			case store.ErrorCode(err) == store.EUNAUTHORIZED:
				s.clearSessionCookie(c)
			default:
				return err
			}
		}
		return next(c)
	}
}

// require lets a request through only for principals holding at least
// role min: anonymous callers get 401 (pages: a redirect to login, or to
// first-run setup while no admin exists) and weaker roles get 403.
func (s *Server) require(min store.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p := principalOf(c)
			if p == nil {
				if !wantsJSON(c) {
					if open, err := s.setupOpen(c.Request().Context()); err != nil {
						return err
					} else if open {
						return c.Redirect(http.StatusSeeOther, "/setup")
					}
				}
				return store.Errorf(store.EUNAUTHORIZED, "sign in or send Authorization: Bearer KEY")
			}
			if p.key != nil && p.key.Publishable() {
				return store.Errorf(store.EFORBIDDEN, "a publishable key can only ask and send feedback through the chat widget (/api/v1/widget/…)")
			}
			if !p.role.Allows(min) {
				return store.Errorf(store.EFORBIDDEN, "this needs the %s role; you are %s.", min, p.role)
			}
			return next(c)
		}
	}
}

func (s *Server) setSessionCookie(c echo.Context, token string) {
	c.SetCookie(&http.Cookie{
		Name: sessionCookie, Value: token, Path: "/",
		MaxAge: int(s.cfg.SessionTTL / time.Second), HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: s.cfg.SecureCookies || c.Request().TLS != nil,
	})
}

func (s *Server) clearSessionCookie(c echo.Context) {
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: s.cfg.SecureCookies || c.Request().TLS != nil})
}

// viewer is the signed-in user as pages show them.
func viewerOf(c echo.Context) ui.Viewer {
	p := principalOf(c)
	if p == nil {
		return ui.Viewer{}
	}
	if p.user != nil {
		return ui.Viewer{Name: p.user.Name, Email: p.user.Email, Role: string(p.role), IsAdmin: p.role == store.RoleAdmin}
	}
	return ui.Viewer{Name: p.actor.Name, Email: "API key", Role: string(p.role), IsAdmin: p.role == store.RoleAdmin}
}

func chrome(c echo.Context, title, active string) ui.Chrome {
	return ui.Chrome{Title: title, Active: active, Viewer: viewerOf(c)}
}

// Passwords: bcrypt limits input to 72 bytes; refuse longer ones instead of
// silently ignoring the rest.
const (
	minPasswordLen = 10 // characters
	maxPasswordLen = 72 // bytes
)

// passwordRule is the one wording of the rule, for forms and errors.
var passwordRule = fmt.Sprintf("at least %d characters and at most %d bytes", minPasswordLen, maxPasswordLen)

// passwordCost is bcrypt's work factor for new hashes. It is a variable
// only so tests can hash cheaply: under -race one hash at the default cost
// takes seconds, and the sign-in tests make dozens. A hash keeps its own
// cost, so a check is as costly as its hash was.
var passwordCost = bcrypt.DefaultCost

// UseLeastPasswordCost makes new password hashes use bcrypt's least cost.
// For tests of other packages that run the server in process (the root
// package's end-to-end and browser tests), from their TestMain before any
// server starts; the binary never calls it (server's TestPasswordCost
// checks the shipped cost).
func UseLeastPasswordCost() { passwordCost = bcrypt.MinCost }

func hashPassword(pw string) ([]byte, error) {
	if n := utf8.RuneCountInString(pw); n < minPasswordLen {
		return nil, store.Errorf(store.EINVALID, "password must be %s; this one has %d characters", passwordRule, n)
	}
	if len(pw) > maxPasswordLen {
		return nil, store.Errorf(store.EINVALID, "password must be %s; this one has %d bytes", passwordRule, len(pw))
	}
	return bcrypt.GenerateFromPassword([]byte(pw), passwordCost)
}

// dummyHash is compared against when the email is unknown, so a wrong email
// and a wrong password take the same time.
// It is made on first use so start-up does not pay for it.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("llmops-timing-equaliser"), passwordCost)
	return h
})

func checkPassword(hash []byte, pw string) bool {
	if hash == nil {
		_ = bcrypt.CompareHashAndPassword(dummyHash(), []byte(pw))
		return false
	}
	return bcrypt.CompareHashAndPassword(hash, []byte(pw)) == nil
}

func newToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// safeNext keeps post-login redirects on this site.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if next == "" || err != nil || u.IsAbs() || u.Host != "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}
