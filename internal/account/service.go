package account

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"clusterapi/internal/errs"
)

// DefaultIdleTimeout ends a session that has not been used for this long.
const DefaultIdleTimeout = 30 * time.Minute

// ErrSignIn is the one answer to a wrong user name and a wrong password
// alike, so that the answer does not tell which users exist.
var ErrSignIn = errs.E(errs.Unauthorized, "Wrong user name or password.")

// ErrThrottled answers a sign-in while too many recent ones failed, whether
// or not this one would have succeeded.
var ErrThrottled = errs.E(errs.Unauthorized, "Too many failed sign-ins. Wait a few minutes and try again.")

// ErrNoConsoleAccess answers a right password of a user who is in no
// cluster-admin group (SPEC 5).
var ErrNoConsoleAccess = errs.E(errs.Forbidden, "This user may not sign in to the console: "+
	"only members of a cluster admin group may. Ask an administrator to add you to one.")

// errNoSession is any cookie that opens no session: unknown, expired, gone.
var errNoSession = errs.E(errs.Unauthorized, "Not signed in.")

// Options configure a Service.
type Options struct {
	Now         func() time.Time // the clock; time.Now when nil
	IdleTimeout time.Duration    // DefaultIdleTimeout when 0
	Hash        HashParams       // DefaultHashParams when zero
	// Throttle limits failed sign-ins; DefaultThrottle when zero.
	Throttle ThrottleLimits
	Logger   *slog.Logger // discards when nil
}

// Service applies the rules for users and sessions over a Store.
type Service struct {
	store    Store
	now      func() time.Time
	idle     time.Duration
	hash     HashParams
	throttle *throttle
	log      *slog.Logger
	// hashing bounds concurrent argon2 runs: each holds Memory KiB, and a
	// burst of sign-ins must not exhaust the server's memory.
	hashing chan struct{}
	dummy   string // a hash to check against for unknown users
}

// NewService returns a Service over store.
func NewService(store Store, o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.Hash == (HashParams{}) {
		o.Hash = DefaultHashParams
	}
	if o.Throttle == (ThrottleLimits{}) {
		o.Throttle = DefaultThrottle
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{
		store: store, now: o.Now, idle: o.IdleTimeout, hash: o.Hash,
		throttle: newThrottle(o.Throttle), log: o.Logger,
		hashing: make(chan struct{}, 4),
		dummy:   HashPassword(GeneratePassword(), o.Hash),
	}
}

// IdleTimeout is how long an unused session lives.
func (s *Service) IdleTimeout() time.Duration { return s.idle }

func (s *Service) nowMillis() time.Time { return s.now().Truncate(time.Millisecond) }

// hashPassword and checkPassword run argon2 with bounded concurrency.
func (s *Service) hashPassword(ctx context.Context, pw string) (string, error) {
	select {
	case s.hashing <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-s.hashing }()
	return HashPassword(pw, s.hash), nil
}

func (s *Service) checkPassword(ctx context.Context, hash, pw string) (bool, error) {
	select {
	case s.hashing <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-s.hashing }()
	return CheckPassword(hash, pw)
}

// EnsureAdmin creates the admin user when the store has no users at all.
// The password is password, or a generated one when that is empty; generated
// reports whether it was generated (and must be shown to the operator once).
// created is false when users already exist (or another node just made one).
func (s *Service) EnsureAdmin(ctx context.Context, password string) (pw string, created, generated bool, err error) {
	n, err := s.store.CountUsers(ctx)
	if err != nil {
		return "", false, false, fmt.Errorf("count users: %w", err)
	}
	if n > 0 {
		return "", false, false, nil
	}
	pw = password
	if pw == "" {
		pw, generated = GeneratePassword(), true
	} else if err := CheckNewPassword(pw); err != nil {
		return "", false, false, fmt.Errorf("CLUSTERAPI_ADMIN_PASSWORD: %w", err)
	}
	h, err := s.hashPassword(ctx, pw)
	if err != nil {
		return "", false, false, err
	}
	if err := s.ensureAdminGroup(ctx); err != nil {
		return "", false, false, err
	}
	err = s.store.CreateUser(ctx, &User{ID: AdminName, Groups: []string{AdminGroupID}, PasswordHash: h, Created: s.nowMillis()})
	if errs.Is(err, errs.Conflict) {
		return "", false, false, nil // another node got there first
	}
	if err != nil {
		return "", false, false, fmt.Errorf("create user %s: %w", AdminName, err)
	}
	return pw, true, generated, nil
}

// ensureAdminGroup creates the cluster-admin group the first admin joins,
// unless it exists. The store's migrations create it; an operator may have
// deleted it since.
func (s *Service) ensureAdminGroup(ctx context.Context) error {
	_, err := s.store.FindGroup(ctx, AdminGroupID)
	if !errs.Is(err, errs.NotFound) {
		return err
	}
	err = s.store.CreateGroup(ctx, &Group{ID: AdminGroupID, Name: "Cluster admins", ClusterAdmin: true,
		LDAPGroups: []string{}, SSOGroups: []string{}, Created: s.nowMillis()})
	if errs.Is(err, errs.Conflict) {
		return nil // another node made it, or a group has that name
	}
	return err
}

// RestoreAdminAccess is the command line's break-glass: it makes sure that
// admin may sign in to the console, whatever the API did to the groups. The
// cluster-admin group exists again with its right, and admin is in it.
// changed reports whether anything had to change.
func (s *Service) RestoreAdminAccess(ctx context.Context) (changed bool, err error) {
	g, err := s.store.FindGroup(ctx, AdminGroupID)
	switch {
	case errs.Is(err, errs.NotFound):
		if err := s.ensureAdminGroup(ctx); err != nil {
			return false, err
		}
		changed = true
	case err != nil:
		return false, err
	case !g.ClusterAdmin:
		g.ClusterAdmin = true
		if err := s.store.UpdateGroup(ctx, g); err != nil {
			return false, err
		}
		changed = true
	}
	u, err := s.store.FindUser(ctx, AdminName)
	if err != nil {
		return changed, err
	}
	if !slices.Contains(u.Groups, AdminGroupID) {
		u.Groups = append(u.Groups, AdminGroupID)
		if err := s.store.UpdateUser(ctx, u); err != nil {
			return changed, err
		}
		changed = true
	}
	return changed, nil
}

// SetPassword sets a user's password and signs the user out everywhere.
func (s *Service) SetPassword(ctx context.Context, userID, password string) error {
	if err := CheckNewPassword(password); err != nil {
		return err
	}
	if _, err := s.store.FindUser(ctx, userID); err != nil {
		return err
	}
	h, err := s.hashPassword(ctx, password)
	if err != nil {
		return err
	}
	if err := s.store.SetPassword(ctx, userID, h); err != nil {
		return fmt.Errorf("set password of %s: %w", userID, err)
	}
	if err := s.store.DeleteUserSessions(ctx, userID); err != nil {
		return fmt.Errorf("end sessions of %s: %w", userID, err)
	}
	return nil
}

// SignIn checks a user name and password from client address ip and opens a
// session. Every failure is ErrSignIn or ErrThrottled; a throttled attempt is
// refused before the password is looked at.
func (s *Service) SignIn(ctx context.Context, name, password, ip string) (*User, SessionKey, error) {
	now := s.now()
	userKey := "user:" + strings.ToLower(name)
	ipKey := "ip:" + ip
	if !s.throttle.allow(userKey, ipKey, now) {
		s.log.Warn("sign-in throttled", "remote", ip)
		return nil, "", ErrThrottled
	}
	u, err := s.store.FindUser(ctx, name)
	if err != nil && !errs.Is(err, errs.NotFound) {
		return nil, "", fmt.Errorf("find user: %w", err)
	}
	// Check something for unknown users and users without a password too:
	// same work, same time.
	hash := s.dummy
	if u != nil && u.PasswordHash != "" {
		hash = u.PasswordHash
	}
	ok, err := s.checkPassword(ctx, hash, password)
	if err != nil {
		return nil, "", fmt.Errorf("check password of %s: %w", name, err)
	}
	if u == nil || u.PasswordHash == "" || !ok {
		s.throttle.fail(userKey, ipKey, now)
		// An unknown name is not logged: it may be a password typed
		// into the wrong field.
		known := ""
		if u != nil {
			known = u.ID
		}
		s.log.Info("sign-in failed", "user", known, "remote", ip)
		return nil, "", ErrSignIn
	}
	s.throttle.succeed(userKey)
	if ok, err := s.consoleAccess(ctx, u); err != nil {
		return nil, "", fmt.Errorf("groups of %s: %w", u.ID, err)
	} else if !ok {
		s.log.Info("sign-in refused: not in a cluster admin group", "user", u.ID, "remote", ip)
		return nil, "", ErrNoConsoleAccess
	}
	key := newSessionKey()
	t := s.nowMillis()
	if err := s.store.CreateSession(ctx, &Session{IDHash: hashKey(key.Reveal()), UserID: u.ID, Created: t, LastSeen: t}); err != nil {
		return nil, "", fmt.Errorf("create session: %w", err)
	}
	s.log.Info("signed in", "user", u.ID, "remote", ip)
	return u, key, nil
}

// Authenticate returns the user of the session whose cookie value is key and
// marks the session as used. An unknown, idle-expired or malformed key is an
// Unauthorized error.
func (s *Service) Authenticate(ctx context.Context, key string) (*User, error) {
	if key == "" || len(key) > 128 {
		return nil, errNoSession
	}
	h := hashKey(key)
	sess, err := s.store.FindSession(ctx, h)
	if errs.Is(err, errs.NotFound) {
		return nil, errNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("find session: %w", err)
	}
	now := s.nowMillis()
	if !now.Before(sess.LastSeen.Add(s.idle)) {
		if err := s.store.DeleteSession(ctx, h); err != nil {
			return nil, fmt.Errorf("delete idle session: %w", err)
		}
		return nil, errNoSession
	}
	// Write at most every idle/10 (capped at a minute): enough to keep an
	// active session alive without a write per page.
	if now.Sub(sess.LastSeen) >= min(s.idle/10, time.Minute) {
		if err := s.store.TouchSession(ctx, h, now); err != nil {
			return nil, fmt.Errorf("touch session: %w", err)
		}
	}
	u, err := s.store.FindUser(ctx, sess.UserID)
	if errs.Is(err, errs.NotFound) {
		return nil, errNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("find user: %w", err)
	}
	// Group changes apply at once: a user taken out of every cluster-admin
	// group is signed out on the next page.
	if ok, err := s.consoleAccess(ctx, u); err != nil {
		return nil, fmt.Errorf("groups of %s: %w", u.ID, err)
	} else if !ok {
		return nil, errNoSession
	}
	return u, nil
}

// SignOut ends the session whose cookie value is key, if there is one.
func (s *Service) SignOut(ctx context.Context, key string) error {
	if key == "" || len(key) > 128 {
		return nil
	}
	if err := s.store.DeleteSession(ctx, hashKey(key)); err != nil && !errs.Is(err, errs.NotFound) {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// PruneSessions deletes sessions that have been idle past the timeout.
func (s *Service) PruneSessions(ctx context.Context) error {
	return s.store.DeleteIdleSessions(ctx, s.nowMillis().Add(-s.idle))
}
