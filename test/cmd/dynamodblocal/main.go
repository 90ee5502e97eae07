// Command dynamodblocal runs a command with AWS's DynamoDB Local beside it:
// it starts the server, runs the command with DYNAMODB_ENDPOINT pointing at
// it, and stops the server when the command ends. make unit and make bench
// run the Go tests under it:
//
//	go run ./test/cmd/dynamodblocal go test ./app/dynamostore/...
//
// The server is the first of these that starts, each step not taken saying
// why in a line of output:
//
//   - a server of your own: DYNAMODB_ENDPOINT already set, nothing started;
//   - DynamoDB Local's image through testcontainers, when a container engine
//     is healthy (-image; amazon/dynamodb-local by default; machines that
//     cannot pull it build one with scripts/dynamodb-local-image);
//   - DynamoDB Local's jar on java directly (-jar names the directory that
//     scripts/dynamodb-local-jar fills). It listens on every interface, as
//     DynamoDB Local has no option to bind one.
//
// Why a program beside the tests rather than a helper inside them: the app
// module's tests then only read one variable (app/dynamostore/dynamotest)
// and the app module requires no container libraries; one server serves
// every test binary of the run; and this process owns the server's
// lifetime, so the container is removed when the command ends whether or
// not testcontainers' reaper (Ryuk) runs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"
)

// envEndpoint names the variable the tests read (dynamotest.EnvEndpoint).
const envEndpoint = "DYNAMODB_ENDPOINT"

// defaultImage is the DynamoDB Local image started by default, pinned.
const defaultImage = "amazon/dynamodb-local:2.5.2"

func main() {
	image := flag.String("image", defaultImage, "the DynamoDB Local image to start through testcontainers")
	jarDir := flag.String("jar", "bin/dynamodb-local", "the directory with DynamoDBLocal.jar and DynamoDBLocal_lib, used when no container starts")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: dynamodblocal [flags] command [args...]\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	starters := []starter{
		{"a server of your own (" + envEndpoint + ")", fromEnv},
		{"DynamoDB Local (" + *image + ") through testcontainers", func(ctx context.Context) (server, error) {
			return startContainer(ctx, *image, runTestcontainer)
		}},
		{"DynamoDB Local's jar on java (" + *jarDir + ")", func(ctx context.Context) (server, error) {
			return startJar(ctx, "java", *jarDir)
		}},
	}
	code, err := run(ctx, os.Stderr, starters, flag.Args())
	if err != nil {
		fmt.Fprintf(os.Stderr, "dynamodblocal: %v\n", err)
	}
	stop()
	os.Exit(code)
}

// server is a running DynamoDB server.
type server struct {
	endpoint string
	stop     func(context.Context) error
}

// starter starts one kind of server; name says which, for the output.
type starter struct {
	name  string
	start func(context.Context) (server, error)
}

// run starts the first server that starts, runs command with the server's
// endpoint, stops the server, and returns the command's exit code.
func run(ctx context.Context, log io.Writer, starters []starter, command []string) (int, error) {
	srv, err := startFirst(ctx, log, starters)
	if err != nil {
		return 1, err
	}
	cmd := exec.CommandContext(ctx, command[0], command[1:]...)
	cmd.Env = append(os.Environ(), envEndpoint+"="+srv.endpoint)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// On a signal, let the command (go test) stop its own children.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = time.Minute
	runErr := cmd.Run()

	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if err := srv.stop(stopCtx); err != nil {
		fmt.Fprintf(log, "dynamodblocal: stopping the server: %v\n", err)
	}
	var exit *exec.ExitError
	switch {
	case runErr == nil:
		return 0, nil
	case errors.As(runErr, &exit) && exit.ExitCode() > 0:
		return exit.ExitCode(), nil
	default:
		return 1, fmt.Errorf("running %s: %w", command[0], runErr)
	}
}

// startFirst returns the first server of starters that starts, saying in a
// line of log why each one before it did not.
func startFirst(ctx context.Context, log io.Writer, starters []starter) (server, error) {
	for i, s := range starters {
		srv, err := s.start(ctx)
		if err == nil {
			fmt.Fprintf(log, "dynamodblocal: %s at %s\n", s.name, srv.endpoint)
			return srv, nil
		}
		if ctx.Err() != nil {
			return server{}, ctx.Err()
		}
		next := "nothing else to try"
		if i+1 < len(starters) {
			next = "falling back to " + starters[i+1].name
		}
		fmt.Fprintf(log, "dynamodblocal: not %s: %v; %s\n", s.name, err, next)
	}
	return server{}, errors.New("no DynamoDB server started; see above for why")
}

func fromEnv(context.Context) (server, error) {
	ep := os.Getenv(envEndpoint)
	if ep == "" {
		return server{}, errors.New("it is not set")
	}
	return server{endpoint: ep, stop: func(context.Context) error { return nil }}, nil
}
