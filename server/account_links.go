package server

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"llmops/store"
	"llmops/ui"
)

// Invite and password-reset links. llmops sends no e-mail: an admin makes
// a link, copies it and hands it over. It works once, for accountLinkTTL,
// and leads to /set-password, where the person chooses a password and is
// signed in. The token travels in the query string, never the path, so
// the access log (which records paths) never holds it.

// accountLinkTTL is how long an invite or reset link works.
const accountLinkTTL = 72 * time.Hour

type linkJSON struct {
	Purpose   store.LinkPurpose `json:"purpose"`
	URL       string            `json:"url"`
	ExpiresAt time.Time         `json:"expires_at"`
}

// linkURL is the absolute link for token, on the address the admin's
// request came to.
func (s *Server) linkURL(c echo.Context, token string) string {
	scheme := c.Scheme()
	if s.cfg.SecureCookies {
		scheme = "https"
	}
	return scheme + "://" + c.Request().Host + "/set-password?token=" + token
}

func (s *Server) toLinkJSON(c echo.Context, token string, l *store.AccountLink) *linkJSON {
	return &linkJSON{Purpose: l.Purpose, URL: s.linkURL(c, token), ExpiresAt: l.ExpiresAt}
}

// handleUserReset is POST /api/v1/users/:id/reset: a one-time link with
// which the member chooses a new password (a new invite if they never
// chose one).
func (s *Server) handleUserReset(c echo.Context) error {
	token, link, u, err := s.store.CreatePasswordLink(c.Request().Context(), principalOf(c).actor, c.Param("id"), accountLinkTTL)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, struct {
		*linkJSON
		User userJSON `json:"user"`
	}{s.toLinkJSON(c, token, link), toUserJSON(u)})
}

// handleUserResetForm makes a reset (or new invite) link from the Users
// page and shows it once.
func (s *Server) handleUserResetForm(c echo.Context) error {
	token, link, u, err := s.store.CreatePasswordLink(c.Request().Context(), principalOf(c).actor, c.Param("id"), accountLinkTTL)
	if err != nil {
		return formError(err, func(status int, msg string) error {
			return s.usersPage(c, status, ui.Users{Error: msg})
		})
	}
	return s.showNewLink(c, token, link, u)
}

// showNewLink renders the Users page with a link just made. Rendered, not
// redirected: the token must never sit in a URL the browser keeps.
func (s *Server) showNewLink(c echo.Context, token string, link *store.AccountLink, u *store.User) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	return s.usersPage(c, http.StatusCreated, ui.Users{NewLink: &ui.NewLink{URL: s.linkURL(c, token), Email: u.Email,
		Invite: link.Purpose == store.LinkInvite, ExpiresAt: link.ExpiresAt}})
}

// setPasswordPage renders /set-password for token: the form, or why the
// link does not work (410 Gone: it was used, replaced or has expired).
func (s *Server) setPasswordPage(c echo.Context, status int, token, formErr string) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	p := ui.SetPassword{Token: token, Password: s.passwordRule(), Error: formErr}
	link, u, err := s.store.AccountLinkByToken(c.Request().Context(), token)
	switch {
	case token == "":
		p.Refused, status = "This link is incomplete: copy the whole link you were sent.", http.StatusGone
	case store.ErrorCode(err) == store.ENOTFOUND:
		p.Refused, status = store.ErrorMessage(err), http.StatusGone
	case err != nil:
		return err
	default:
		p.Invite, p.Name, p.Email = link.Purpose == store.LinkInvite, u.Name, u.Email
	}
	return render(c, status, ui.SetPasswordPage(p))
}

// handleSetPasswordPage is GET /set-password?token=….
func (s *Server) handleSetPasswordPage(c echo.Context) error {
	return s.setPasswordPage(c, http.StatusOK, c.QueryParam("token"), "")
}

// handleSetPassword spends the link: the password is set, every earlier
// session of the account is signed out, and this browser is signed in.
func (s *Server) handleSetPassword(c echo.Context) error {
	if err := parseForm(c); err != nil {
		return err
	}
	token, pw := c.FormValue("token"), c.FormValue("password")
	if pw != c.FormValue("confirm_password") {
		return s.setPasswordPage(c, http.StatusBadRequest, token, "The two passwords are not the same.")
	}
	// The link is checked before the (slow) hash, so a dead link costs
	// no bcrypt; UseAccountLink checks it again, atomically.
	if _, _, err := s.store.AccountLinkByToken(c.Request().Context(), token); err != nil || token == "" {
		return s.setPasswordPage(c, http.StatusGone, token, "")
	}
	hash, err := hashPassword(pw)
	if err != nil {
		return s.setPasswordPage(c, http.StatusBadRequest, token, store.ErrorMessage(err))
	}
	session, u, err := s.store.UseAccountLink(c.Request().Context(), token, hash, s.cfg.SessionTTL, c.RealIP(), c.Request().UserAgent())
	if store.ErrorCode(err) == store.ENOTFOUND {
		return s.setPasswordPage(c, http.StatusGone, token, "")
	} else if err != nil {
		return err
	}
	s.log.Info("password set with an account link", "user", u.Email)
	s.setSessionCookie(c, session)
	return c.Redirect(http.StatusSeeOther, "/")
}
