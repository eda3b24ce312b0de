package server

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"llmops/store"
	"llmops/ui"
)

type userJSON struct {
	ID          string     `json:"id"`
	Email       string     `json:"email"`
	Name        string     `json:"name"`
	Role        store.Role `json:"role"`
	CreatedAt   time.Time  `json:"created_at"`
	PasswordSet bool       `json:"password_set"` // false while an invite waits to be opened
}

func toUserJSON(u *store.User) userJSON {
	return userJSON{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, CreatedAt: u.CreatedAt, PasswordSet: u.HasPassword()}
}

// handleMe tells a client who it is authenticated as.
func (s *Server) handleMe(c echo.Context) error {
	p := principalOf(c)
	out := map[string]any{"kind": p.actor.Kind, "name": p.actor.Name, "role": p.role}
	if p.user != nil {
		out["user"] = toUserJSON(p.user)
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) handleUserList(c echo.Context) error {
	users, err := s.store.ListUsers(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]userJSON, len(users))
	for i := range users {
		out[i] = toUserJSON(&users[i])
	}
	return c.JSON(http.StatusOK, map[string]any{"users": out})
}

type userCreateRequest struct {
	Email    string `json:"email"`
	Name     string `json:"name"`
	Role     string `json:"role"`
	Password string `json:"password"`
	// Invite makes the member without a password and returns a one-time
	// link with which they choose their own.
	Invite bool `json:"invite"`
}

// createUser validates and adds a team member for both the API and the
// form; for an invite it also returns the link's token.
func (s *Server) createUser(c echo.Context, req userCreateRequest) (*store.User, string, *store.AccountLink, error) {
	role, err := store.ParseRole(req.Role)
	if err != nil {
		return nil, "", nil, err
	}
	u := &store.User{Email: req.Email, Name: req.Name, Role: role}
	ctx, actor := c.Request().Context(), principalOf(c).actor
	if req.Invite {
		if req.Password != "" {
			return nil, "", nil, store.Errorf(store.EINVALID, `send a password or "invite": true, not both: an invited member chooses their own password`)
		}
		token, link, err := s.store.InviteUser(ctx, actor, u, accountLinkTTL)
		if err != nil {
			return nil, "", nil, err
		}
		return u, token, link, nil
	}
	if req.Password == "" {
		return nil, "", nil, store.Errorf(store.EINVALID, `password is required (%s), or send "invite": true for a one-time link with which they choose their own`, passwordRule)
	}
	if u.PasswordHash, err = hashPassword(req.Password); err != nil {
		return nil, "", nil, err
	}
	if err := s.store.CreateUser(ctx, actor, u); err != nil {
		return nil, "", nil, err
	}
	return u, "", nil, nil
}

// handleUserCreate is POST /api/v1/users. With "invite": true the answer
// carries the invite link, which is shown nowhere else.
func (s *Server) handleUserCreate(c echo.Context) error {
	var req userCreateRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, token, link, err := s.createUser(c, req)
	if err != nil {
		return err
	}
	out := struct {
		userJSON
		Invite *linkJSON `json:"invite,omitempty"`
	}{userJSON: toUserJSON(u)}
	if link != nil {
		out.Invite = s.toLinkJSON(c, token, link)
		c.Response().Header().Set("Cache-Control", "no-store")
	}
	return c.JSON(http.StatusCreated, out)
}

type userUpdateRequest struct {
	Role string `json:"role"`
}

func (s *Server) handleUserUpdate(c echo.Context) error {
	var req userUpdateRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	role, err := store.ParseRole(req.Role)
	if err != nil {
		return err
	}
	u, err := s.store.SetUserRole(c.Request().Context(), principalOf(c).actor, c.Param("id"), role)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toUserJSON(u))
}

func (s *Server) handleUserDelete(c echo.Context) error {
	if err := s.deleteUser(c); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) deleteUser(c echo.Context) error {
	p := principalOf(c)
	if p.user != nil && p.user.ID == c.Param("id") {
		return store.Errorf(store.ECONFLICT, "you cannot remove your own account")
	}
	return s.store.DeleteUser(c.Request().Context(), p.actor, c.Param("id"))
}

func (s *Server) usersPage(c echo.Context, status int, p ui.Users) error {
	users, err := s.store.ListUsers(c.Request().Context())
	if err != nil {
		return err
	}
	p.Chrome = chrome(c, "Users", "settings")
	p.Now = s.now()
	p.Password, p.LinkTTL = s.passwordRule(), accountLinkTTL
	me := principalOf(c)
	for _, u := range users {
		p.Users = append(p.Users, ui.UserRow{ID: u.ID, Name: u.Name, Email: u.Email, Role: string(u.Role), CreatedAt: u.CreatedAt,
			IsSelf: me.user != nil && me.user.ID == u.ID, Invited: !u.HasPassword()})
	}
	return render(c, status, ui.UsersPage(p))
}

func (s *Server) handleUsersPage(c echo.Context) error {
	return s.usersPage(c, http.StatusOK, ui.Users{Notice: noticeText(c.QueryParam("notice"))})
}

// formError re-renders a form page for errors the user can fix, and passes
// anything else to the error handler.
func formError(err error, show func(status int, msg string) error) error {
	switch code := store.ErrorCode(err); code {
	case store.EINVALID, store.ECONFLICT, store.ENOTFOUND:
		return show(statusOf(code), store.ErrorMessage(err))
	}
	return err
}

func (s *Server) handleUserCreateForm(c echo.Context) error {
	if err := parseForm(c); err != nil {
		return err
	}
	// An empty password means an invite, as the form says.
	req := userCreateRequest{Email: c.FormValue("email"), Name: c.FormValue("name"), Role: c.FormValue("role"), Password: c.FormValue("password")}
	req.Invite = req.Password == ""
	u, token, link, err := s.createUser(c, req)
	if err != nil {
		return formError(err, func(status int, msg string) error {
			return s.usersPage(c, status, ui.Users{Form: ui.UserForm{Name: req.Name, Email: req.Email, Role: req.Role}, Error: msg})
		})
	}
	if link != nil {
		return s.showNewLink(c, token, link, u)
	}
	return c.Redirect(http.StatusSeeOther, "/settings/users?notice=user-added")
}

func (s *Server) handleUserRoleForm(c echo.Context) error {
	if err := parseForm(c); err != nil {
		return err
	}
	role, err := store.ParseRole(c.FormValue("role"))
	if err == nil {
		_, err = s.store.SetUserRole(c.Request().Context(), principalOf(c).actor, c.Param("id"), role)
	}
	if err != nil {
		return formError(err, func(status int, msg string) error {
			return s.usersPage(c, status, ui.Users{Error: msg})
		})
	}
	return c.Redirect(http.StatusSeeOther, "/settings/users?notice=user-updated")
}

func (s *Server) handleUserDeleteForm(c echo.Context) error {
	if err := s.deleteUser(c); err != nil {
		return formError(err, func(status int, msg string) error {
			return s.usersPage(c, status, ui.Users{Error: msg})
		})
	}
	return c.Redirect(http.StatusSeeOther, "/settings/users?notice=user-removed")
}
