package ffmpeg

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func requireFFmpeg(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Fatalf("these tests need ffmpeg on PATH: %v", err)
	}
}

// toneWAV is a 16-bit stereo 48 kHz WAV of a sine: seconds long, or endless
// (the reader never ends) when seconds is 0.
type toneWAV struct {
	freq    float64
	samples int // per channel; -1 endless
	n       int
	header  []byte
}

func newToneWAV(freq float64, seconds float64) *toneWAV {
	samples, dataSize := -1, uint32(math.MaxUint32)
	if seconds > 0 {
		samples = int(seconds * 48000)
		dataSize = uint32(samples * 4)
	}
	h := new(bytes.Buffer)
	h.WriteString("RIFF")
	binary.Write(h, binary.LittleEndian, dataSize+36)
	h.WriteString("WAVEfmt ")
	for _, field := range []any{uint32(16), uint16(1), uint16(2), uint32(48000), uint32(48000 * 4), uint16(4), uint16(16)} {
		binary.Write(h, binary.LittleEndian, field)
	}
	h.WriteString("data")
	binary.Write(h, binary.LittleEndian, dataSize)
	return &toneWAV{freq: freq, samples: samples, header: h.Bytes()}
}

func (w *toneWAV) Read(b []byte) (int, error) {
	if len(w.header) > 0 {
		n := copy(b, w.header)
		w.header = w.header[n:]
		return n, nil
	}
	if w.samples >= 0 && w.n >= w.samples {
		return 0, io.EOF
	}
	written := 0
	for len(b)-written >= 4 && (w.samples < 0 || w.n < w.samples) {
		v := int16(8000 * math.Sin(2*math.Pi*w.freq*float64(w.n)/48000))
		binary.LittleEndian.PutUint16(b[written:], uint16(v))
		binary.LittleEndian.PutUint16(b[written+2:], uint16(v))
		written += 4
		w.n++
	}
	return written, nil
}

var unity = Options{Volume: 100}

func TestTranscodeToOggOpus(t *testing.T) {
	requireFFmpeg(t)
	p, err := Start(t.Context(), Input{Reader: newToneWAV(440, 1)}, unity)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	out, err := io.ReadAll(p)
	if err != nil {
		t.Fatalf("reading the output: %v", err)
	}
	if !bytes.HasPrefix(out, []byte("OggS")) || !bytes.Contains(out, []byte("OpusHead")) {
		t.Errorf("output is not Ogg Opus: % x", out[:min(len(out), 64)])
	}
	if err := p.Wait(); err != nil {
		t.Errorf("Wait = %v, want nil", err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("Close after a clean exit = %v, want nil", err)
	}
	if p.CPUTime() <= 0 {
		t.Errorf("CPUTime = %v, want the child's CPU time", p.CPUTime())
	}
}

func TestFailureCarriesStderr(t *testing.T) {
	requireFFmpeg(t)
	tests := []struct {
		name string
		in   Input
		want string
	}{
		{"garbage", Input{Reader: strings.NewReader(strings.Repeat("not audio at all ", 2000))}, "Invalid data found"},
		{"playlist demuxer refused", Input{Reader: strings.NewReader(hlsPlaylist)}, "Format not on whitelist"},
		{"file protocol refused", Input{URL: "file:///etc/hostname"}, "not on whitelist"},
		{"playlist over http refused", Input{URL: servePlaylist(t)}, "Format not on whitelist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Start(t.Context(), tt.in, unity)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			out, err := io.ReadAll(p)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Read error = %v, want one containing %q", err, tt.want)
			}
			if len(out) > 0 {
				t.Errorf("ffmpeg wrote %d bytes for an input it must refuse", len(out))
			}
			if errors.Is(err, context.Canceled) {
				t.Errorf("a failure reads as a cancellation: %v", err)
			}
			if werr := p.Wait(); werr != err {
				t.Errorf("Wait = %v, want the error Read returned", werr)
			}
		})
	}
}

// hlsPlaylist would make ffmpeg fetch a segment from the network if the hls
// demuxer were allowed.
const hlsPlaylist = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nhttp://127.0.0.1:9/x.mp3\n#EXT-X-ENDLIST\n"

func servePlaylist(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
		io.WriteString(w, hlsPlaylist)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/list.m3u8"
}

func TestTail(t *testing.T) {
	tl := &tail{limit: 8}
	io.WriteString(tl, "abc")
	io.WriteString(tl, "defghijk")
	io.WriteString(tl, "lm")
	if got := tl.String(); got != "fghijklm" {
		t.Errorf("tail = %q, want the last 8 bytes %q", got, "fghijklm")
	}
}

func TestCancelIsNotAFailure(t *testing.T) {
	requireFFmpeg(t)
	tests := []struct {
		name string
		stop func(context.CancelFunc, *Process) error
	}{
		{"context cancelled", func(cancel context.CancelFunc, p *Process) error { cancel(); return p.Wait() }},
		{"closed", func(_ context.CancelFunc, p *Process) error { return p.Close() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			p, err := Start(ctx, Input{Reader: newToneWAV(440, 0)}, unity)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if _, err := io.ReadFull(p, make([]byte, 4096)); err != nil {
				t.Fatalf("no output before the stop: %v", err)
			}
			err = tt.stop(cancel, p)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("error after stopping = %v, want one wrapping context.Canceled", err)
			}
			if _, err := io.ReadAll(p); !errors.Is(err, context.Canceled) && !errors.Is(err, os.ErrClosed) {
				t.Errorf("Read after the stop = %v, want the cancellation or a closed pipe", err)
			}
		})
	}
}

// TestCloseKillsAProcessNobodyReads: ffmpeg blocks writing to a full pipe;
// Close must still end it, and promptly.
func TestCloseKillsAProcessNobodyReads(t *testing.T) {
	requireFFmpeg(t)
	p, err := Start(t.Context(), Input{Reader: newToneWAV(440, 0)}, unity)
	if err != nil {
		t.Fatal(err)
	}
	pid := p.cmd.Process.Pid
	waitFor(t, func() bool { return blockedWritingPipe(pid) })
	begin := time.Now()
	if err := p.Close(); !errors.Is(err, context.Canceled) {
		t.Errorf("Close = %v, want one wrapping context.Canceled", err)
	}
	if took := time.Since(begin); took > stdinWaitDelay {
		t.Errorf("Close took %v", took)
	}
	if state := processState(pid); state != "" {
		t.Errorf("ffmpeg %d is still there after Close, state %q", pid, state)
	}
}

// TestManyStartsLeaveNoProcess starts and closes 100 ffmpegs in quick
// succession, then looks for any process left in their process groups or
// still a child of the test.
func TestManyStartsLeaveNoProcess(t *testing.T) {
	requireFFmpeg(t)
	groups := map[int]bool{}
	for i := range 100 {
		p, err := Start(t.Context(), Input{Reader: newToneWAV(440, 0)}, unity)
		if err != nil {
			t.Fatal(err)
		}
		groups[p.cmd.Process.Pid] = true
		if i%10 == 0 {
			// Some get as far as producing audio, the others are
			// killed while starting.
			if _, err := io.ReadFull(p, make([]byte, 1)); err != nil {
				t.Fatalf("process %d wrote nothing: %v", i, err)
			}
		}
		if err := p.Close(); !errors.Is(err, context.Canceled) {
			t.Fatalf("Close %d = %v, want one wrapping context.Canceled", i, err)
		}
	}
	for _, pr := range processes(t) {
		if pr.ppid == os.Getpid() {
			t.Errorf("child process %d (%s) left behind", pr.pid, pr.comm)
		}
		if groups[pr.pgid] {
			t.Errorf("process %d (%s) left in the group of an ffmpeg", pr.pid, pr.comm)
		}
	}
}

// blockedWritingPipe reports whether pid sleeps in a write to a full pipe.
func blockedWritingPipe(pid int) bool {
	wchan, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/wchan")
	return err == nil && strings.HasSuffix(string(wchan), "pipe_write")
}

// TestCloseKillsTheProcessGroup runs an "ffmpeg" that first starts a child
// of its own; Close must end that child too.
func TestCloseKillsTheProcessGroup(t *testing.T) {
	requireFFmpeg(t)
	real, _ := exec.LookPath("ffmpeg")
	wrapper := filepath.Join(t.TempDir(), "ffmpeg")
	script := "#!/bin/sh\nsleep 600 &\nexec " + real + " \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	p, err := Config{Path: wrapper}.Start(t.Context(), Input{Reader: newToneWAV(440, 0)}, unity)
	if err != nil {
		t.Fatal(err)
	}
	group := p.cmd.Process.Pid
	if _, err := io.ReadFull(p, make([]byte, 1)); err != nil {
		t.Fatalf("the wrapped ffmpeg wrote nothing: %v", err)
	}
	if err := p.Close(); !errors.Is(err, context.Canceled) {
		t.Errorf("Close = %v, want one wrapping context.Canceled", err)
	}
	for _, pr := range processes(t) {
		if pr.pgid == group && pr.state != "Z" {
			t.Errorf("process %d (%s) of ffmpeg's group survived Close", pr.pid, pr.comm)
		}
	}
}

type proc struct {
	pid, ppid, pgid int
	comm, state     string
}

// processes reads every process's pid, parent and group from /proc.
func processes(t *testing.T) []proc {
	t.Helper()
	paths, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	var all []proc
	for _, path := range paths {
		if pr, ok := readStat(path); ok {
			all = append(all, pr)
		}
	}
	if len(all) == 0 {
		t.Fatal("read no process from /proc")
	}
	return all
}

func readStat(path string) (proc, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return proc{}, false // the process ended meanwhile
	}
	// pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
	s := string(b)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return proc{}, false
	}
	fields := strings.Fields(s[end+1:])
	if len(fields) < 3 {
		return proc{}, false
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(s[:open]))
	ppid, _ := strconv.Atoi(fields[1])
	pgid, _ := strconv.Atoi(fields[2])
	return proc{pid: pid, ppid: ppid, pgid: pgid, comm: s[open+1 : end], state: fields[0]}, true
}

// processState is the state letter of pid, or "" if there is no such process.
func processState(pid int) string {
	pr, ok := readStat("/proc/" + strconv.Itoa(pid) + "/stat")
	if !ok {
		return ""
	}
	return pr.state
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
