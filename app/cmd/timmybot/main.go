// Command timmybot runs the TimmyBot Discord music bot and its operator
// tools. It is the only place that reads the environment and wires the
// adapters together.
//
//	timmybot [serve]                      run the bot (default)
//	timmybot invite                       print the URL that adds the bot to a server
//	timmybot allowlist approve GUILD_ID   serve a server
//	timmybot allowlist revoke GUILD_ID    stop serving it
//	timmybot allowlist list               list approved servers
//	timmybot allowlist requests           list pending access requests
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

const usage = `usage: timmybot [serve | invite | allowlist approve|revoke GUILD_ID | allowlist list|requests]
Configuration comes from the environment and an optional .env file; see README.md.`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	lookup, err := envWithDotenv(".env")
	if err != nil {
		fmt.Fprintln(os.Stderr, "timmybot:", err)
		os.Exit(exitUsage)
	}
	os.Exit(run(ctx, os.Args[1:], lookup, os.Stdout, os.Stderr))
}

// usageError marks bad arguments: reported with the usage text.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// configError marks bad configuration: reported alone, since the message
// names the variable to fix.
type configError struct{ err error }

func (e configError) Error() string { return e.err.Error() }
func (e configError) Unwrap() error { return e.err }

// run executes one subcommand and returns the process exit status.
func run(ctx context.Context, args []string, lookup lookupFunc, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve", "invite":
		if len(args) > 0 {
			err = usageError{fmt.Errorf("%s takes no arguments, got %q", cmd, strings.Join(args, " "))}
		} else if cmd == "serve" {
			err = serve(ctx, lookup, stdout, stderr)
		} else {
			err = invite(lookup, stdout)
		}
	case "allowlist":
		err = allowlistCommand(ctx, args, lookup, stdout)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return exitOK
	default:
		err = usageError{fmt.Errorf("unknown command %q", cmd)}
	}
	var ue usageError
	var ce configError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "timmybot: %v\n%s\n", err, usage)
		return exitUsage
	case errors.As(err, &ce):
		fmt.Fprintln(stderr, "timmybot:", err)
		return exitUsage
	default:
		fmt.Fprintln(stderr, "timmybot:", err)
		return exitFailure
	}
}

func newLogger(c config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
