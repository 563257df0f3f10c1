// Command clusterapi is the cluster management API server and its
// command-line tools: `serve` runs the server (API and console); `token ...`
// and `user passwd` work on the store directly, with or without a running
// server.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "clusterapi:", err)
		}
		os.Exit(2)
	}
}

const usage = `Usage:
  clusterapi serve [--listen ADDR] [--store DSN] [--strict-grants]
                   [--token-default-lifetime 720h] [--token-max-lifetime 2160h]
                   [--advertise-address HOST:PORT] [--heartbeat 5s]
                   [--tls-cert FILE --tls-key FILE] [--trusted-proxy CIDR ...]
                   [--auth-throttle-address 30] [--auth-throttle-token 10]
                   [--auth-throttle-window 3m] [--read-header-timeout 10s]
  clusterapi token create --name NAME --scope SCOPE [--scope SCOPE ...] [--expires-in 24h] [--user USER] [--store DSN]
                          [--token-default-lifetime 720h] [--token-max-lifetime 2160h]
  clusterapi token list [--store DSN]
  clusterapi token revoke|restore|delete ID [--store DSN]
  clusterapi user passwd NAME [--store DSN]   (new password from stdin, or prompted for)

The store is sqlite:PATH (default sqlite:./data/clusterapi.db) or a
postgres://user:password@host:port/db?sslmode=... URL; set it with --store or
CLUSTERAPI_STORE. serve listens on 127.0.0.1:8021 unless --listen or
CLUSTERAPI_LISTEN says otherwise. The token lifetime policy (default none:
tokens never expire unless asked to, and no maximum) is also read from
CLUSTERAPI_TOKEN_DEFAULT_LIFETIME and CLUSTERAPI_TOKEN_MAX_LIFETIME, by serve
and token create alike.
`

// run is the whole program; main only hands it the process's world.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], getenv, stderr)
	case "token":
		return tokenCommand(ctx, args[1:], getenv, stdout, stderr)
	case "user":
		// The one command that reads stdin: run's signature stays as it is.
		return userCommand(ctx, args[1:], getenv, os.Stdin, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// storeFlag adds --store to fs, defaulting to CLUSTERAPI_STORE or the
// embedded default.
func storeFlag(fs *flag.FlagSet, getenv func(string) string) *string {
	def := getenv("CLUSTERAPI_STORE")
	if def == "" {
		def = defaultStore
	}
	return fs.String("store", def, "store: sqlite:PATH or postgres://... (env CLUSTERAPI_STORE)")
}

// parseFlags parses args, allowing flags after positional arguments
// (`token revoke ID --store x`), and returns the positional ones.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// durationFlag adds --name to fs with its default from the environment
// variable env, or def. An environment value that is not a positive
// duration is an error rather than silently the default.
func durationFlag(fs *flag.FlagSet, getenv func(string) string, name, env string, def time.Duration, usage string) (*time.Duration, error) {
	if s := getenv(env); s != "" {
		v, err := time.ParseDuration(s)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("%s=%q: want a positive duration such as 2160h", env, s)
		}
		def = v
	}
	return fs.Duration(name, def, fmt.Sprintf("%s (env %s)", usage, env)), nil
}
