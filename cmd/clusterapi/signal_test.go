package main

import (
	"bufio"
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSIGTERM builds the real binary, serves with it, and stops it with
// SIGTERM: it must exit 0 having written the last-use batch.
func TestSIGTERM(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "clusterapi")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	store := "sqlite:" + filepath.Join(dir, "data", "c.db")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tok, err := exec.CommandContext(ctx, bin, "token", "create", "--name", "sig", "--scope", "ClusterTokenManagement", "--store", store).Output()
	if err != nil {
		t.Fatal(err)
	}
	secret := strings.TrimSpace(string(tok))
	cmd := exec.CommandContext(ctx, bin, "serve", "--listen", "127.0.0.1:0")
	cmd.Env = append(cmd.Environ(), "CLUSTERAPI_STORE="+store)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stderr)
	var logs strings.Builder
	addr := ""
	for addr == "" && lines.Scan() {
		logs.WriteString(lines.Text() + "\n")
		if m := regexp.MustCompile(`addr=(\S+)`).FindStringSubmatch(lines.Text()); m != nil {
			addr = m[1]
		}
	}
	if addr == "" {
		t.Fatalf("no listening line:\n%s", logs.String())
	}
	s := &testServer{URL: "http://" + addr}
	if r := s.do(t, req{method: "GET", path: tokensPath, token: secret}); r.Status != 200 {
		t.Fatalf("GET: %d %s", r.Status, r.Body)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for lines.Scan() {
		logs.WriteString(lines.Text() + "\n")
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, logs.String())
	}
	if !strings.Contains(logs.String(), "msg=stopped") {
		t.Errorf("no clean stop in the log:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), secret[32:]) {
		t.Errorf("the log holds the secret")
	}
	list, err := exec.CommandContext(ctx, bin, "token", "list", "--store", store).Output()
	if err != nil {
		t.Fatal(err)
	}
	// The LAST USE column holds a time, not "-", once the batch was flushed.
	row := strings.Fields(strings.Split(strings.TrimSpace(string(list)), "\n")[1])
	if len(row) < 8 || row[len(row)-2] == "-" {
		t.Errorf("last use not written on shutdown:\n%s", list)
	}
}
