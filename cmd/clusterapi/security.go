package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"clusterapi/internal/auth"
)

// defaultReadHeaderTimeout bounds how long a client may take to send a
// request's headers: slow clients cannot hold connections open for long.
const defaultReadHeaderTimeout = 10 * time.Second

// securityOptions are the serve flags about who the client is, how failed
// authentications are throttled, TLS, and the header timeout.
type securityOptions struct {
	throttleAddress   *int
	throttleToken     *int
	throttleWindow    *time.Duration
	proxies           *proxyList
	tlsCert, tlsKey   *string
	readHeaderTimeout *time.Duration
}

// proxyList is the repeatable --trusted-proxy. Given on the command line it
// replaces what CLUSTERAPI_TRUSTED_PROXIES said.
type proxyList struct {
	nets    auth.Proxies
	fromEnv bool
}

func (p *proxyList) String() string {
	var s []string
	for _, n := range p.nets {
		s = append(s, n.String())
	}
	return strings.Join(s, ",")
}

func (p *proxyList) Set(v string) error {
	if p.fromEnv {
		p.nets, p.fromEnv = nil, false
	}
	n, err := auth.ParseProxy(v)
	if err != nil {
		return err
	}
	p.nets = append(p.nets, n)
	return nil
}

// securityFlags adds the security flags to fs, with defaults from the
// environment.
func securityFlags(fs *flag.FlagSet, getenv func(string) string) (*securityOptions, error) {
	envInt := func(name string, def int) (int, error) {
		v := getenv(name)
		if v == "" {
			return def, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, fmt.Errorf("%s: %q is not a whole number", name, v)
		}
		return n, nil
	}
	envDuration := func(name string, def time.Duration) (time.Duration, error) {
		v := getenv(name)
		if v == "" {
			return def, nil
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", name, err)
		}
		return d, nil
	}
	perAddress, err := envInt("CLUSTERAPI_AUTH_THROTTLE_ADDRESS", auth.DefaultThrottle.PerAddress)
	if err != nil {
		return nil, err
	}
	perToken, err := envInt("CLUSTERAPI_AUTH_THROTTLE_TOKEN", auth.DefaultThrottle.PerToken)
	if err != nil {
		return nil, err
	}
	window, err := envDuration("CLUSTERAPI_AUTH_THROTTLE_WINDOW", auth.DefaultThrottle.Window)
	if err != nil {
		return nil, err
	}
	headerTimeout, err := envDuration("CLUSTERAPI_READ_HEADER_TIMEOUT", defaultReadHeaderTimeout)
	if err != nil {
		return nil, err
	}
	proxies := &proxyList{}
	if v := getenv("CLUSTERAPI_TRUSTED_PROXIES"); v != "" {
		for _, s := range strings.Split(v, ",") {
			if strings.TrimSpace(s) == "" {
				continue
			}
			if err := proxies.Set(s); err != nil {
				return nil, fmt.Errorf("CLUSTERAPI_TRUSTED_PROXIES: %w", err)
			}
		}
		proxies.fromEnv = true
	}
	fs.Var(proxies, "trusted-proxy",
		"CIDR or address of a reverse proxy whose X-Forwarded-For names the client; repeatable (env CLUSTERAPI_TRUSTED_PROXIES, comma-separated)")
	return &securityOptions{
		throttleAddress: fs.Int("auth-throttle-address", perAddress,
			"failed authentications from one client address within the window before it gets 429; 0: no limit (env CLUSTERAPI_AUTH_THROTTLE_ADDRESS)"),
		throttleToken: fs.Int("auth-throttle-token", perToken,
			"failed authentications naming one token id within the window before the addresses that failed on it get 429; 0: no limit (env CLUSTERAPI_AUTH_THROTTLE_TOKEN)"),
		throttleWindow: fs.Duration("auth-throttle-window", window,
			"the window of --auth-throttle-address and --auth-throttle-token, from a client's first failure (env CLUSTERAPI_AUTH_THROTTLE_WINDOW)"),
		proxies: proxies,
		tlsCert: fs.String("tls-cert", getenv("CLUSTERAPI_TLS_CERT"),
			"PEM certificate (chain) to serve HTTPS with; needs --tls-key (env CLUSTERAPI_TLS_CERT)"),
		tlsKey: fs.String("tls-key", getenv("CLUSTERAPI_TLS_KEY"),
			"PEM private key of --tls-cert (env CLUSTERAPI_TLS_KEY)"),
		readHeaderTimeout: fs.Duration("read-header-timeout", headerTimeout,
			"how long a client may take to send a request's headers (env CLUSTERAPI_READ_HEADER_TIMEOUT)"),
	}, nil
}

// throttle returns the limits of failed authentications the flags ask for.
func (o *securityOptions) throttle() (*auth.ThrottleLimits, error) {
	if *o.throttleAddress < 0 || *o.throttleToken < 0 {
		return nil, errors.New("serve: --auth-throttle-address and --auth-throttle-token must not be negative")
	}
	if *o.throttleWindow <= 0 {
		return nil, errors.New("serve: --auth-throttle-window must be positive")
	}
	return &auth.ThrottleLimits{PerAddress: *o.throttleAddress, PerToken: *o.throttleToken, Window: *o.throttleWindow}, nil
}

// tlsConfig returns the TLS configuration of --tls-cert and --tls-key, or
// nil to serve plain HTTP. It loads the key pair now, so that a bad file
// stops the server before it listens.
func (o *securityOptions) tlsConfig() (*tls.Config, error) {
	cert, key := *o.tlsCert, *o.tlsKey
	switch {
	case cert == "" && key == "":
		return nil, nil
	case cert == "" || key == "":
		return nil, errors.New("serve: --tls-cert and --tls-key go together: give both to serve HTTPS, or neither")
	}
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		return nil, fmt.Errorf("serve: load --tls-cert %s and --tls-key %s: %w", cert, key, err)
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{pair}}, nil
}

// warnPlainHTTP says so when tokens and passwords would cross a network in
// clear text: plain HTTP on an address other than loopback.
func warnPlainHTTP(log *slog.Logger, addr net.Addr) {
	if tcp, ok := addr.(*net.TCPAddr); ok && tcp.IP.IsLoopback() {
		return
	}
	log.Warn("serving plain HTTP on a non-loopback address: API tokens and console passwords cross the network unencrypted; "+
		"serve HTTPS with --tls-cert and --tls-key, or keep this node behind a TLS-terminating proxy", "addr", addr.String())
}
