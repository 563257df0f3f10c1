package token

import (
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"testing"
)

var patternRE = regexp.MustCompile(`^` + Pattern + `$`)

func TestGenerate(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		s := Generate().Reveal()
		if !patternRE.MatchString(s) {
			t.Fatalf("Generate() = %q does not match the published pattern", s)
		}
		if !IsFull(s) {
			t.Fatalf("IsFull(Generate()) = false for %q", s)
		}
		id, ok := ParseFull(s)
		if !ok || id != s[:IDLen] || !IsID(id) {
			t.Fatalf("ParseFull(%q) = %q, %v", s, id, ok)
		}
		if seen[s[:IDLen]] {
			t.Fatalf("duplicate id %s", id)
		}
		seen[s[:IDLen]] = true
	}
}

func TestChecksum(t *testing.T) {
	// A known vector: the checksum is CRC-32 (IEEE) of everything before it,
	// as 7 base32 digits, most significant first.
	body := "dt0c01.ABCDEFGHIJKLMNOPQRSTUVWX." + strings.Repeat("A", 57)
	var sum [checksumLen]byte
	putChecksum(sum[:], checksum(body))
	full := body + string(sum[:])
	if !IsFull(full) {
		t.Fatalf("IsFull(%q) = false", full)
	}
	// crc32.ChecksumIEEE of body, computed independently.
	if got, want := checksum(body), crcIEEE([]byte(body)); got != want {
		t.Errorf("checksum = %08x, want %08x", got, want)
	}
	// Every single-character change anywhere is rejected.
	for i := range full {
		if full[i] == '.' {
			continue
		}
		b := []byte(full)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		if IsFull(string(b)) {
			t.Errorf("changing character %d still passes: %s", i, b)
		}
	}
}

func crcIEEE(b []byte) uint32 {
	crc := ^uint32(0)
	for _, c := range b {
		crc ^= uint32(c)
		for range 8 {
			if crc&1 == 1 {
				crc = crc>>1 ^ 0xedb88320
			} else {
				crc >>= 1
			}
		}
	}
	return ^crc
}

func TestParse(t *testing.T) {
	good := Generate().Reveal()
	tests := []struct {
		name   string
		in     string
		isID   bool
		isFull bool
	}{
		{"full", good, false, true},
		{"id", good[:IDLen], true, false},
		{"empty", "", false, false},
		{"lower case", strings.ToLower(good), false, false},
		{"other prefix", "dt0a01" + good[6:], false, false},
		{"no dots", strings.ReplaceAll(good, ".", "_"), false, false},
		{"short", good[:Len-1], false, false},
		{"long", good + "A", false, false},
		{"space inside", good[:50] + " " + good[51:], false, false},
		{"digit 1", good[:IDLen] + ".1" + good[IDLen+2:], false, false},
		{"id with 8", good[:IDLen-1] + "8", false, false},
		{"unicode", good[:IDLen-1] + "É", false, false},
	}
	for _, tt := range tests {
		if got := IsID(tt.in); got != tt.isID {
			t.Errorf("%s: IsID(%q) = %v, want %v", tt.name, tt.in, got, tt.isID)
		}
		if got := IsFull(tt.in); got != tt.isFull {
			t.Errorf("%s: IsFull(%q) = %v, want %v", tt.name, tt.in, got, tt.isFull)
		}
	}
}

func TestTrimSpace(t *testing.T) {
	tests := []struct{ in, want string }{
		{"  x  ", "x"}, {"x\r\n", "x"}, {"\tx y\t", "x y"}, {"", ""}, {" \r\n ", ""},
	}
	for _, tt := range tests {
		if got := TrimSpace(tt.in); got != tt.want {
			t.Errorf("TrimSpace(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSecretNeverPrints(t *testing.T) {
	s := Generate()
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "secret", s, "any", any(s))
	outs := []string{
		fmt.Sprint(s), fmt.Sprintf("%v %s %q %x %X %#v %+v %d", s, s, s, s, s, s, s, s),
		fmt.Sprintf("%v", []Secret{s}), fmt.Sprintf("%v", struct{ S Secret }{s}), logged.String(),
	}
	for _, out := range outs {
		if strings.Contains(out, s.Reveal()[IDLen:]) {
			t.Errorf("secret printed: %s", out)
		}
	}
}

func TestRedact(t *testing.T) {
	tok := Generate().Reveal()
	id, sec := tok[:IDLen], tok[IDLen+1:]
	lower := strings.ToLower(tok)
	tests := []struct{ name, in, want string }{
		{"path", "/api/cluster/v2/tokens/" + tok, "/api/cluster/v2/tokens/" + id + ".REDACTED"},
		{"two", "/a/" + tok + "/b/" + tok, "/a/" + id + ".REDACTED/b/" + id + ".REDACTED"},
		{"bare id", "/api/cluster/v2/tokens/" + id, "/api/cluster/v2/tokens/" + id},
		{"bare id, sentence", "token " + id + ".", "token " + id + "."},
		{"prefix alone", "dt0c01.", "dt0c01."},
		{"prefix twice", "/x/dt0c01.dt0c01." + tok, "/x/dt0c01.dt0c01." + id + ".REDACTED"},
		{"plain", "plain", "plain"},
		{"empty", "", ""},
		{"trailing dot kept", "see " + tok + ".", "see " + id + ".REDACTED."},
		// Mangled tokens: the prefix in any case, a short or long id, a
		// secret of any case or length.
		{"upper-case prefix", "DT0C01" + tok[6:], "DT0C01." + tok[7:IDLen] + ".REDACTED"},
		{"mixed-case prefix", "/x/Dt0C01" + tok[6:] + "/y", "/x/Dt0C01." + tok[7:IDLen] + ".REDACTED/y"},
		{"id one short", "/x/" + tok[:IDLen-1] + "." + sec, "/x/dt0c01.REDACTED"},
		{"id one long", "/x/" + id + "A." + sec, "/x/dt0c01.REDACTED"},
		{"lower-case char in secret", tok[:50] + "a" + tok[51:], id + ".REDACTED"},
		{"short secret", id + "." + sec[:10], id + ".REDACTED"},
		{"long secret", tok + "ABCDEFGHIJ" + "1234567890", id + ".REDACTED"},
		{"lower-cased token", "/x/" + lower + "/y", "/x/dt0c01.REDACTED/y"},
		{"no second dot", "/x/" + id + sec, "/x/dt0c01.REDACTED"},
		{"no dots", "/x/dt0c01" + tok[7:IDLen] + sec, "/x/dt0c01REDACTED"},
		{"other separator", "/x/" + id + "_" + sec, "/x/" + id + "_REDACTED"},
		{"dot inside secret", "/x/" + tok[:60] + "." + tok[60:], "/x/" + id + ".REDACTED"},
		{"double dot", "/x/" + id + ".." + sec, "/x/" + id + ".REDACTED"},
		{"prefix and long run", "q=dt0c01" + strings.Repeat("x", 80) + "&", "q=dt0c01REDACTED&"},
		{"in a message", `unknown scope "` + lower + `"`, `unknown scope "dt0c01.REDACTED"`},
	}
	for _, tt := range tests {
		if got := Redact(tt.in); got != tt.want {
			t.Errorf("%s: Redact(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
		if got := Redact(tt.want); got != tt.want {
			t.Errorf("%s: Redact is not idempotent: Redact(%q) = %q", tt.name, tt.want, got)
		}
	}
}

// BenchmarkRedact is the access log's cost per request for a path with no
// token, the common case.
func BenchmarkRedact(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Redact("/api/cluster/v2/environments/0b5e3c36-6f38-4d43-9d1d-2a9dbd5b1e0a")
	}
}

// material reports whether c may be part of token material: what Redact
// redacts after a prefix.
func material(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-'
}

// checkRedacted fails when out, Redact's output for in, still holds a token
// or more material after a prefix than a token id and REDACTED: at most 34
// characters (".<PUBLIC>.REDACTED") up to the last letter or digit before
// the next prefix.
func checkRedacted(t *testing.T, in, out string) {
	t.Helper()
	if m := regexp.MustCompile(Pattern).FindString(out); m != "" {
		t.Fatalf("Redact(%q) = %q still holds a token %q", in, out, m)
	}
	low := strings.ToLower(out)
	for i := strings.Index(low, Prefix); i >= 0; {
		j := i + len(Prefix)
		next := strings.Index(low[j:], Prefix)
		end := len(low)
		if next >= 0 {
			end = j + next
		}
		k := j // the end of the material: its last letter or digit
		for q := j; q < end && material(low[q]); q++ {
			if c := low[q]; c != '.' && c != '_' && c != '-' {
				k = q + 1
			}
		}
		if k-j > 1+publicLen+1+len("REDACTED") {
			t.Fatalf("Redact(%q) = %q leaves %q after a prefix", in, out, out[j:k])
		}
		if next < 0 {
			break
		}
		i = end
	}
}

func FuzzRedact(f *testing.F) {
	tok := Generate().Reveal()
	for _, s := range []string{"", tok, "/x/" + tok + "/y", "dt0c01." + tok, tok[:IDLen+5],
		strings.ToUpper(tok), strings.ToLower(tok), tok[:IDLen-1] + tok[IDLen:], tok[:50] + "a" + tok[51:],
		"dt0c01" + strings.Repeat("z", 90), "DT0C01.dt0c01..x_" + tok} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Redact(s)
		checkRedacted(t, s, out)
		if again := Redact(out); again != out {
			t.Errorf("Redact(%q) = %q, but Redact of that = %q", s, out, again)
		}
	})
}

// fuzzToken is a fixed, well-formed token for FuzzRedactMangled, so that a
// failing input reproduces.
var fuzzToken = func() string {
	body := "dt0c01.Q3ZK7MXWPA2LRT5VNB6HYC4J.GF7LQ2ZRXM4KTA6WVB3NYP5HJDC2SE7UMQ4RKZLX6TBW3AVNGY5PHQW3Z"
	var sum [checksumLen]byte
	putChecksum(sum[:], checksum(body))
	return body + string(sum[:])
}()

// FuzzRedactMangled mangles a token with a few edits (case flips anywhere;
// deletions, substitutions and insertions of token-like characters after the
// prefix), puts it in some context, and checks that no 8 characters of its
// secret survive Redact, in any case.
func FuzzRedactMangled(f *testing.F) {
	contexts := []string{"", "/api/cluster/v2/tokens/", "/", " ", "?api-token=", `"`, "dt0c01.", "dt0c01", "x",
		"DT0C01.Q3ZK7MXWPA2LRT5VNB6HYC4J.", ".json", "/lookup"}
	f.Add(byte(0), byte(0), []byte{})
	f.Add(byte(1), byte(4), []byte{0, 2, 0})              // upper-case prefix
	f.Add(byte(1), byte(2), []byte{1, 20, 0})             // id one short
	f.Add(byte(3), byte(6), []byte{2, 60, 'a'})           // a lower-case character inside the secret
	f.Add(byte(5), byte(5), []byte{3, 40, '.', 1, 31, 0}) // dots moved
	f.Fuzz(func(t *testing.T, before, after byte, edits []byte) {
		if !fuzzTokenOK() {
			t.Fatal("fuzzToken is not a valid token")
		}
		b := []byte(fuzzToken)
		for n := 0; n+2 < len(edits) && n < 4*3; n += 3 {
			op, pos, arg := edits[n]%4, int(edits[n+1]), edits[n+2]
			switch op {
			case 0: // flip the case of a letter
				if pos < len(b) {
					if c := b[pos]; 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' {
						b[pos] ^= 0x20
					}
				}
			case 1: // delete
				if pos >= len(Prefix) && pos < len(b) {
					b = append(b[:pos], b[pos+1:]...)
				}
			case 2, 3: // substitute, insert a token-like character
				if pos < len(Prefix) || pos > len(b) || !material(arg) {
					continue
				}
				if op == 2 && pos < len(b) {
					b[pos] = arg
				} else {
					b = append(b[:pos], append([]byte{arg}, b[pos:]...)...)
				}
			}
		}
		in := contexts[int(before)%len(contexts)] + string(b) + contexts[int(after)%len(contexts)]
		out := strings.ToLower(Redact(in))
		secret := strings.ToLower(fuzzToken[IDLen+1 : Len-checksumLen])
		for i := 0; i+8 <= len(secret); i++ {
			if strings.Contains(out, secret[i:i+8]) {
				t.Fatalf("Redact(%q) = %q keeps %q of the secret", in, Redact(in), secret[i:i+8])
			}
		}
	})
}

func fuzzTokenOK() bool { return IsFull(fuzzToken) }
