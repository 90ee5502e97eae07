// Package daveinterop checks the bot's DAVE session against an independent
// implementation, @snazzah/davey (the one discord.js uses), run under Node as
// a subprocess that speaks JSON lines (driver.js). The voice gateway's role is
// played by davetest's simulator.
package daveinterop

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sync"
)

// Driver is one Node process hosting davey sessions.
type Driver struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Scanner
	mu    sync.Mutex
}

// StartDriver runs driver.js under node; dir is the directory holding it.
func StartDriver(ctx context.Context, node, dir string) (*Driver, error) {
	cmd := exec.CommandContext(ctx, node, "driver.js")
	cmd.Dir = dir
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting davey driver: %w", err)
	}
	d := &Driver{cmd: cmd, stdin: stdin, out: bufio.NewScanner(stdout)}
	d.out.Buffer(make([]byte, 1<<20), 1<<24)
	return d, nil
}

// Call sends one request and decodes the response into out (may be nil).
func (d *Driver) Call(req map[string]any, out any) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	line, err := json.Marshal(req)
	if err != nil {
		return err
	}
	if _, err := d.stdin.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("writing to davey driver: %w", err)
	}
	if !d.out.Scan() {
		return fmt.Errorf("davey driver closed: %w", errors.Join(d.out.Err(), io.ErrUnexpectedEOF))
	}
	var head struct {
		Error string `json:"error"`
	}
	raw := d.out.Bytes()
	if err := json.Unmarshal(raw, &head); err != nil {
		return fmt.Errorf("davey driver answer %q: %w", raw, err)
	}
	if head.Error != "" {
		return fmt.Errorf("davey %s: %s", req["cmd"], head.Error)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(raw, out)
}

// Close ends the Node process and waits for it.
func (d *Driver) Close() error {
	d.stdin.Close()
	return d.cmd.Wait()
}
