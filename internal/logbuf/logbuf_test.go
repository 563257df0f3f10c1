package logbuf

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

type lockedBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes++
	return l.b.Write(p)
}

func (l *lockedBuffer) snapshot() (string, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String(), l.writes
}

func TestBatchesAndFlushes(t *testing.T) {
	out := &lockedBuffer{}
	w := New(out, time.Hour, 1<<20)
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() { w.Write([]byte(strings.Repeat("x", i%7) + "line\n")) })
	}
	wg.Wait()
	if s, _ := out.snapshot(); s != "" {
		t.Fatalf("written before a flush: %q", s)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	s, writes := out.snapshot()
	if got := strings.Count(s, "line\n"); got != 100 || writes != 1 {
		t.Errorf("%d whole lines in %d writes, want 100 in 1", got, writes)
	}
	w.Write([]byte("after close\n"))
	if s, _ := out.snapshot(); !strings.HasSuffix(s, "after close\n") {
		t.Errorf("a write after Close waited: %q", s)
	}
}

func TestFlushesOnTimerAndWhenFull(t *testing.T) {
	out := &lockedBuffer{}
	w := New(out, 20*time.Millisecond, 1<<20)
	defer w.Close()
	w.Write([]byte("tick\n"))
	deadline := time.Now().Add(5 * time.Second)
	for s, _ := out.snapshot(); s != "tick\n"; s, _ = out.snapshot() {
		if time.Now().After(deadline) {
			t.Fatalf("the timer never flushed: %q", s)
		}
		time.Sleep(5 * time.Millisecond)
	}

	full := &lockedBuffer{}
	w2 := New(full, time.Hour, 10)
	defer w2.Close()
	w2.Write([]byte("0123456789ab\n"))
	if s, _ := full.snapshot(); s != "0123456789ab\n" {
		t.Errorf("a full buffer was not flushed: %q", s)
	}
}

func TestUrgentRecordsAreWrittenAtOnce(t *testing.T) {
	out := &lockedBuffer{}
	w := New(out, time.Hour, 1<<20)
	defer w.Close()
	log := slog.New(w.Urgent(slog.NewTextHandler(w, nil), slog.LevelWarn)).With("k", "v")
	log.Info("routine")
	if s, _ := out.snapshot(); s != "" {
		t.Fatalf("info written at once: %q", s)
	}
	log.Warn("trouble")
	s, _ := out.snapshot()
	if !strings.Contains(s, "msg=routine k=v") || !strings.Contains(s, "msg=trouble k=v") {
		t.Errorf("a warning did not flush both lines: %q", s)
	}
}
