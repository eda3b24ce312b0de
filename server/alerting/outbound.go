package alerting

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"

	"llmops/store"
)

// Outbound guards connections llmops makes on a user's say-so (alert
// webhooks): loopback, private, link-local, CGNAT, multicast and
// unspecified addresses are refused unless an allowed prefix
// (LLMOPS_OUTBOUND_ALLOW) covers them. The check runs in the dialer's
// Control hook, on the address actually connected to after DNS, so a name
// that resolves (or re-resolves) to an internal address cannot slip
// through, and it covers every redirect hop too.
type Outbound struct {
	Allow []netip.Prefix
}

// internal lists what Outbound refuses by default, beyond what netip's
// predicates name.
var internal = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"), // benchmarking
	netip.MustParsePrefix("64:ff9b::/96"),  // NAT64 can reach IPv4 internals
}

// Check reports whether ip may be connected to.
func (o Outbound) Check(ip netip.Addr) error {
	ip = ip.Unmap()
	for _, p := range o.Allow {
		if p.Contains(ip) {
			return nil
		}
	}
	bad := ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified()
	for _, p := range internal {
		bad = bad || p.Contains(ip)
	}
	if bad {
		return store.Errorf(store.EFORBIDDEN, "outbound connection to %s refused: loopback, private and link-local addresses need LLMOPS_OUTBOUND_ALLOW", ip)
	}
	return nil
}

// control is the net.Dialer Control hook: it sees the resolved address.
func (o Outbound) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("outbound: unexpected address %q: %w", address, err)
	}
	return o.Check(ap.Addr())
}

// Client is an HTTP client whose every connection passes Check. It uses
// no proxy (a proxy would connect on our behalf, unchecked).
func (o Outbound) Client(timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second, Control: o.control}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy: nil, DialContext: d.DialContext, ForceAttemptHTTP2: true,
			MaxIdleConns: 10, IdleConnTimeout: 90 * time.Second, TLSHandshakeTimeout: 10 * time.Second,
		},
		CheckRedirect: func(_ *http.Request, via []*http.Request) error {
			if len(via) >= 3 {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
}

// CheckURL refuses a webhook URL that is not http(s), has no host, or
// names a refused address literally (names are checked when connecting).
func (o Outbound) CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return store.Errorf(store.EINVALID, "webhook_url: want an http:// or https:// URL")
	}
	if ip, err := netip.ParseAddr(u.Hostname()); err == nil {
		if err := o.Check(ip); err != nil {
			return store.Errorf(store.EINVALID, "webhook_url: %s", store.ErrorMessage(err))
		}
	}
	return nil
}
