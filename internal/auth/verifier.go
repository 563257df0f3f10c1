package auth

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"clusterapi/internal/metrics"
	"clusterapi/internal/token"
)

// DefaultCacheSize bounds the verification cache when Options leave it zero.
const DefaultCacheSize = 1 << 17

// DefaultFlushInterval is how often recorded uses are written to the store.
const DefaultFlushInterval = time.Second

// DefaultWatchInterval is how often the store's change log is read for
// changes made by other processes (the CLI, other nodes).
const DefaultWatchInterval = 200 * time.Millisecond

// watchTimeout bounds one read of the change log, so that a store that
// hangs rather than fails cannot leave the cache trusted.
const watchTimeout = 2 * time.Second

// Options configure a Verifier.
type Options struct {
	CacheSize     int              // most tokens kept verified in memory
	FlushInterval time.Duration    // how often last uses are written
	WatchInterval time.Duration    // how often other processes' changes are read
	Now           func() time.Time // the clock; time.Now when nil
	Logger        *slog.Logger
	// Notifier, when the store has one, tells the verifier of changes as
	// they happen instead of at the next poll.
	Notifier Notifier
	// Metrics, when set, receives the verifier's metrics (clusterapi_auth_*
	// and clusterapi_lastuse_*). One verifier per registry.
	Metrics *metrics.Registry
	// Throttle bounds failed authentications; DefaultThrottle when nil.
	Throttle *ThrottleLimits
}

// Notifier is implemented by stores that announce token changes as they are
// committed (PostgreSQL's LISTEN/NOTIFY), whoever makes them. With one, the
// cache is trusted only while announcements are certain to arrive: the
// notification connection is up and the change log has been read since it
// came up. Otherwise every request is verified against the store.
type Notifier interface {
	// Changes returns a channel that receives a value soon after a token
	// change is logged, and whenever the notification connection is lost
	// or restored.
	Changes() <-chan struct{}
	// Listening returns the notification connection's generation, bumped
	// on every (re)connection, and whether it is up now.
	Listening() (epoch uint64, live bool)
}

// Verifier checks presented tokens. A cache hit costs a parse, a checksum, a
// map read, a hash and a constant-time compare: no storage read and no write.
type Verifier struct {
	tokens *token.Service
	now    func() time.Time
	log    *slog.Logger
	max    int

	mu      sync.RWMutex
	entries map[string]*entry
	epoch   uint64 // bumped by every invalidation; a miss that raced one is not cached

	uses     *recorder
	m        verifierMetrics
	throttle *throttle

	watchEvery   time.Duration
	changeSeq    int64 // the store change log position the cache is current with; Watch only
	watchFailing bool  // the last Watch failed; Watch only
	notifyLive   bool  // the notifier was listening at the last Watch; Watch only

	notifier Notifier
	changes  <-chan struct{}
	// synced is the notifier generation since whose start the change log
	// has been read; 0 when it has not (generations start at 1).
	synced atomic.Uint64
}

// entry is a cached positive verification. Revoked tokens are never cached.
type entry struct {
	p        Principal
	hash     token.Hash
	expires  time.Time
	recorded atomic.Int64 // unix ms of the last use handed to the recorder
}

// NewVerifier returns a verifier over tokens and subscribes it to their
// changes. Start its flusher with Run.
func NewVerifier(tokens *token.Service, o Options) *Verifier {
	if o.CacheSize <= 0 {
		o.CacheSize = DefaultCacheSize
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = DefaultFlushInterval
	}
	if o.WatchInterval <= 0 {
		o.WatchInterval = DefaultWatchInterval
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	limits := DefaultThrottle
	if o.Throttle != nil {
		limits = *o.Throttle
	}
	v := &Verifier{
		tokens:   tokens,
		now:      o.Now,
		log:      o.Logger,
		max:      o.CacheSize,
		entries:  make(map[string]*entry),
		uses:     &recorder{pending: make(map[string]token.Use), interval: o.FlushInterval},
		throttle: newThrottle(limits),

		watchEvery: o.WatchInterval,
		notifier:   o.Notifier,
	}
	if v.notifier != nil {
		v.changes = v.notifier.Changes()
	}
	if o.Metrics == nil {
		o.Metrics = metrics.NewRegistry() // counted, never scraped
	}
	v.m = newVerifierMetrics(o.Metrics, v)
	tokens.OnChange(v.Invalidate)
	return v
}

// Verify checks a presented full token from client address ip and returns
// its principal. While ip or the token's id is throttled it refuses with a
// *ThrottledError, without looking at the token. It counts a failure under
// its outcome, but not a success: see Authenticate.
func (v *Verifier) Verify(ctx context.Context, presented, ip string) (Principal, error) {
	now := v.now()
	id, ok := token.ParseFull(presented)
	if err := v.throttle.check(now.UnixNano(), ip, id); err != nil {
		v.Count(OutcomeThrottled)
		return Principal{}, err
	}
	if !ok {
		v.Count(OutcomeMalformed)
		v.failed(now, ip, "")
		return Principal{}, token.ErrAuthFail
	}
	v.mu.RLock()
	e := v.entries[id]
	epoch := v.epoch
	v.mu.RUnlock()
	if e != nil && v.trusted() {
		v.m.hits.Inc()
		if err := token.Check(e.hash, presented, false, e.expires, now); err != nil {
			v.countFailure(err)
			if err == token.ErrAuthFail {
				v.failed(now, ip, id)
			}
			return Principal{}, err
		}
		// Hand the use to the recorder at most once a second per token, so
		// a busy token does not contend on the recorder's lock.
		ms := now.UnixMilli()
		if last := e.recorded.Load(); ms-last >= 1000 && e.recorded.CompareAndSwap(last, ms) {
			v.recordUse(e.p.TokenID, now, ip)
		}
		return e.p, nil
	}
	v.m.misses.Inc()
	t, err := v.tokens.Authenticate(ctx, presented)
	if err != nil {
		v.countFailure(err)
		if err == token.ErrAuthFail { // unknown id or wrong secret: counted alike
			v.failed(now, ip, id)
		}
		return Principal{}, err
	}
	e = &entry{
		p:       Principal{TokenID: t.ID, UserID: t.UserID, Scopes: t.ScopeSet(), EnvironmentID: t.EnvironmentID},
		hash:    t.Hash,
		expires: t.Expires,
	}
	e.recorded.Store(now.UnixMilli())
	v.recordUse(t.ID, now, ip)
	v.mu.Lock()
	if v.epoch == epoch { // no invalidation since our read: the entry is current
		if len(v.entries) >= v.max {
			for k := range v.entries { // evict an arbitrary entry
				delete(v.entries, k)
				break
			}
		}
		v.entries[t.ID] = e
	}
	v.mu.Unlock()
	return e.p, nil
}

// failed counts a failed authentication and says when it makes an address or
// a token id throttled: once per window, not once per refusal.
func (v *Verifier) failed(now time.Time, ip, id string) {
	for _, t := range v.throttle.fail(now, ip, id) {
		switch t.kind {
		case byAddress:
			v.log.Warn("authentication throttled: too many failures from one client address",
				"remote", ip, "failures", v.throttle.limits.PerAddress, "until", t.until.UTC().Format(time.RFC3339))
		case byToken:
			v.log.Warn("authentication throttled: too many failures naming one token id; refused to the addresses that failed on it",
				"token_id", t.id, "failures", v.throttle.limits.PerToken, "until", t.until.UTC().Format(time.RFC3339))
		}
	}
}

// trusted reports whether cached verifications may be used: always without a
// notifier (the poll bounds staleness), and with one only while it is
// listening and the change log was read after it began to.
func (v *Verifier) trusted() bool {
	if v.notifier == nil {
		return true
	}
	epoch, live := v.notifier.Listening()
	return live && epoch == v.synced.Load()
}

// Invalidate drops the cached verification of token id. Token changes call it
// synchronously, before the change is acknowledged to the client.
func (v *Verifier) Invalidate(id string) {
	v.mu.Lock()
	delete(v.entries, id)
	v.epoch++
	v.mu.Unlock()
}

// InvalidateAll empties the cache.
func (v *Verifier) InvalidateAll() {
	v.mu.Lock()
	clear(v.entries)
	v.epoch++
	v.mu.Unlock()
}

// Init notes the store's change log position. Call it before the first
// Verify: changes logged after it reach the cache through Run.
func (v *Verifier) Init(ctx context.Context) error {
	seq, err := v.tokens.LastChange(ctx)
	if err != nil {
		return err
	}
	v.changeSeq = seq
	return nil
}

// Run writes recorded uses every flush interval and drops cache entries of
// tokens that other processes changed (at every poll, and at once when the
// notifier announces a change), until ctx ends; then it writes what is left,
// so that a clean shutdown loses no last use. Watching has a goroutine of
// its own, so that a slow write never delays an invalidation.
func (v *Verifier) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { v.watch(ctx) })
	flush := time.NewTicker(v.uses.interval)
	defer flush.Stop()
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			v.Flush(context.WithoutCancel(ctx))
			return
		case <-flush.C:
			v.Flush(ctx)
		}
	}
}

func (v *Verifier) watch(ctx context.Context) {
	poll := time.NewTicker(v.watchEvery)
	defer poll.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-poll.C:
		case <-v.changes: // nil without a notifier: never ready
		}
		v.Watch(ctx)
	}
}

// Watch reads the store's change log once and drops the cache entries of
// every token changed since the last read. If the log cannot be read, or
// changes were lost, the whole cache goes: it is only ever a shortcut.
// Only one Watch may run at a time.
func (v *Verifier) Watch(ctx context.Context) {
	// Read the notifier's state first: a log read that starts after the
	// connection came up sees every change not announced on it.
	var epoch uint64
	var live bool
	if v.notifier != nil {
		epoch, live = v.notifier.Listening()
		if live != v.notifyLive {
			if live {
				v.log.Info("token change notifications flowing")
			} else {
				v.log.Warn("token change notifications lost; verifying every request against the store until they are back")
			}
			v.notifyLive = live
		}
	}
	rctx, cancel := context.WithTimeout(ctx, watchTimeout)
	ids, next, lost, err := v.tokens.Changes(rctx, v.changeSeq)
	cancel()
	if err != nil {
		v.synced.Store(0)
		if ctx.Err() == nil && !v.watchFailing { // once per outage, not every poll
			v.log.Warn("read token changes; verifying every request against the store", "err", err)
		}
		v.watchFailing = true
		v.InvalidateAll()
		return
	}
	if lost {
		v.InvalidateAll()
	}
	for _, id := range ids {
		v.Invalidate(id)
	}
	v.changeSeq = next
	if v.watchFailing {
		v.log.Info("token changes readable again")
		v.watchFailing = false
	}
	if live {
		v.synced.Store(epoch)
	} else {
		v.synced.Store(0)
	}
}

// Flush writes the recorded uses now, in one batch.
func (v *Verifier) Flush(ctx context.Context) {
	batch := v.uses.take()
	if len(batch) == 0 {
		return
	}
	if err := v.tokens.RecordUses(ctx, batch); err != nil {
		v.log.Error("record token uses", "err", err, "tokens", len(batch))
		v.m.flushFailures.Inc()
		v.uses.putBack(batch)
		return
	}
	oldest := batch[0].At
	for _, u := range batch[1:] {
		if u.At.Before(oldest) {
			oldest = u.At
		}
	}
	v.m.flushes.Inc()
	v.m.flushLag.Observe(v.now().Sub(oldest).Seconds())
}

// recorder collects the latest use of each token between flushes.
type recorder struct {
	interval time.Duration
	mu       sync.Mutex
	pending  map[string]token.Use
}

func (r *recorder) record(id string, at time.Time, ip string) {
	r.mu.Lock()
	if u, ok := r.pending[id]; !ok || !at.Before(u.At) {
		r.pending[id] = token.Use{ID: id, At: at, IP: ip}
	}
	r.mu.Unlock()
}

// len returns how many tokens have a use waiting to be written.
func (r *recorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.pending)
}

func (r *recorder) take() []token.Use {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.pending) == 0 {
		return nil
	}
	out := make([]token.Use, 0, len(r.pending))
	for _, u := range r.pending {
		out = append(out, u)
	}
	clear(r.pending)
	return out
}

// putBack returns a batch that could not be written, keeping newer uses.
func (r *recorder) putBack(batch []token.Use) {
	for _, u := range batch {
		r.record(u.ID, u.At, u.IP)
	}
}
