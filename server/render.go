package server

import (
	"bytes"
	"context"
	"fmt"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
)

// render writes a templ component only after it rendered completely into
// a buffer, so a failing template never leaves a half-written 200 page.
// Rendering ignores the request's cancellation: an error page is rendered
// after the timeout middleware has cancelled the request context, and a
// template is fast and pure anyway.
func render(c echo.Context, status int, comp templ.Component) error {
	var buf bytes.Buffer
	if err := comp.Render(context.WithoutCancel(c.Request().Context()), &buf); err != nil {
		return fmt.Errorf("render: %w", err)
	}
	return c.HTMLBlob(status, buf.Bytes())
}
