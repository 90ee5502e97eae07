package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// startJar runs DynamoDB Local's jar from dir on java, in memory, on a free
// port, and returns once the port accepts connections.
func startJar(ctx context.Context, java, dir string) (server, error) {
	jar := filepath.Join(dir, "DynamoDBLocal.jar")
	if _, err := os.Stat(jar); err != nil {
		return server{}, fmt.Errorf("%w; run: scripts/dynamodb-local-jar %s", err, dir)
	}
	javaPath, err := exec.LookPath(java)
	if err != nil {
		return server{}, fmt.Errorf("%w; install a Java runtime (apt-get install openjdk-17-jre-headless)", err)
	}
	port, err := freePort()
	if err != nil {
		return server{}, err
	}
	logs, err := os.CreateTemp("", "dynamodblocal-*.log")
	if err != nil {
		return server{}, fmt.Errorf("creating the server's log: %w", err)
	}
	cmd := exec.Command(javaPath, "-Djava.library.path="+filepath.Join(dir, "DynamoDBLocal_lib"),
		"-jar", jar, "-inMemory", "-sharedDb", "-port", strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = logs, logs
	err = cmd.Start()
	logs.Close() // java holds its own descriptor
	if err != nil {
		os.Remove(logs.Name())
		return server{}, fmt.Errorf("starting %s: %w", javaPath, err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	stop := func(ctx context.Context) error {
		defer os.Remove(logs.Name())
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
			return nil
		case <-ctx.Done():
			_ = cmd.Process.Kill()
			<-exited
			return fmt.Errorf("DynamoDB Local ignored SIGTERM: %w", ctx.Err())
		}
	}

	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if err := waitListening(ctx, addr, exited, &waitErr); err != nil {
		output, _ := os.ReadFile(logs.Name())
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		return server{}, errors.Join(fmt.Errorf("DynamoDB Local on %s: %w; its output:\n%s", addr, err, output), stop(stopCtx))
	}
	return server{endpoint: "http://" + addr, stop: stop}, nil
}

// waitListening returns when addr accepts a connection, the process ends
// (exited closes, *waitErr then saying how), or a minute passes.
func waitListening(ctx context.Context, addr string, exited <-chan struct{}, waitErr *error) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		var d net.Dialer
		if conn, err := d.DialContext(ctx, "tcp", addr); err == nil {
			conn.Close()
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("java exited (%v)", *waitErr)
		case <-ctx.Done():
			return fmt.Errorf("not listening: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
