package token

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"hash/crc32"
	"log/slog"
	"strings"
	"unsafe"
)

// The shape of a token: dt0c01.<PUBLIC>.<SECRET>, see SPEC 1.1.
const (
	Prefix      = "dt0c01"
	publicLen   = 24
	secretLen   = 64
	checksumLen = 7
	// IDLen is the length of a token id, dt0c01.<PUBLIC>.
	IDLen = len(Prefix) + 1 + publicLen
	// Len is the length of a full token.
	Len = IDLen + 1 + secretLen
)

// Pattern is the published regular expression that matches a full token, for
// secret scanners.
const Pattern = `dt0c01\.[A-Z2-7]{24}\.[A-Z2-7]{64}`

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" // RFC 4648 base32

// Secret is a full token. It is the credential itself, so it refuses to be
// printed or logged: every fmt verb and slog print REDACTED. Call Reveal to get
// the text, and only to hand it to the token's owner once.
type Secret string

// Reveal returns the token text.
func (s Secret) Reveal() string { return string(s) }

// String returns REDACTED.
func (Secret) String() string { return "REDACTED" }

// GoString returns REDACTED.
func (Secret) GoString() string { return "REDACTED" }

// Format prints REDACTED for every verb, so %q or %x cannot leak it either.
func (Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte("REDACTED")) }

// LogValue redacts the secret in structured logs.
func (Secret) LogValue() slog.Value { return slog.StringValue("REDACTED") }

// MarshalText redacts the secret should it ever be encoded by accident.
func (Secret) MarshalText() ([]byte, error) { return []byte("REDACTED"), nil }

// Hash is the SHA-256 of a full token: the only form in which a secret is stored.
type Hash [sha256.Size]byte

// HashOf returns the hash of a full token.
func HashOf(full string) Hash {
	// Hash the string's bytes in place: a []byte(full) conversion would copy
	// the secret to the heap on every request. Sum256 only reads its input.
	return sha256.Sum256(unsafe.Slice(unsafe.StringData(full), len(full)))
}

// Generate returns a new random token.
func Generate() Secret {
	var raw [publicLen + secretLen - checksumLen]byte
	rand.Read(raw[:]) // never fails: crypto/rand panics rather than return short
	b := make([]byte, Len)
	n := copy(b, Prefix)
	b[n] = '.'
	n++
	for i := range publicLen {
		b[n] = alphabet[raw[i]&31] // 256 is a multiple of 32: uniform
		n++
	}
	b[n] = '.'
	n++
	for _, c := range raw[publicLen:] {
		b[n] = alphabet[c&31]
		n++
	}
	putChecksum(b[n:], checksum(string(b[:n])))
	return Secret(b)
}

// checksum is the CRC-32 (IEEE) of everything in the token before the
// checksum, computed over the string's bytes in place (crc32 only reads them).
func checksum(s string) uint32 {
	return crc32.ChecksumIEEE(unsafe.Slice(unsafe.StringData(s), len(s)))
}

// putChecksum writes v as checksumLen base32 digits, most significant first,
// zero-padded ("A" is zero).
func putChecksum(dst []byte, v uint32) {
	for i := checksumLen - 1; i >= 0; i-- {
		dst[i] = alphabet[v&31]
		v >>= 5
	}
}

// checksumMatches reports whether the last checksumLen characters of full are
// the checksum of what precedes them.
func checksumMatches(full string) bool {
	body := full[:Len-checksumLen]
	var want [checksumLen]byte
	putChecksum(want[:], checksum(body))
	return string(want[:]) == full[Len-checksumLen:]
}

// base32Chars marks the bytes of the alphabet; a table lookup is cheaper
// than range comparisons on the request path.
var base32Chars = func() (t [256]bool) {
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = true
	}
	return t
}()

func isBase32(s string) bool {
	for i := 0; i < len(s); i++ {
		if !base32Chars[s[i]] {
			return false
		}
	}
	return true
}

// IsID reports whether s has the shape of a token id, dt0c01.<PUBLIC>.
func IsID(s string) bool {
	return len(s) == IDLen && s[:len(Prefix)] == Prefix && s[len(Prefix)] == '.' &&
		isBase32(s[len(Prefix)+1:])
}

// IsFull reports whether s has the shape of a full token, checksum included.
// It does no storage work, so it rejects made-up and mistyped tokens cheaply.
func IsFull(s string) bool {
	return len(s) == Len && IsID(s[:IDLen]) && s[IDLen] == '.' &&
		isBase32(s[IDLen+1:]) && checksumMatches(s)
}

// ParseFull checks that s is a well-formed full token and returns its id,
// which shares s's memory.
func ParseFull(s string) (id string, ok bool) {
	if !IsFull(s) {
		return "", false
	}
	return s[:IDLen], true
}

// TrimSpace removes surrounding spaces, tabs, CR and LF from a credential
// (SPEC 2.1). Whitespace inside is left alone so that it makes the token
// malformed.
func TrimSpace(s string) string {
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// Redact returns s with everything that may be token secret replaced by
// "REDACTED". Use it on any text from a request (paths, query values, error
// messages quoting input) before it reaches a log or a client.
//
// It anchors on the prefix, in any case, and then redacts the material after
// it: the run of [A-Za-z0-9], '.', '_' and '-' that follows, whatever its case,
// length or structure, up to its last letter or digit. Only a well-formed
// token id (the prefix, '.', 24 base32 characters, then no further letter or
// digit) stays readable, as the README allows: "dt0c01.<PUBLIC>.REDACTED".
// A mangled token (an id too short or too long, a lower-case character, no
// dots, a fully lower-cased token) loses everything after its prefix:
// "dt0c01.REDACTED". A prefix at the start of a run ends the material before
// it and is looked at in turn, so "dt0c01.dt0c01.<token>" keeps the id.
func Redact(s string) string {
	i := indexPrefixFold(s, 0)
	if i < 0 {
		return s // the common case: no allocation
	}
	var b strings.Builder
	b.Grow(len(s))
	done := 0 // s[:done] is written
	for i >= 0 {
		k := i + len(Prefix)
		keep := k // s[done:keep] is written as is
		if e := k + 1 + publicLen; e <= len(s) && s[k] == '.' && isBase32(s[k+1:e]) && (e == len(s) || !isAlnum(s[e])) {
			keep = e // a well-formed token id, public
		}
		if keep < len(s) && isJoiner(s[keep]) {
			keep++ // the separator stays: dt0c01.<PUBLIC>.REDACTED
		}
		end := materialEnd(s, keep)
		b.WriteString(s[done:keep])
		if end > keep {
			b.WriteString("REDACTED")
		}
		done = end
		i = indexPrefixFold(s, end)
	}
	b.WriteString(s[done:])
	return b.String()
}

// indexPrefixFold returns the index of the first Prefix in s[from:], in any
// ASCII case, or -1. It looks for the prefix's caseless tail "01" with
// strings.Index, which is fast: Redact runs on every request's path.
func indexPrefixFold(s string, from int) int {
	const tail = len(Prefix) - 2 // Prefix[tail:] == "01"
	for from+len(Prefix) <= len(s) {
		j := strings.Index(s[from+tail:], Prefix[tail:])
		if j < 0 {
			return -1
		}
		if i := from + j; hasPrefixFold(s[i:]) {
			return i
		}
		from += j + 1
	}
	return -1
}

// hasPrefixFold reports whether s starts with Prefix in any ASCII case.
func hasPrefixFold(s string) bool {
	if len(s) < len(Prefix) {
		return false
	}
	for i := 0; i < len(Prefix); i++ {
		c, p := s[i], Prefix[i]
		if c != p && !('a' <= p && p <= 'z' && c|0x20 == p) {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// isJoiner reports whether c may join runs of token material: the token's
// own '.', and '_' and '-' that a mangled copy may hold instead.
func isJoiner(c byte) bool { return c == '.' || c == '_' || c == '-' }

// materialEnd returns the end of the token material that starts at p: the
// run of letters, digits and joiners up to its last letter or digit. A run
// that starts with the prefix (at p or after a joiner) ends the material
// before it, for Redact to look at on its own. p itself when there is none.
func materialEnd(s string, p int) int {
	end := p
	for q := p; q < len(s) && (isAlnum(s[q]) || isJoiner(s[q])); q++ {
		if (q == p || isJoiner(s[q-1])) && hasPrefixFold(s[q:]) {
			break
		}
		if isAlnum(s[q]) {
			end = q + 1
		}
	}
	return end
}
