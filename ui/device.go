package ui

import (
	"fmt"
	"strings"
	"time"
)

// Device names the browser and system a user agent string describes, in
// the words a person uses for their own devices: "Chrome on Linux",
// "Safari on iPhone", "curl". An empty or unknown string is "Unknown
// device"; pages show the full string on hover.
func Device(ua string) string {
	if strings.TrimSpace(ua) == "" {
		return "Unknown device"
	}
	has := func(s string) bool { return strings.Contains(ua, s) }
	browser := ""
	switch {
	case has("Edg/"):
		browser = "Edge"
	case has("OPR/"), has("Opera"):
		browser = "Opera"
	case has("Firefox/"):
		browser = "Firefox"
	case has("HeadlessChrome/"):
		browser = "Headless Chrome"
	case has("Chromium/"):
		browser = "Chromium"
	case has("Chrome/"), has("CriOS/"):
		browser = "Chrome"
	case has("Safari/") && has("Version/"):
		browser = "Safari"
	}
	system := ""
	switch {
	case has("iPhone"):
		system = "iPhone"
	case has("iPad"):
		system = "iPad"
	case has("Android"):
		system = "Android"
	case has("Windows"):
		system = "Windows"
	case has("Mac OS X"), has("Macintosh"):
		system = "macOS"
	case has("CrOS"):
		system = "ChromeOS"
	case has("Linux"):
		system = "Linux"
	}
	switch {
	case browser != "" && system != "":
		return browser + " on " + system
	case browser != "":
		return browser
	case system != "":
		return system
	}
	// A tool such as curl/8.5.0 or python-requests/2.31: its name.
	name, _, _ := strings.Cut(ua, "/")
	if name = strings.TrimSpace(name); name != "" && len(name) <= 40 && !strings.ContainsAny(name, " ()") {
		return name
	}
	return "Unknown device"
}

// Period writes a length of time in words: "7 days", "1 day", "12 hours",
// "90 minutes".
func Period(d time.Duration) string {
	unit := func(n int64, one string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %ss", n, one)
	}
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return unit(int64(d/(24*time.Hour)), "day")
	case d >= time.Hour && d%time.Hour == 0:
		return unit(int64(d/time.Hour), "hour")
	}
	return unit(int64(d/time.Minute), "minute")
}
