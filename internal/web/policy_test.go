package web

import (
	"testing"
	"time"
)

func TestPolicyNote(t *testing.T) {
	const day = 24 * time.Hour
	tests := []struct {
		def, max time.Duration
		want     string
	}{
		{0, 0, ""},
		{30 * day, 0, "On this server \u201cNever\u201d means 30 days."},
		{0, 90 * day, "On this server no token lives longer than 90 days: a longer choice, or \u201cNever\u201d, is shortened to that."},
		{day, 36 * time.Hour, "On this server \u201cNever\u201d means 1 day, and no token lives longer than 36 hours: a longer choice is shortened to that."},
		{90 * time.Minute, 0, "On this server \u201cNever\u201d means 90 minutes."},
		{90 * time.Second, 0, "On this server \u201cNever\u201d means 1m30s."},
	}
	for _, tt := range tests {
		if got := policyNote(tt.def, tt.max); got != tt.want {
			t.Errorf("policyNote(%v, %v) = %q, want %q", tt.def, tt.max, got, tt.want)
		}
	}
}
