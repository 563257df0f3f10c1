package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"clusterapi/internal/token"
)

// testTokenPages checks the console's token list: name and status filters and
// offset paging, which together must reach every token.
func testTokenPages(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	s := open(t)
	at := base.Add(time.Hour)
	active := newToken("Pipeline A", 0, token.Nodekeeper)
	revoked := newToken("pipeline b", 1, token.Nodekeeper)
	revoked.Revoked = true
	expired := newToken("other PIPELINE", 2, token.Nodekeeper)
	expired.Expires = at // expires at == now: expired
	future := newToken("deploy", 3, token.Nodekeeper)
	future.Expires = at.Add(time.Millisecond)
	revokedExpired := newToken("old 100%_x", 4, token.Nodekeeper)
	revokedExpired.Revoked = true
	revokedExpired.Expires = base
	for _, tok := range []*token.Token{active, revoked, expired, future, revokedExpired} {
		mustCreate(t, s, tok)
	}
	ids := func(ts []*token.Token) []string {
		out := []string{}
		for _, t := range ts {
			out = append(out, t.ID)
		}
		return out
	}
	tests := []struct {
		name string
		f    token.Filter
		want []*token.Token
	}{
		{"name ignores ASCII case", token.Filter{Name: "pipeline"}, []*token.Token{expired, revoked, active}},
		{"name is literal, not a pattern", token.Filter{Name: "100%_"}, []*token.Token{revokedExpired}},
		{"name % matches only %", token.Filter{Name: "%"}, []*token.Token{revokedExpired}},
		{"active", token.Filter{Status: token.StatusActive}, []*token.Token{future, active}},
		{"revoked, expired or not", token.Filter{Status: token.StatusRevoked}, []*token.Token{revokedExpired, revoked}},
		{"expired, not revoked", token.Filter{Status: token.StatusExpired}, []*token.Token{expired}},
		{"name and status", token.Filter{Name: "PIPE", Status: token.StatusActive}, []*token.Token{active}},
		{"first page", token.Filter{Limit: 2}, []*token.Token{revokedExpired, future}},
		{"second page", token.Filter{Limit: 2, Offset: 2}, []*token.Token{expired, revoked}},
		{"last page", token.Filter{Limit: 2, Offset: 4}, []*token.Token{active}},
		{"past the end", token.Filter{Limit: 2, Offset: 6}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.f
			if f.Limit == 0 {
				f.Limit = 100
			}
			if f.Status != "" {
				f.At = at
			}
			got, err := s.FindTokens(ctx, f)
			if err != nil {
				t.Fatalf("FindTokens(%+v) = %v", f, err)
			}
			if diff := cmp.Diff(ids(tt.want), ids(got)); diff != "" {
				t.Errorf("FindTokens(%+v) ids (-want +got):\n%s", f, diff)
			}
		})
	}
}
