package audit

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
	"unicode/utf8"

	"clusterapi/internal/token"
)

// DefaultRetention is how long events are kept when Options leave it zero.
const DefaultRetention = 90 * 24 * time.Hour

// maxPending bounds the events held in memory between flushes; past it,
// new events are counted as dropped and the loss is logged, rather than
// letting a flood grow memory without end.
const maxPending = 100_000

// maxFailureKeys bounds the distinct (address, reason) pairs counted in one
// aggregation window; past it, further pairs fold into one "other" key.
const maxFailureKeys = 10_000

// Options configure a Recorder.
type Options struct {
	FlushInterval time.Duration // how often events are written; a second when 0
	// FailureWindow is the aggregation window of failed authentications;
	// a minute when 0.
	FailureWindow time.Duration
	Retention     time.Duration // DefaultRetention when 0; negative keeps events forever
	Now           func() time.Time
	Logger        *slog.Logger
}

// Recorder collects events and writes them to a Store in batches.
type Recorder struct {
	store     Store
	now       func() time.Time
	log       *slog.Logger
	every     time.Duration
	window    time.Duration
	retention time.Duration

	mu       sync.Mutex
	pending  []Event
	dropped  int
	failures map[failureKey]*failure
}

type failureKey struct {
	addr, tokenID string
	status        int
	reason        string
}

type failure struct {
	first, last time.Time
	count       int
}

// NewRecorder returns a Recorder over store.
func NewRecorder(store Store, o Options) *Recorder {
	if o.FlushInterval <= 0 {
		o.FlushInterval = time.Second
	}
	if o.FailureWindow <= 0 {
		o.FailureWindow = time.Minute
	}
	if o.Retention == 0 {
		o.Retention = DefaultRetention
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Recorder{store: store, now: o.Now, log: o.Logger, every: o.FlushInterval, window: o.FailureWindow,
		retention: o.Retention, failures: map[failureKey]*failure{}}
}

// Record notes an event; it is written with the next batch. Its texts are
// redacted and its time set when zero.
func (r *Recorder) Record(e Event) {
	if r == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = r.now()
	}
	e.Time = e.Time.UTC().Truncate(time.Millisecond)
	for _, f := range []*string{&e.Action, &e.User, &e.TokenID, &e.ClientAddr, &e.Target, &e.Outcome, &e.Detail} {
		*f = clip(token.Redact(*f))
	}
	if e.Count < 1 {
		e.Count = 1
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.pending) >= maxPending {
		r.dropped++
		return
	}
	r.pending = append(r.pending, e)
}

// FailedAuth counts a refused request from addr: status and reason are the
// answer's; tokenID is the presenting token's when it authenticated (a 403),
// else empty. Counts are written as one "auth.failed" event per address,
// token, status and reason per window.
func (r *Recorder) FailedAuth(addr, tokenID string, status int, reason string) {
	if r == nil {
		return
	}
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	k := failureKey{addr, tokenID, status, reason}
	f := r.failures[k]
	if f == nil {
		if len(r.failures) >= maxFailureKeys {
			k = failureKey{"(many addresses)", "", status, reason}
			f = r.failures[k]
		}
		if f == nil {
			f = &failure{first: now}
			r.failures[k] = f
		}
	}
	f.count++
	f.last = now
}

// take returns the events to write now: everything pending, and the failure
// counts of windows that have closed (all of them when final).
func (r *Recorder) take(final bool) ([]Event, int) {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	out, dropped := r.pending, r.dropped
	r.pending, r.dropped = nil, 0
	for k, f := range r.failures {
		if !final && now.Sub(f.first) < r.window {
			continue
		}
		what := "refused request"
		if f.count > 1 {
			what = "refused requests"
		}
		out = append(out, Event{
			Time: f.last.UTC().Truncate(time.Millisecond), Action: "auth.failed", ClientAddr: token.Redact(k.addr),
			TokenID: token.Redact(k.tokenID), Outcome: clip(token.Redact(fmt.Sprintf("failure: %d %s", k.status, k.reason))),
			Count: f.count,
			Detail: fmt.Sprintf("%d %s from %s to %s", f.count, what,
				f.first.UTC().Format(time.RFC3339), f.last.UTC().Format(time.RFC3339)),
		})
		delete(r.failures, k)
	}
	return out, dropped
}

// Flush writes what is due now (everything when final).
func (r *Recorder) Flush(ctx context.Context, final bool) error {
	events, dropped := r.take(final)
	if dropped > 0 {
		r.log.Warn("audit events dropped: too many waiting to be written", "dropped", dropped)
	}
	if len(events) == 0 {
		return nil
	}
	if err := r.store.AppendAudit(ctx, events); err != nil {
		// Keep them for the next try, within the bound.
		r.mu.Lock()
		room := maxPending - len(r.pending)
		if room > len(events) {
			room = len(events)
		}
		r.pending = append(events[:room:room], r.pending...)
		r.dropped += len(events) - room
		r.mu.Unlock()
		return fmt.Errorf("write audit events: %w", err)
	}
	return nil
}

// Run writes batches until ctx ends, then writes everything left, and
// deletes events past the retention every hour.
func (r *Recorder) Run(ctx context.Context) {
	t := time.NewTicker(r.every)
	defer t.Stop()
	prune := time.NewTicker(time.Hour)
	defer prune.Stop()
	r.prune(ctx)
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			if err := r.Flush(fctx, true); err != nil {
				r.log.Error("audit log: last batch lost", "err", err)
			}
			cancel()
			return
		case <-t.C:
			if err := r.Flush(ctx, false); err != nil && ctx.Err() == nil {
				r.log.Warn("audit log", "err", err)
			}
		case <-prune.C:
			r.prune(ctx)
		}
	}
}

func (r *Recorder) prune(ctx context.Context) {
	if r.retention < 0 {
		return
	}
	n, err := r.store.DeleteAuditBefore(ctx, r.now().Add(-r.retention))
	if err != nil && ctx.Err() == nil {
		r.log.Warn("audit log: prune", "err", err)
	} else if n > 0 {
		r.log.Info("audit log: pruned events past retention", "deleted", n)
	}
}

// Find returns the events q selects, newest first.
func (r *Recorder) Find(ctx context.Context, q Query) ([]Event, error) {
	return r.store.FindAudit(ctx, q)
}

// maxField bounds each text of an event: a client may send a huge id.
const maxField = 512

// clip cuts s to maxField bytes on a character boundary.
func clip(s string) string {
	if len(s) <= maxField {
		return s
	}
	cut := maxField
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
