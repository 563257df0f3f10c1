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
	tests := []struct{ in, want string }{
		{"/api/cluster/v2/tokens/" + tok, "/api/cluster/v2/tokens/" + tok[:IDLen] + ".REDACTED"},
		{"/a/" + tok + "/b/" + tok, "/a/" + tok[:IDLen] + ".REDACTED/b/" + tok[:IDLen] + ".REDACTED"},
		{"/api/cluster/v2/tokens/" + tok[:IDLen], "/api/cluster/v2/tokens/" + tok[:IDLen]},
		{"dt0c01.", "dt0c01."},
		{"/x/dt0c01.dt0c01." + tok, "/x/dt0c01.dt0c01." + tok[:IDLen] + ".REDACTED"},
		{"plain", "plain"},
	}
	for _, tt := range tests {
		if got := Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzRedact(f *testing.F) {
	tok := Generate().Reveal()
	for _, s := range []string{"", tok, "/x/" + tok + "/y", "dt0c01." + tok, tok[:IDLen+5]} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Redact(s)
		for _, m := range regexp.MustCompile(Pattern).FindAllString(out, -1) {
			t.Errorf("Redact(%q) = %q still holds a token %q", s, out, m)
		}
	})
}
