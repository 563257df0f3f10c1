package token

import (
	"context"
	"fmt"
	"time"

	"clusterapi/internal/errs"
)

// RotatedError refuses to rotate a token that was rotated before: a second
// successor would fork the token's line, and a client that rotates the same
// token twice is working from a stale (or stolen) copy. Its kind is Conflict.
type RotatedError struct {
	ID        string // the token asked to be rotated
	Successor string // the token that replaced it
}

func (e *RotatedError) Error() string { return e.Unwrap().Error() }

// Unwrap returns the client-safe error, which names both ids (never a secret).
func (e *RotatedError) Unwrap() error {
	return errs.E(errs.Conflict, fmt.Sprintf(
		// No period right after an id: Redact would take what follows
		// for a secret.
		"Token %s has already been rotated; its successor is %s (a token is rotated once: rotate the successor instead).",
		e.ID, e.Successor))
}

// Rotate replaces the token named by ref (an id or a full token) with a new
// one and returns the old one as it is now, and the new one with its secret,
// which is never available again (an extension). The new token has the old one's name, scopes, owner
// and environment binding, and the old one's lifetime counted from now,
// through the lifetime policy (so a token that never expired gets the
// default lifetime, and no token more than the maximum).
//
// The old token keeps working until grace has passed or the new one is first
// used, whichever comes first: its expiry moves to the end of the grace
// period (if that is sooner), and the new token's first authentication
// revokes it. With grace 0 it is revoked at once. Either way the change goes
// through the store's change log, so every node's cache drops the old token.
//
// Only an active token that has not been rotated before may be rotated; the
// strict grant policy applies as for a create. A token may rotate itself:
// unlike an update, that hands its holder nothing it does not hold already.
func (s *Service) Rotate(ctx context.Context, a Actor, ref string, grace time.Duration) (old, next *Token, secret Secret, err error) {
	if grace < 0 {
		return nil, nil, "", errs.Field(errs.Payload, "gracePeriod.value", "must not be negative")
	}
	old, err = s.find(ctx, ref)
	if err != nil {
		return nil, nil, "", err
	}
	if old.Successor != "" {
		return nil, nil, "", &RotatedError{ID: old.ID, Successor: old.Successor}
	}
	now := s.Now()
	switch old.Status(now) {
	case StatusRevoked:
		return nil, nil, "", errs.E(errs.Conflict, "Token "+old.ID+" is revoked: only an active token can be rotated.")
	case StatusExpired:
		return nil, nil, "", errs.E(errs.Conflict, "Token "+old.ID+" has expired: only an active token can be rotated.")
	}
	if err := s.checkGrant(a, old.Scopes, old.EnvironmentID); err != nil {
		return nil, nil, "", err
	}
	var asked time.Duration
	if !old.Expires.IsZero() {
		asked = old.Expires.Sub(old.Created)
	}
	life := s.lifetime(old.Scopes, asked)
	secret = Generate()
	next = &Token{
		ID:            secret.Reveal()[:IDLen],
		Hash:          HashOf(secret.Reveal()),
		Name:          old.Name,
		UserID:        old.UserID,
		Scopes:        append([]Scope(nil), old.Scopes...),
		Created:       now,
		EnvironmentID: old.EnvironmentID,
	}
	if life > 0 {
		next.Expires = now.Add(life)
	}
	var c Change
	if grace == 0 {
		revoked := true
		c.Revoked = &revoked
	} else {
		next.Predecessor = old.ID
		if end := now.Add(grace); old.Expires.IsZero() || old.Expires.After(end) {
			c.Expires = &end
		}
	}
	err = s.store.RotateToken(ctx, old.ID, next, c)
	switch {
	case errs.Is(err, errs.Conflict):
		// Another rotation of the same token got there first: name its
		// successor, as if it had come before us.
		if cur, ferr := s.store.FindToken(ctx, old.ID); ferr == nil && cur.Successor != "" {
			return nil, nil, "", &RotatedError{ID: old.ID, Successor: cur.Successor}
		}
		return nil, nil, "", fmt.Errorf("rotate token %s: %w", old.ID, err)
	case errs.Is(err, errs.NotFound):
		return nil, nil, "", errNotFound
	case err != nil:
		return nil, nil, "", fmt.Errorf("rotate token %s: %w", old.ID, err)
	}
	s.changed(old.ID)
	old.Successor = next.ID
	if c.Revoked != nil {
		old.Revoked = true
	}
	if c.Expires != nil {
		old.Expires = *c.Expires
	}
	return old, next, secret, nil
}

// retire revokes the predecessor of t, a rotated-in token that has just
// authenticated for the first time. When several nodes see that first use
// at once, the store lets one of them do it; the others find nothing left.
func (s *Service) retire(ctx context.Context, t *Token) error {
	old, err := s.store.RetirePredecessor(ctx, t.ID)
	if err != nil {
		return fmt.Errorf("retire the predecessor of token %s: %w", t.ID, err)
	}
	t.Predecessor = ""
	if old != "" {
		s.changed(old)
		s.log.Info("rotated token revoked at the first use of its successor", "token_id", old, "successor_id", t.ID)
		s.mu.RLock()
		for _, f := range s.onRetire {
			f(old, t.ID)
		}
		s.mu.RUnlock()
	}
	return nil
}

// MaxLeaked is the most tokens one RevokeLeaked call takes.
const MaxLeaked = 100

// RevokeLeaked revokes every entry of presented that is a full token matching
// a stored one (its secret compared in constant time) and is not revoked
// yet, and returns the ids it revoked. Every other entry (malformed text, a
// bare token id, an unknown id, a wrong secret, a token revoked before) is
// skipped without a word, so that the caller learns nothing from the outcome.
// Surrounding whitespace is trimmed, as for a credential (SPEC 2.1).
func (s *Service) RevokeLeaked(ctx context.Context, presented []string) ([]string, error) {
	if len(presented) > MaxLeaked {
		return nil, errs.Field(errs.Payload, "tokens", fmt.Sprintf("must hold at most %d tokens", MaxLeaked))
	}
	var revoked []string
	seen := make(map[string]bool, len(presented))
	for _, p := range presented {
		p = TrimSpace(p)
		id, ok := ParseFull(p)
		if !ok || seen[id] {
			continue
		}
		t, err := s.store.FindToken(ctx, id)
		if errs.Is(err, errs.NotFound) {
			continue
		}
		if err != nil {
			return revoked, fmt.Errorf("revoke leaked token %s: %w", id, err)
		}
		if Check(t.Hash, p, false, time.Time{}, s.now()) != nil {
			continue // wrong secret: whoever sent it does not hold the token
		}
		seen[id] = true
		if t.Revoked {
			continue
		}
		yes := true
		err = s.store.UpdateToken(ctx, id, Change{Revoked: &yes})
		if errs.Is(err, errs.NotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return revoked, fmt.Errorf("revoke leaked token %s: %w", id, err)
		}
		s.changed(id)
		revoked = append(revoked, id)
	}
	return revoked, nil
}
