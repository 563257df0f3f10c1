package browsertest

import (
	"fmt"
	"runtime"
	"testing"
)

// outcome records how a test that has no browser ends.
type outcome struct {
	testing.TB
	fatal, skip string
}

func (o *outcome) Helper()           {}
func (o *outcome) Fatal(args ...any) { o.fatal = fmt.Sprint(args...); runtime.Goexit() }
func (o *outcome) Skip(args ...any)  { o.skip = fmt.Sprint(args...); runtime.Goexit() }

func run(f func()) {
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	<-done
}

// Without a browser, CI fails and a developer's run skips, saying why.
func TestMissing(t *testing.T) {
	for _, tt := range []struct {
		ci       string
		wantFail bool
	}{{"true", true}, {"", false}, {"false", false}} {
		t.Setenv("CI", tt.ci)
		o := &outcome{TB: t}
		run(func() { missing(o) })
		if failed := o.fatal != ""; failed != tt.wantFail || (o.fatal == "" && o.skip == "") {
			t.Errorf("CI=%q: fatal %q, skip %q; want failure %v", tt.ci, o.fatal, o.skip, tt.wantFail)
		}
	}
}
