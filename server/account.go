package server

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"llmops/store"
	"llmops/ui"
)

// Your own account: changing your password and your signed-in sessions,
// as JSON (/api/v1/me/…) and as Settings pages. They act on the signed-in
// user; an API key, which is not a person, has no password and no
// sessions (as GET /api/v1/me says).

// errKeyHasNoPassword answers a password change made with an API key.
var errKeyHasNoPassword = store.Errorf(store.ECONFLICT, "an API key has no password; sign in as a person to change yours")

func (s *Server) passwordRule() ui.PasswordRule {
	return ui.PasswordRule{Text: passwordRule, MinLength: minPasswordLen}
}

type passwordChangeRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// changePassword checks the caller's current password, sets the new one
// and signs out their other sessions, keeping the one making the request.
// It reports how many sessions it ended.
func (s *Server) changePassword(c echo.Context, req passwordChangeRequest) (int, error) {
	p := principalOf(c)
	if p.user == nil {
		return 0, errKeyHasNoPassword
	}
	if ok, wait := s.loginLimiter.allow("password:"+p.user.ID, s.now()); !ok {
		c.Response().Header().Set("Retry-After", retryAfter(wait))
		return 0, store.Errorf(store.ERATELIMITED, "too many password changes; try again in %s", ui.Latency(wait))
	}
	if req.CurrentPassword == "" {
		return 0, store.Errorf(store.EINVALID, "current_password is required")
	}
	if !checkPassword(p.user.PasswordHash, req.CurrentPassword) {
		return 0, store.Errorf(store.EINVALID, "current_password is not right")
	}
	hash, err := hashPassword(req.NewPassword)
	if err != nil {
		return 0, err
	}
	keep := ""
	if p.session != nil {
		keep = p.session.Hash
	}
	return s.store.ChangePassword(c.Request().Context(), p.actor, p.user.ID, hash, keep)
}

// handlePasswordChange is POST /api/v1/me/password.
func (s *Server) handlePasswordChange(c echo.Context) error {
	var req passwordChangeRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	n, err := s.changePassword(c, req)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"signed_out_sessions": n})
}

func (s *Server) profilePage(c echo.Context, status int, p ui.Profile) error {
	p.Chrome = chrome(c, "Settings", "settings")
	p.Password = s.passwordRule()
	if u := principalOf(c).user; u != nil {
		p.CreatedAt, p.HasAccount = u.CreatedAt, true
	}
	return render(c, status, ui.ProfilePage(p))
}

// handlePasswordForm is the profile page's change-password form.
func (s *Server) handlePasswordForm(c echo.Context) error {
	if err := parseForm(c); err != nil {
		return err
	}
	req := passwordChangeRequest{CurrentPassword: c.FormValue("current_password"), NewPassword: c.FormValue("new_password")}
	var err error
	if req.NewPassword != c.FormValue("confirm_password") {
		err = store.Errorf(store.EINVALID, "the two new passwords are not the same")
	} else {
		_, err = s.changePassword(c, req)
	}
	if err != nil {
		if store.ErrorCode(err) == store.ERATELIMITED {
			return s.profilePage(c, http.StatusTooManyRequests, ui.Profile{Error: store.ErrorMessage(err)})
		}
		return formError(err, func(status int, msg string) error {
			return s.profilePage(c, status, ui.Profile{Error: msg})
		})
	}
	return c.Redirect(http.StatusSeeOther, "/settings?notice=password-changed")
}

type sessionJSON struct {
	ID         string    `json:"id"`
	Device     string    `json:"device"`
	UserAgent  string    `json:"user_agent"`
	IP         string    `json:"ip"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	Current    bool      `json:"current"`
}

// mySessions lists the caller's live sessions (none for an API key).
func (s *Server) mySessions(c echo.Context) ([]sessionJSON, error) {
	p := principalOf(c)
	if p.user == nil {
		return []sessionJSON{}, nil
	}
	list, err := s.store.ListSessions(c.Request().Context(), p.user.ID, s.cfg.SessionIdle)
	if err != nil {
		return nil, err
	}
	out := make([]sessionJSON, len(list))
	for i, sess := range list {
		out[i] = sessionJSON{ID: sess.ID(), Device: ui.Device(sess.UserAgent), UserAgent: sess.UserAgent, IP: sess.IP,
			CreatedAt: sess.CreatedAt, LastSeenAt: sess.LastSeenAt, ExpiresAt: sess.ExpiresAt,
			Current: p.session != nil && p.session.Hash == sess.Hash}
	}
	return out, nil
}

// handleSessionList is GET /api/v1/me/sessions.
func (s *Server) handleSessionList(c echo.Context) error {
	list, err := s.mySessions(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"sessions": list})
}

// revokeSession signs out one of the caller's sessions; revoking the
// current one signs this browser out too.
func (s *Server) revokeSession(c echo.Context) error {
	p := principalOf(c)
	if p.user == nil {
		return store.Errorf(store.ENOTFOUND, "session not found")
	}
	sess, err := s.store.RevokeSession(c.Request().Context(), p.actor, p.user.ID, c.Param("id"))
	if err != nil {
		return err
	}
	if p.session != nil && p.session.Hash == sess.Hash {
		s.clearSessionCookie(c)
	}
	return nil
}

// handleSessionRevoke is DELETE /api/v1/me/sessions/:id.
func (s *Server) handleSessionRevoke(c echo.Context) error {
	if err := s.revokeSession(c); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// handleSessionsPage is Settings → Sessions.
func (s *Server) handleSessionsPage(c echo.Context) error {
	list, err := s.mySessions(c)
	if err != nil {
		return err
	}
	p := ui.Sessions{Chrome: chrome(c, "Sessions", "settings"), HasAccount: principalOf(c).user != nil,
		Idle: s.cfg.SessionIdle, TTL: s.cfg.SessionTTL, Now: s.now(), Notice: noticeText(c.QueryParam("notice"))}
	for _, r := range list {
		p.Sessions = append(p.Sessions, ui.SessionRow{ID: r.ID, Device: r.Device, UserAgent: r.UserAgent, IP: r.IP,
			CreatedAt: r.CreatedAt, LastSeen: r.LastSeenAt, Current: r.Current})
	}
	return render(c, http.StatusOK, ui.SessionsPage(p))
}

func (s *Server) handleSessionRevokeForm(c echo.Context) error {
	if err := s.revokeSession(c); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/settings/sessions?notice=session-revoked")
}

// handleSessionsRevokeOthersForm signs out every session of the caller
// but the current one.
func (s *Server) handleSessionsRevokeOthersForm(c echo.Context) error {
	p := principalOf(c)
	if p.user != nil && p.session != nil {
		if _, err := s.store.RevokeOtherSessions(c.Request().Context(), p.actor, p.user.ID, p.session.Hash); err != nil {
			return err
		}
	}
	return c.Redirect(http.StatusSeeOther, "/settings/sessions?notice=sessions-revoked")
}
