package ffmpeg

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// stderrLimit is how much of ffmpeg's stderr (its last bytes) an error keeps.
const stderrLimit = 4 << 10

// stdinWaitDelay bounds how long Close waits for the goroutine that copies
// Input.Reader to ffmpeg's stdin once ffmpeg is gone; a Reader that ignores
// the context can block it no longer than this.
const stdinWaitDelay = time.Second

// Config says which ffmpeg to run.
type Config struct {
	Path string // the ffmpeg binary; "" means "ffmpeg" from PATH
}

// Process is one running ffmpeg. Read its Ogg Opus output; Close it when done
// with it, whether or not it has finished.
type Process struct {
	cancel context.CancelFunc
	ctx    context.Context
	cmd    *exec.Cmd
	stdout *os.File
	stderr *tail
	input  *inputScanner
	exited chan struct{} // closed when ffmpeg has exited and been reaped
	err    error         // set before exited is closed

	closeOnce sync.Once
}

// Start runs ffmpeg on in with opts. The process lives until it finishes, ctx
// ends, or Close is called; the caller must call Close.
func (c Config) Start(ctx context.Context, in Input, opts Options) (*Process, error) {
	args, err := Args(in, opts)
	if err != nil {
		return nil, err
	}
	path := c.Path
	if path == "" {
		path = "ffmpeg"
	}
	ctx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(ctx, path, args...)
	// Its own process group, so that Close kills ffmpeg and anything it
	// started, and a signal to the bot's group does not reach it first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = stdinWaitDelay
	cmd.Stdin = in.Reader
	stderr := &tail{limit: stderrLimit}
	input := &inputScanner{}
	cmd.Stderr = io.MultiWriter(stderr, input)
	// stdout is a pipe we own rather than cmd.StdoutPipe, which Wait closes
	// as soon as ffmpeg exits, dropping output not read yet.
	stdout, childStdout, err := os.Pipe()
	if err != nil {
		cancel()
		return nil, fmt.Errorf("ffmpeg output pipe: %w", err)
	}
	cmd.Stdout = childStdout
	err = cmd.Start()
	childStdout.Close()
	if err != nil {
		cancel()
		stdout.Close()
		return nil, fmt.Errorf("starting ffmpeg: %w", err)
	}
	p := &Process{cancel: cancel, ctx: ctx, cmd: cmd, stdout: stdout, stderr: stderr, input: input, exited: make(chan struct{})}
	go p.wait()
	return p, nil
}

// Start runs the default ffmpeg from PATH; see Config.Start.
func Start(ctx context.Context, in Input, opts Options) (*Process, error) {
	return Config{}.Start(ctx, in, opts)
}

func (p *Process) wait() {
	defer close(p.exited)
	err := p.cmd.Wait()
	switch {
	case p.ctx.Err() != nil && err != nil:
		// Killed because it was cancelled or closed: a skip, not a failure.
		p.err = fmt.Errorf("ffmpeg stopped: %w", p.ctx.Err())
	case errors.Is(err, exec.ErrWaitDelay):
		// ffmpeg finished; only the copy of a slow Reader was cut short.
	case err != nil:
		p.err = fmt.Errorf("ffmpeg: %w: %s", err, p.stderr.String())
	}
}

// Read reads ffmpeg's Ogg Opus output. At the end of the output it returns
// io.EOF if ffmpeg succeeded, or ffmpeg's error.
func (p *Process) Read(b []byte) (int, error) {
	n, err := p.stdout.Read(b)
	if err != nil && n == 0 {
		<-p.exited
		if p.err != nil {
			return 0, p.err
		}
	}
	return n, err
}

// Wait waits for ffmpeg to exit and returns its error: nil on success, an
// error wrapping the context's error if it was cancelled or closed, or one
// carrying the end of ffmpeg's stderr if it failed. ffmpeg blocks while its
// output is not read, so read it or Close.
func (p *Process) Wait() error {
	<-p.exited
	return p.err
}

// Close stops ffmpeg if it is still running, kills its process group, waits
// for it and releases the output pipe. It returns what Wait returns.
func (p *Process) Close() error {
	p.closeOnce.Do(func() {
		p.cancel()
		<-p.exited
		p.stdout.Close()
	})
	return p.err
}

// Input is what ffmpeg said of its input's length and bit rate: zero
// values until it has said it, which it does before its first output, and
// when it does not know. Safe to call from any goroutine.
func (p *Process) Input() InputInfo { return p.input.get() }

// CPUTime is the user plus system CPU time ffmpeg used; valid after Wait.
func (p *Process) CPUTime() time.Duration {
	<-p.exited
	state := p.cmd.ProcessState
	return state.UserTime() + state.SystemTime()
}

// tail keeps the last limit bytes written to it.
type tail struct {
	mu    sync.Mutex
	limit int
	buf   []byte
}

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if over := len(t.buf) - t.limit; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(b), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
