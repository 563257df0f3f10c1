package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"clusterapi/internal/audit"
	"clusterapi/internal/token"
)

// scopeList collects repeated --scope flags; a comma-separated value counts
// as several.
type scopeList []token.Scope

func (s *scopeList) String() string { return fmt.Sprint(*s) }

func (s *scopeList) Set(v string) error {
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			*s = append(*s, token.Scope(f))
		}
	}
	return nil
}

// tokenCommand runs `clusterapi token ...` straight against the store: the
// bootstrap and break-glass path, no server needed.
func tokenCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("token: no subcommand given")
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("token "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	store := storeFlag(fs, getenv)
	var (
		name      *string
		user      *string
		expiresIn *time.Duration
		scopes    scopeList
		lifetimes lifetimeFlags
		err       error
	)
	switch sub {
	case "create":
		name = fs.String("name", "", "token name (required)")
		user = fs.String("user", "admin", "owner of the token")
		expiresIn = fs.Duration("expires-in", 0, "lifetime, e.g. 24h, at most 100 years (876000h) (default: the lifetime policy's default, else never expires)")
		fs.Var(&scopes, "scope", "scope to grant; repeat for several")
		if lifetimes, err = addLifetimeFlags(fs, getenv); err != nil {
			return fmt.Errorf("token create: %w", err)
		}
	case "list", "revoke", "restore", "delete":
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("token: unknown subcommand %q", sub)
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	wantArgs := map[string]int{"create": 0, "list": 0, "revoke": 1, "restore": 1, "delete": 1}[sub]
	if len(pos) != wantArgs {
		return fmt.Errorf("token %s: want %d argument(s), got %d", sub, wantArgs, len(pos))
	}
	// The lifetime policy binds the command line as it binds the server.
	var opts token.Options
	if sub == "create" {
		if opts, err = lifetimes.options(opts); err != nil {
			return fmt.Errorf("token create: %w", err)
		}
	}

	db, err := openStore(ctx, *store)
	if err != nil {
		return err
	}
	defer db.Close()
	tokens := token.NewService(db, opts)
	local := token.Actor{UserID: "admin"} // the CLI is trusted: it holds the store itself

	switch sub {
	case "create":
		if *expiresIn < 0 {
			return errors.New("token create: --expires-in must be positive")
		}
		t, secret, err := tokens.Create(ctx, local, token.CreateInput{
			Name: *name, Scopes: scopes, ExpiresIn: *expiresIn, UserID: *user,
		})
		if err != nil {
			return fmt.Errorf("token create: %w", err)
		}
		fmt.Fprintln(stdout, secret.Reveal())
		recordCLI(ctx, db, stderr, "token.create", t.ID, "on the command line; scopes "+joinScopes(t.Scopes))
		return nil
	case "list":
		ts, err := tokens.List(ctx, token.Filter{Limit: 1 << 30})
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tOWNER\tSCOPES\tCREATED\tEXPIRES\tLAST USE\tSTATUS")
		for _, t := range ts {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.UserID,
				joinScopes(t.Scopes), stamp(t.Created), stamp(t.Expires), stamp(t.LastUse), status(t, time.Now()))
		}
		return tw.Flush()
	case "revoke", "restore":
		revoked := sub == "revoke"
		if err := tokens.Update(ctx, local, pos[0], token.Change{Revoked: &revoked}); err != nil {
			return fmt.Errorf("token %s: %w", sub, err)
		}
	case "delete":
		if err := tokens.Delete(ctx, local, pos[0]); err != nil {
			return fmt.Errorf("token delete: %w", err)
		}
	}
	recordCLI(ctx, db, stderr, "token."+sub, pos[0], "on the command line")
	fmt.Fprintf(stderr, "token %s: done\n", sub)
	return nil
}

func joinScopes(ss []token.Scope) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = string(s)
	}
	return strings.Join(parts, ",")
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func status(t *token.Token, now time.Time) string {
	switch {
	case t.Revoked:
		return "revoked"
	case !t.Expires.IsZero() && !now.Before(t.Expires):
		return "expired"
	}
	return "active"
}

// recordCLI writes a command-line action to the audit log at once. The
// command line acts as the local operator: no token, no address. A failure
// to write is said, not fatal: the action itself has been done.
func recordCLI(ctx context.Context, db audit.Store, stderr io.Writer, action, target, detail string) {
	if len(target) >= token.IDLen && token.IsID(target[:token.IDLen]) {
		target = target[:token.IDLen] // a full token names its id
	}
	e := audit.Event{Time: time.Now().UTC().Truncate(time.Millisecond), Action: action, User: "(command line)",
		Target: token.Redact(target), Outcome: audit.Success, Detail: detail, Count: 1}
	if err := db.AppendAudit(ctx, []audit.Event{e}); err != nil {
		fmt.Fprintf(stderr, "warning: the audit log did not take this action: %v\n", err)
	}
}
