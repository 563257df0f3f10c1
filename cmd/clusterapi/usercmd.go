package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"clusterapi/internal/account"
	"clusterapi/internal/errs"
)

// userCommand runs `clusterapi user passwd NAME` straight against the store:
// the way back in when the admin password is lost. The new password is read
// from stdin: prompted for twice, without echo, on a terminal; otherwise the
// first line.
func userCommand(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "passwd" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return errors.New("user: no subcommand given")
		}
		return fmt.Errorf("user: unknown subcommand %q", args[0])
	}
	fs := flag.NewFlagSet("user passwd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	store := storeFlag(fs, getenv)
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("user passwd: want 1 argument (the user name), got %d", len(pos))
	}
	name := pos[0]
	pw, err := readNewPassword(stdin, stderr, name)
	if err != nil {
		return fmt.Errorf("user passwd: %w", err)
	}

	db, err := openStore(ctx, *store)
	if err != nil {
		return err
	}
	defer db.Close()
	accounts := account.NewService(db, account.Options{})
	if name == account.AdminName {
		// Before the first start there is no admin yet: make it now.
		if _, created, _, err := accounts.EnsureAdmin(ctx, pw); err != nil {
			return fmt.Errorf("user passwd: %w", err)
		} else if created {
			fmt.Fprintf(stderr, "user passwd: created %s with the new password\n", name)
			return nil
		}
	}
	if err := accounts.SetPassword(ctx, name, pw); err != nil {
		if errs.Is(err, errs.NotFound) {
			return fmt.Errorf("user passwd: there is no user %q", name)
		}
		return fmt.Errorf("user passwd: %w", err)
	}
	fmt.Fprintf(stderr, "user passwd: password of %s changed; its console sessions are signed out\n", name)
	recordCLI(ctx, db, stderr, "user.password", name, "on the command line")
	if name == account.AdminName {
		// Break-glass: whatever happened to the groups, admin gets back in.
		if changed, err := accounts.RestoreAdminAccess(ctx); err != nil {
			return fmt.Errorf("user passwd: %w", err)
		} else if changed {
			fmt.Fprintf(stderr, "user passwd: %s is back in the cluster admin group %s\n", name, account.AdminGroupID)
		}
	}
	return nil
}

// readNewPassword reads the new password: from a terminal without echo and
// twice, to catch typos; from anything else, the first line.
func readNewPassword(stdin io.Reader, stderr io.Writer, name string) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		read := func(prompt string) (string, error) {
			fmt.Fprint(stderr, prompt)
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(stderr)
			return string(b), err
		}
		pw, err := read("New password for " + name + ": ")
		if err != nil {
			return "", err
		}
		again, err := read("Again: ")
		if err != nil {
			return "", err
		}
		if pw != again {
			return "", errors.New("the passwords differ")
		}
		return pw, account.CheckNewPassword(pw)
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 64<<10)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", errors.New("no password on stdin")
	}
	return pw, account.CheckNewPassword(pw)
}
