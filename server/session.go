package server

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strings"

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
	fail := func(status int, msg string) error {
		if status == http.StatusForbidden {
			f.Token = "" // ask for it again
		}
		f.Error = msg
		return render(c, status, ui.SetupPage(f))
	}
	if ok, wait := s.loginLimiter.allow("setup:"+c.RealIP(), s.now()); !ok {
		return fail(http.StatusTooManyRequests, "Too many attempts. Try again in "+ui.Latency(wait)+".")
	}
	s.setupMu.Lock()
	want := s.setupToken
	s.setupMu.Unlock()
	if want == "" || subtle.ConstantTimeCompare([]byte(f.Token), []byte(want)) != 1 {
		return fail(http.StatusForbidden, "The setup token is not right. Copy it from the terminal where llmops serve started.")
	}
	hash, err := hashPassword(c.FormValue("password"))
	if err != nil {
		return fail(http.StatusBadRequest, store.ErrorMessage(err))
	}
	u := &store.User{Name: f.Name, Email: f.Email, PasswordHash: hash}
	ctx := c.Request().Context()
	if err := s.store.CreateFirstAdmin(ctx, u); err != nil {
		if code := store.ErrorCode(err); code == store.EINVALID {
			return fail(http.StatusBadRequest, store.ErrorMessage(err))
		} else if code == store.ECONFLICT {
			s.finishSetup()
			return c.Redirect(http.StatusSeeOther, "/login")
		}
		return err
	}
	s.finishSetup()
	s.log.Info("setup complete", "admin", u.Email)
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

// handleLogin checks email and password. Attempts are rate-limited per
// client address and per account, so guessing is slow from anywhere.
func (s *Server) handleLogin(c echo.Context) error {
	if err := parseForm(c); err != nil {
		return err
	}
	f := ui.AuthForm{Email: strings.TrimSpace(c.FormValue("email")), Next: c.FormValue("next")}
	now := s.now()
	okIP, waitIP := s.loginLimiter.allow("ip:"+c.RealIP(), now)
	okUser, waitUser := s.loginLimiter.allow("user:"+strings.ToLower(f.Email), now)
	if !okIP || !okUser {
		wait := max(waitIP, waitUser)
		c.Response().Header().Set("Retry-After", retryAfter(wait))
		f.Error = "Too many sign-in attempts. Try again in " + ui.Latency(wait) + "."
		return render(c, http.StatusTooManyRequests, ui.LoginPage(f))
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
		f.Error = "Email or password is not right."
		return render(c, http.StatusUnauthorized, ui.LoginPage(f))
	}
	return s.signIn(c, u, safeNext(f.Next))
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
	}
	s.clearSessionCookie(c)
	return c.Redirect(http.StatusSeeOther, "/login")
}
