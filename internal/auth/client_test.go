package auth_test

import (
	"net/http/httptest"
	"net/netip"
	"testing"

	"clusterapi/internal/auth"
)

func TestParseProxy(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" for an error
	}{
		{"10.0.0.0/8", "10.0.0.0/8"},
		{"10.1.2.3/8", "10.0.0.0/8"},
		{" 192.0.2.7 ", "192.0.2.7/32"},
		{"::ffff:192.0.2.7", "192.0.2.7/32"},
		{"2001:db8::/32", "2001:db8::/32"},
		{"::1", "::1/128"},
		{"fe80::1%eth0", ""},
		{"example.com", ""},
		{"10.0.0.0/33", ""},
		{"", ""},
	}
	for _, tt := range tests {
		p, err := auth.ParseProxy(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("ParseProxy(%q) = %v, want an error", tt.in, p)
			}
			continue
		}
		if err != nil || p.String() != tt.want {
			t.Errorf("ParseProxy(%q) = %v, %v; want %s", tt.in, p, err, tt.want)
		}
	}
}

func TestClientIP(t *testing.T) {
	proxies := auth.Proxies{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("2001:db8:ffff::/48")}
	tests := []struct {
		name    string
		proxies auth.Proxies
		peer    string
		xff     []string
		want    string
	}{
		{"no proxies configured", nil, "127.0.0.1:5000", []string{"203.0.113.9"}, "127.0.0.1"},
		{"untrusted peer", proxies, "198.51.100.1:5000", []string{"203.0.113.9"}, "198.51.100.1"},
		{"trusted peer without header", proxies, "127.0.0.1:5000", nil, "127.0.0.1"},
		{"one hop", proxies, "127.0.0.1:5000", []string{"203.0.113.9"}, "203.0.113.9"},
		{"spoofed left part ignored", proxies, "127.0.0.1:5000", []string{"1.1.1.1, 203.0.113.9"}, "203.0.113.9"},
		{"trusted hops skipped", proxies, "127.0.0.1:5000", []string{"1.1.1.1, 203.0.113.9, 10.0.0.5, 10.0.0.6"}, "203.0.113.9"},
		{"several headers", proxies, "127.0.0.1:5000", []string{"1.1.1.1, 203.0.113.9", "10.0.0.5"}, "203.0.113.9"},
		{"every hop trusted", proxies, "127.0.0.1:5000", []string{"10.0.0.9, 10.0.0.5"}, "10.0.0.9"},
		{"with port", proxies, "127.0.0.1:5000", []string{"203.0.113.9:4711"}, "203.0.113.9"},
		{"IPv6 with port", proxies, "[::ffff:127.0.0.1]:5000", []string{"[2001:db8::7]:4711"}, "2001:db8::7"},
		{"IPv6 in brackets", proxies, "127.0.0.1:5000", []string{"[2001:db8::7]"}, "2001:db8::7"},
		{"IPv6 proxy", proxies, "[2001:db8:ffff::1]:443", []string{"2001:db8::7"}, "2001:db8::7"},
		{"mapped IPv4 hop", proxies, "127.0.0.1:5000", []string{"::ffff:203.0.113.9"}, "203.0.113.9"},
		{"garbage right-most", proxies, "127.0.0.1:5000", []string{"203.0.113.9, unknown"}, "127.0.0.1"},
		{"garbage behind a trusted hop", proxies, "127.0.0.1:5000", []string{"unknown, 10.0.0.5"}, "10.0.0.5"},
		{"empty entries", proxies, "127.0.0.1:5000", []string{" , 203.0.113.9 ,, "}, "203.0.113.9"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.peer
		for _, v := range tt.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if ip, ok := tt.proxies.Client(r); ok {
			r = r.WithContext(auth.WithClientIP(r.Context(), ip))
		}
		if got := auth.ClientIP(r); got != tt.want {
			t.Errorf("%s: ClientIP = %q, want %q", tt.name, got, tt.want)
		}
		if got, want := auth.PeerIP(r), r.RemoteAddr; got == "" || len(got) >= len(want) {
			t.Errorf("%s: PeerIP = %q for %q", tt.name, got, want)
		}
	}
}
