package auth

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Proxies are the networks of the reverse proxies whose X-Forwarded-For is
// believed. Without any, forwarding headers are ignored: anyone can send
// them.
type Proxies []netip.Prefix

// ParseProxy reads a trusted proxy's network: a CIDR, or a bare IP address
// that stands for itself alone.
func ParseProxy(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("trusted proxy %q: not a CIDR or an IP address", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// trusts reports whether a is the address of a trusted proxy.
func (p Proxies) trusts(a netip.Addr) bool {
	a = a.WithZone("").Unmap()
	for _, n := range p {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

// Client returns the address of the client of r as the trusted proxies tell
// it, and whether they do: only when r's peer is a trusted proxy and sent
// X-Forwarded-For. The client is then the right-most address in
// X-Forwarded-For (all such headers, in order) that is not itself a trusted
// proxy: what the nearest untrusted hop was seen as by a proxy that we trust.
// When every hop is trusted it is the left-most. An entry that is no IP
// address ends the walk, and the client is the trusted hop that reported it.
func (p Proxies) Client(r *http.Request) (string, bool) {
	if len(p) == 0 {
		return "", false
	}
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil || !p.trusts(peer.Addr()) {
		return "", false
	}
	hops := r.Header.Values("X-Forwarded-For")
	var last netip.Addr // the last trusted hop walked past
	for i := len(hops) - 1; i >= 0; i-- {
		rest := hops[i]
		for rest != "" {
			var entry string
			if j := strings.LastIndexByte(rest, ','); j >= 0 {
				entry, rest = rest[j+1:], rest[:j]
			} else {
				entry, rest = rest, ""
			}
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			a, ok := forwardedAddr(entry)
			if !ok {
				if last.IsValid() {
					return last.String(), true
				}
				return "", false // the peer itself reported it
			}
			if !p.trusts(a) {
				return a.String(), true
			}
			last = a
		}
	}
	if last.IsValid() {
		return last.String(), true
	}
	return "", false
}

// forwardedAddr reads one X-Forwarded-For entry: an IP address, possibly
// with a port ("192.0.2.1:4711", "[2001:db8::1]:4711") or in brackets.
func forwardedAddr(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.WithZone("").Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().WithZone("").Unmap(), true
	}
	if inner, ok := strings.CutPrefix(s, "["); ok {
		if inner, ok := strings.CutSuffix(inner, "]"); ok {
			if a, err := netip.ParseAddr(inner); err == nil {
				return a.WithZone("").Unmap(), true
			}
		}
	}
	return netip.Addr{}, false
}

type clientIPKey struct{}

// WithClientIP returns ctx carrying the request's client address, for
// ClientIP; the server sets it when a trusted proxy names the client.
func WithClientIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, clientIPKey{}, ip)
}

// ClientIP returns the address of the request's client: the one a trusted
// proxy named (WithClientIP), else the peer's. Throttling, lastUseIp, the
// console's sign-in throttling and the access log all use it.
func ClientIP(r *http.Request) string {
	if ip, ok := r.Context().Value(clientIPKey{}).(string); ok {
		return ip
	}
	return PeerIP(r)
}

// PeerIP returns the address of the request's TCP peer, which is a proxy's
// when one is in front.
func PeerIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
