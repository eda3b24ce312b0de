package server

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"llmops/store"
	"llmops/ui"
)

// setupOpen reports whether first-run setup still waits for its admin:
// no account exists yet. The first account may also come from the API
// (POST /api/v1/users with a key made by llmops keys create); whichever
// way it came, setup closes then, for good, and its token stops working.
func (s *Server) setupOpen(ctx context.Context) (bool, error) {
	if s.setupDone.Load() {
		return false, nil
	}
	n, err := s.store.CountUsers(ctx)
	if err != nil {
		return false, err
	}
	if n > 0 {
		s.finishSetup()
		return false, nil
	}
	return true, nil
}

// handleSetupPage shows first-run setup while no admin exists.
func (s *Server) handleSetupPage(c echo.Context) error {
	if open, err := s.setupOpen(c.Request().Context()); err != nil {
		return err
	} else if !open {
		return c.Redirect(http.StatusSeeOther, "/login")
	}
	return render(c, http.StatusOK, ui.SetupPage(ui.AuthForm{Token: c.QueryParam("token")}))
}

// handleSetup creates the first admin, given the one-time token printed on
// the terminal, and signs them in.
func (s *Server) handleSetup(c echo.Context) error {
	if open, err := s.setupOpen(c.Request().Context()); err != nil {
		return err
	} else if !open {
		return c.Redirect(http.StatusSeeOther, "/login")
	}
	if err := parseForm(c); err != nil {
		return err
	}
	f := ui.AuthForm{Name: c.FormValue("name"), Email: c.FormValue("email"), Token: c.FormValue("token")}
	target := strings.ToLower(strings.TrimSpace(f.Email))
	fail := func(status int, msg, why string) error {
		if why != "" {
			s.auditSignIn(c, anonymous, store.ActionSetupFailed, "setup", target, why)
		}
		if status == http.StatusForbidden {
			f.Token = "" // ask for it again
		}
		f.Error = msg
		return render(c, status, ui.SetupPage(f))
	}
	now := s.now()
	key := "setup:" + visitorOf(c.RealIP())
	if ok, wait := s.loginLimiter.allow(key, now); !ok {
		why := ""
		if s.loginLimiter.refuse(key, now) { // once per lockout
			why = "too many attempts from this address"
		}
		c.Response().Header().Set("Retry-After", retryAfter(wait))
		return fail(http.StatusTooManyRequests, "Too many attempts. Try again in "+ui.Latency(wait)+".", why)
	}
	s.setupMu.Lock()
	want := s.setupToken
	s.setupMu.Unlock()
	if want == "" || subtle.ConstantTimeCompare([]byte(f.Token), []byte(want)) != 1 {
		return fail(http.StatusForbidden, "The setup token is not right. Copy it from the terminal where llmops serve started.", "wrong setup token")
	}
	hash, err := hashPassword(c.FormValue("password"))
	if err != nil {
		return fail(http.StatusBadRequest, store.ErrorMessage(err), store.ErrorMessage(err))
	}
	u := &store.User{Name: f.Name, Email: f.Email, PasswordHash: hash}
	ctx := c.Request().Context()
	if err := s.store.CreateFirstAdmin(ctx, u); err != nil {
		if code := store.ErrorCode(err); code == store.EINVALID {
			return fail(http.StatusBadRequest, store.ErrorMessage(err), store.ErrorMessage(err))
		} else if code == store.ECONFLICT {
			s.finishSetup()
			return c.Redirect(http.StatusSeeOther, "/login")
		}
		return err
	}
	s.finishSetup()
	s.log.Info("setup complete", "admin", u.Email)
	s.auditSignIn(c, store.Actor{Kind: store.ActorUser, ID: u.ID, Name: u.Email}, store.ActionSetupSucceeded, "setup", u.Email, "")
	return s.signIn(c, u, "/")
}

func (s *Server) finishSetup() {
	s.setupMu.Lock()
	s.setupToken = ""
	s.setupMu.Unlock()
	s.setupDone.Store(true)
}

func (s *Server) handleLoginPage(c echo.Context) error {
	if open, err := s.setupOpen(c.Request().Context()); err != nil {
		return err
	} else if open {
		return c.Redirect(http.StatusSeeOther, "/setup")
	}
	if principalOf(c) != nil {
		return c.Redirect(http.StatusSeeOther, safeNext(c.QueryParam("next")))
	}
	return render(c, http.StatusOK, ui.LoginPage(ui.AuthForm{Next: c.QueryParam("next")}))
}

// handleLogin checks email and password within two limits, so guessing
// is slow from anywhere without letting a stranger lock an account out:
//
//   - Each client address (its /64 for IPv6) has a bucket. Every attempt
//     spends a token and a correct password gives it back, so only
//     failures count; an empty bucket gets 429 with Retry-After.
//   - Each account has a bucket, which failed passwords spend. Once it is
//     empty, an address that has failed lately (its own bucket is not
//     full) is refused for that account, but one that has not failed may
//     still try, so the owner signing in from elsewhere gets in.
func (s *Server) handleLogin(c echo.Context) error {
	if err := parseForm(c); err != nil {
		return err
	}
	f := ui.AuthForm{Email: strings.TrimSpace(c.FormValue("email")), Next: c.FormValue("next")}
	email := strings.ToLower(f.Email)
	now := s.now()
	ipKey, userKey := "ip:"+visitorOf(c.RealIP()), "user:"+email
	ip := s.loginLimiter.take(ipKey, now)
	if !ip.ok {
		return s.loginLocked(c, f, ipKey, ip.wait, "too many failures from this address")
	}
	account := s.loginLimiter.take(userKey, now)
	if !account.ok && !ip.full {
		return s.loginLocked(c, f, userKey, min(account.wait, ip.refilled), "too many failures for this account, and this address has failed lately")
	}
	ctx := c.Request().Context()
	u, err := s.store.UserByEmail(ctx, f.Email)
	if err != nil && store.ErrorCode(err) != store.ENOTFOUND {
		return err
	}
	var hash []byte
	if u != nil {
		hash = u.PasswordHash
	}
	if !checkPassword(hash, c.FormValue("password")) {
		why := "wrong password"
		if u == nil {
			why = "no such account"
		}
		s.auditSignIn(c, anonymous, store.ActionLoginFailed, "session", email, why)
		f.Error = "Email or password is not right."
		return render(c, http.StatusUnauthorized, ui.LoginPage(f))
	}
	s.loginLimiter.giveBack(ipKey, now)
	if account.ok {
		s.loginLimiter.giveBack(userKey, now)
	}
	return s.signIn(c, u, safeNext(f.Next))
}

// anonymous is the actor of sign-in attempts that proved nobody.
var anonymous = store.Actor{Kind: store.ActorAnonymous, Name: "anonymous"}

// loginLocked refuses a sign-in attempt refused by the limit on key,
// auditing the first refusal of each lockout (not every refused attempt,
// so a flood cannot fill the log).
func (s *Server) loginLocked(c echo.Context, f ui.AuthForm, key string, wait time.Duration, why string) error {
	if s.loginLimiter.refuse(key, s.now()) {
		s.auditSignIn(c, anonymous, store.ActionLoginLocked, "session", strings.ToLower(f.Email), why)
	}
	c.Response().Header().Set("Retry-After", retryAfter(wait))
	f.Error = "Too many sign-in attempts. Try again in " + ui.Latency(wait) + "."
	return render(c, http.StatusTooManyRequests, ui.LoginPage(f))
}

// auditSignIn records a sign-in, sign-out or setup event with the client's
// address and user agent. It outlives the request, so a client that hangs
// up as soon as its guess is sent is still on record; a failure to write
// is logged and does not change the answer.
func (s *Server) auditSignIn(c echo.Context, actor store.Actor, action, resource, target, detail string) {
	ev := store.AuditEvent{Actor: actor, Action: action, Resource: resource, ResourceID: target, After: detail,
		IP: c.RealIP(), UserAgent: c.Request().UserAgent()}
	if err := s.store.RecordAudit(context.WithoutCancel(c.Request().Context()), ev); err != nil {
		s.log.Warn("audit", "action", action, "err", err, "request_id", requestID(c))
	}
}

func (s *Server) signIn(c echo.Context, u *store.User, next string) error {
	token, err := s.store.CreateSession(c.Request().Context(), u, s.cfg.SessionTTL, c.RealIP(), c.Request().UserAgent())
	if err != nil {
		return err
	}
	s.setSessionCookie(c, token)
	return c.Redirect(http.StatusSeeOther, next)
}

func (s *Server) handleLogout(c echo.Context) error {
	if ck, err := c.Cookie(sessionCookie); err == nil && ck.Value != "" {
		if err := s.store.DeleteSession(c.Request().Context(), ck.Value); err != nil {
			return err
		}
		if p := principalOf(c); p != nil && p.user != nil {
			s.auditSignIn(c, p.actor, store.ActionLogout, "session", p.user.Email, "")
		}
	}
	s.clearSessionCookie(c)
	return c.Redirect(http.StatusSeeOther, "/login")
}
