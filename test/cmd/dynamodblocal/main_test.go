package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/testcontainers/testcontainers-go"
)

// TestMain lets the test binary stand in for java: with FAKE_JAVA=listen it
// listens on the -port it is given until SIGTERM; with FAKE_JAVA=fail it
// says why and exits.
func TestMain(m *testing.M) {
	switch os.Getenv("FAKE_JAVA") {
	case "listen":
		fs := flag.NewFlagSet("java", flag.ContinueOnError)
		port := fs.String("port", "", "")
		args := os.Args[1:]
		for len(args) > 0 && args[0] != "-port" {
			args = args[1:]
		}
		if err := fs.Parse(args); err != nil || !strings.Contains(strings.Join(os.Args, " "), "-jar ") {
			fmt.Println("unexpected arguments", os.Args)
			os.Exit(2)
		}
		l, err := net.Listen("tcp", "127.0.0.1:"+*port)
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		defer l.Close()
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM)
		<-sig
		return
	case "fail":
		fmt.Println("Error: could not find or load main class")
		os.Exit(1)
	}
	os.Exit(m.Run())
}

func TestRunStopsTheServerAndReturnsTheCommandsCode(t *testing.T) {
	tests := []struct {
		name     string
		command  []string
		wantCode int
	}{
		{"command succeeds", []string{"sh", "-c", `test "$DYNAMODB_ENDPOINT" = http://127.0.0.1:1 || exit 9`}, 0},
		{"command fails", []string{"sh", "-c", `test "$DYNAMODB_ENDPOINT" = http://127.0.0.1:1 && exit 3`}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stopped := 0
			starters := []starter{{"the fake", func(context.Context) (server, error) {
				return server{endpoint: "http://127.0.0.1:1", stop: func(context.Context) error { stopped++; return nil }}, nil
			}}}
			var log strings.Builder
			code, err := run(t.Context(), &log, starters, tt.command)
			if err != nil || code != tt.wantCode {
				t.Errorf("run = %d, %v; want %d, nil", code, err, tt.wantCode)
			}
			if stopped != 1 {
				t.Errorf("the server was stopped %d times, want once", stopped)
			}
		})
	}
}

func TestStartFirstFallsBackSayingWhy(t *testing.T) {
	fail := func(why string) func(context.Context) (server, error) {
		return func(context.Context) (server, error) { return server{}, errors.New(why) }
	}
	works := func(context.Context) (server, error) {
		return server{endpoint: "http://127.0.0.1:2", stop: func(context.Context) error { return nil }}, nil
	}
	tests := []struct {
		name         string
		starters     []starter
		wantEndpoint string
		wantLog      string
	}{
		{"first works", []starter{{"A", works}, {"B", fail("unused")}}, "http://127.0.0.1:2",
			"dynamodblocal: A at http://127.0.0.1:2\n"},
		{"falls back", []starter{{"A", fail("engine down")}, {"B", works}}, "http://127.0.0.1:2",
			"dynamodblocal: not A: engine down; falling back to B\ndynamodblocal: B at http://127.0.0.1:2\n"},
		{"none works", []starter{{"A", fail("engine down")}, {"B", fail("no java")}}, "",
			"dynamodblocal: not A: engine down; falling back to B\ndynamodblocal: not B: no java; nothing else to try\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log strings.Builder
			srv, err := startFirst(t.Context(), &log, tt.starters)
			if srv.endpoint != tt.wantEndpoint || (err != nil) != (tt.wantEndpoint == "") {
				t.Errorf("startFirst = %q, %v; want %q", srv.endpoint, err, tt.wantEndpoint)
			}
			if log.String() != tt.wantLog {
				t.Errorf("log:\n%s\nwant:\n%s", log.String(), tt.wantLog)
			}
		})
	}
}

// fakeContainer records whether it was terminated.
type fakeContainer struct {
	endpointErr error
	terminated  int
}

func (c *fakeContainer) PortEndpoint(context.Context, string, string) (string, error) {
	return "http://127.0.0.1:3", c.endpointErr
}

func (c *fakeContainer) Terminate(context.Context, ...testcontainers.TerminateOption) error {
	c.terminated++
	return nil
}

func TestStartContainerTerminatesWhatDidNotStart(t *testing.T) {
	errNotReady := errors.New("wait strategy: port 8000 not listening")
	tests := []struct {
		name           string
		runErr         error
		endpointErr    error
		noContainer    bool
		wantErr        error
		wantTerminated int
	}{
		{"started", nil, nil, false, nil, 0},
		{"never ready", errNotReady, nil, false, errNotReady, 1},
		{"no endpoint", nil, errNotReady, false, errNotReady, 1},
		{"no container", errNotReady, nil, true, errNotReady, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctr := &fakeContainer{endpointErr: tt.endpointErr}
			run := func(context.Context, string) (container, error) {
				if tt.noContainer {
					return nil, tt.runErr
				}
				return ctr, tt.runErr
			}
			srv, err := startContainer(t.Context(), "dynamodb-local:test", run)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("startContainer error %v, want %v", err, tt.wantErr)
			}
			if ctr.terminated != tt.wantTerminated {
				t.Fatalf("terminated %d times, want %d", ctr.terminated, tt.wantTerminated)
			}
			if err != nil {
				return
			}
			if srv.endpoint != "http://127.0.0.1:3" {
				t.Errorf("endpoint %q", srv.endpoint)
			}
			if err := srv.stop(t.Context()); err != nil || ctr.terminated != 1 {
				t.Errorf("stop = %v, terminated %d times; want the container terminated once", err, ctr.terminated)
			}
		})
	}
}

func TestStartJar(t *testing.T) {
	withJar := t.TempDir()
	if err := os.WriteFile(filepath.Join(withJar, "DynamoDBLocal.jar"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, fakeJava, dir string
		wantErr             string // empty: starts
	}{
		{"starts", "listen", withJar, ""},
		{"java fails", "fail", withJar, "could not find or load main class"},
		{"no jar", "listen", t.TempDir(), "run: scripts/dynamodb-local-jar"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("FAKE_JAVA", tt.fakeJava)
			srv, err := startJar(t.Context(), os.Args[0], tt.dir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("startJar error %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			addr := strings.TrimPrefix(srv.endpoint, "http://")
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatalf("the server does not answer: %v", err)
			}
			conn.Close()
			if err := srv.stop(t.Context()); err != nil {
				t.Fatal(err)
			}
			if conn, err := net.Dial("tcp", addr); err == nil {
				conn.Close()
				t.Errorf("the server still answers on %s after stop", addr)
			}
		})
	}
}
