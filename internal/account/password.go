package account

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"clusterapi/internal/errs"
)

// HashParams are argon2id's cost parameters.
type HashParams struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
}

// DefaultHashParams are OWASP's minimum recommendation for argon2id
// (19 MiB, 2 passes, 1 lane): memory-hard, and cheap enough that a small
// server can take a sign-in burst.
var DefaultHashParams = HashParams{Memory: 19 * 1024, Time: 2, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
	// MinPasswordLen and MaxPasswordLen bound a new password, in characters.
	MinPasswordLen = 8
	MaxPasswordLen = 256
)

// HashPassword returns the PHC string of password under p with a fresh salt:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>.
func HashPassword(password string, p HashParams) string {
	salt := randomBytes(saltLen)
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// errBadHash is a stored hash this package cannot read.
var errBadHash = errors.New("stored password hash is not argon2id")

// CheckPassword reports whether password matches the PHC string hash.
func CheckPassword(hash, password string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return false, errBadHash
	}
	var p HashParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return false, errBadHash
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	key, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(key) == 0 || p.Time == 0 || p.Threads == 0 {
		return false, errBadHash
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	// constant-time: do not replace with bytes.Equal.
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// CheckNewPassword validates a password being set.
func CheckNewPassword(password string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case !utf8.ValidString(password):
		return errs.Violated(errs.Violation{Path: "password", Message: "must be valid UTF-8", Location: errs.Payload})
	case n < MinPasswordLen:
		return errs.Violated(errs.Violation{Path: "password", Message: fmt.Sprintf("must have at least %d characters", MinPasswordLen), Location: errs.Payload})
	case n > MaxPasswordLen:
		return errs.Violated(errs.Violation{Path: "password", Message: fmt.Sprintf("must have at most %d characters", MaxPasswordLen), Location: errs.Payload})
	}
	return nil
}

// GeneratePassword returns a random password: 26 base32 characters
// (128 bits), easy to copy from a log line.
func GeneratePassword() string { return rand.Text() }
