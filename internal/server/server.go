// Package server composes the HTTP surfaces into one handler and owns the
// cross-cutting middleware: request ids, the access log (which never sees a
// secret) with the request metrics, panic recovery, the body limit and
// security headers; and it serves GET /metrics.
package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"

	"clusterapi/internal/auth"
	"clusterapi/internal/metrics"
	"clusterapi/internal/openapi"
	"clusterapi/internal/requestid"
	"clusterapi/internal/token"
)

// Config is what the server is made of.
type Config struct {
	Logger *slog.Logger
	// API serves /api/ and /e/ routes.
	API http.Handler
	// WriteError writes an error in the API's envelope; used for panics
	// under /api.
	WriteError func(w http.ResponseWriter, r *http.Request, err error)
	// MaxBodyBytes limits every request body.
	MaxBodyBytes int64
	// Ready reports whether the node can serve: its store is reachable
	// (and migrated, which opening it ensured). Nil means always ready.
	Ready func(ctx context.Context) error
	// Console, when set, serves /cmc/ (and / redirects there).
	Console http.Handler
	// Metrics, when set, counts every request (clusterapi_http_*) and is
	// served at GET /metrics behind GuardMetrics.
	Metrics *metrics.Registry
	// GuardMetrics wraps the /metrics handler with the rule of who may read
	// it. Without one, /metrics is not served at all.
	GuardMetrics func(http.Handler) http.Handler
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client (auth.ClientIP); none means the TCP peer is the client.
	TrustedProxies auth.Proxies
}

// readyTimeout bounds a readiness check, so that a hung store fails the
// probe rather than stalling it.
const readyTimeout = 2 * time.Second

// New returns the server's root handler.
func New(c Config) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write([]byte("{\"status\":\"ok\"}\n"))
	})
	// /readyz is for load balancers: 503 takes the node out of rotation
	// while its store cannot be reached. No detail: it needs no token.
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		if c.Ready != nil {
			ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
			err := c.Ready(ctx)
			cancel()
			if err != nil {
				c.Logger.Warn("not ready", "request_id", requestid.FromContext(r.Context()), "err", err)
				w.Header().Set("Retry-After", "5")
				w.WriteHeader(http.StatusServiceUnavailable)
				w.Write([]byte("{\"status\":\"unavailable\"}\n"))
				return
			}
		}
		w.Write([]byte("{\"status\":\"ok\"}\n"))
	})
	if c.Console != nil {
		mux.Handle("/cmc/", c.Console)
		mux.Handle("GET /{$}", http.RedirectHandler("/cmc/", http.StatusSeeOther))
	}
	mux.Handle("GET "+openapi.ExplorerPath, openapi.Explorer())
	var hm *httpMetrics
	if c.Metrics != nil {
		hm = newHTTPMetrics(c.Metrics)
		if c.GuardMetrics != nil {
			mux.Handle("GET /metrics", c.GuardMetrics(c.Metrics.Handler()))
		}
	}
	// API paths bypass the root mux, whose redirects for unclean paths are
	// neither JSON nor free of what the path holds.
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isAPIPath(r.URL.Path) {
			c.API.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
	h = securityHeaders(h)
	h = limitBody(h, c.MaxBodyBytes)
	h = recoverPanics(h, c.Logger, c.WriteError)
	h = accessLog(h, c.Logger, hm)
	h = clientAddress(h, c.TrustedProxies)
	h = withRequestID(h)
	return h
}

// clientAddress notes in the request's context the client address a trusted
// proxy reports, for auth.ClientIP. Without trusted proxies it adds nothing:
// forwarding headers are ignored.
func clientAddress(next http.Handler, proxies auth.Proxies) http.Handler {
	if len(proxies) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ip, ok := proxies.Client(r); ok {
			r = r.WithContext(auth.WithClientIP(r.Context(), ip))
		}
		next.ServeHTTP(w, r)
	})
}

func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := requestid.New()
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(requestid.NewContext(r.Context(), id)))
	})
}

// statusWriter remembers the status and size of a response for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// accessLog writes one line per request and, with hm, counts it. It logs the
// path without the query string, which may hold an api-token, and the token
// id, never the secret. remote is the client's address; proxy, when a
// trusted proxy named the client, is that proxy's.
//
// The route counted is the pattern that the mux (the root mux, httpapi's or
// the console's) set on the request it was given. Muxes set r.Pattern in
// place, so every handler between here and a mux must pass on the request it
// got, not a copy (r.WithContext): a copy's pattern is not seen here, and its
// requests count as unmatched.
func accessLog(next http.Handler, log *slog.Logger, hm *httpMetrics) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ctx, note := auth.WithNote(r.Context())
		sw := &statusWriter{ResponseWriter: w}
		r2 := r.WithContext(ctx)
		next.ServeHTTP(sw, r2)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		elapsed := time.Since(start)
		if hm != nil {
			hm.observe(r2.Pattern, r.Method, sw.status, elapsed)
		}
		remote, peer := auth.ClientIP(r), auth.PeerIP(r)
		attrs := [...]slog.Attr{
			slog.String("request_id", requestid.FromContext(ctx)),
			slog.String("method", r.Method),
			slog.String("path", token.Redact(r.URL.Path)),
			slog.Int("status", sw.status),
			slog.Int("bytes", sw.bytes),
			slog.Duration("duration", elapsed),
			slog.String("token_id", note.TokenID),
			slog.String("remote", remote),
			slog.String("proxy", peer),
		}
		n := len(attrs)
		if remote == peer {
			n-- // no proxy
		}
		log.LogAttrs(ctx, slog.LevelInfo, "request", attrs[:n]...)
	})
}

// recoverPanics turns a panic into a 500 that carries only the request id;
// the panic value goes to the log.
func recoverPanics(next http.Handler, log *slog.Logger, writeError func(http.ResponseWriter, *http.Request, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil || v == http.ErrAbortHandler {
				if v != nil {
					panic(v)
				}
				return
			}
			err := fmt.Errorf("panic: %v", v)
			if writeError != nil && isAPIPath(r.URL.Path) {
				writeError(w, r, err) // logs the detail with the request id
				return
			}
			log.Error("panic", "request_id", requestid.FromContext(r.Context()), "path", token.Redact(r.URL.Path),
				"err", token.Redact(err.Error()))
			http.Error(w, "Internal server error (request id "+requestid.FromContext(r.Context())+")", http.StatusInternalServerError)
		}()
		next.ServeHTTP(w, r)
	})
}

// isAPIPath reports whether p belongs to the API: it, or its cleaned form,
// is under /api/ or /e/. Unclean forms (//api/..., /x/../api/...) go to the
// API too, which answers them with its 404 in the envelope; the root mux
// would redirect them with an HTML body and the path in Location.
func isAPIPath(p string) bool {
	if underAPI(p) {
		return true // the common case: no cleaning
	}
	c := path.Clean("/" + p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/" // "//api/" is "/api/", as ServeMux cleans it
	}
	return underAPI(c)
}

func underAPI(p string) bool { return strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/e/") }

func limitBody(next http.Handler, n int64) http.Handler {
	if n <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, n)
		next.ServeHTTP(w, r)
	})
}

// defaultCSP is the Content-Security-Policy of every response whose handler
// sets none (the API, the probes, redirects): nothing may load, nothing may
// frame it. The console and the explorer replace it with their own, which
// also forbid framing.
const defaultCSP = "default-src 'none'; frame-ancestors 'none'"

// hsts tells browsers that came over TLS to use nothing else for a year.
const hsts = "max-age=31536000"

// securityHeaders sets the headers every response carries, whoever serves it.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", defaultCSP)
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", hsts)
		}
		if isAPIPath(r.URL.Path) {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}
