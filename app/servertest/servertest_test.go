package servertest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// recorder notes how a test would have ended instead of ending it.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper()           {}
func (r *recorder) Name() string      { return "TestRecorded" }
func (r *recorder) Fatal(args ...any) { r.fatal = fmt.Sprint(args...) }
func (r *recorder) Skip(args ...any)  { r.skip = fmt.Sprint(args...) }

func TestUnavailableFailsUnderCIAndSkipsElsewhere(t *testing.T) {
	tests := []struct {
		ci                  string
		wantFatal, wantSkip bool
	}{
		{"true", true, false},
		{"", false, true},
		{"false", false, true},
	}
	// Announced already: this test's skips are not news for the go command.
	announced.Store("the server", true)
	for _, tt := range tests {
		t.Run("CI="+tt.ci, func(t *testing.T) {
			t.Setenv("CI", tt.ci)
			r := &recorder{TB: t}
			Unavailable(r, "the server", "it is not running; start it")
			if (r.fatal != "") != tt.wantFatal || (r.skip != "") != tt.wantSkip {
				t.Fatalf("fatal %q, skip %q; want fatal: %v, skip: %v", r.fatal, r.skip, tt.wantFatal, tt.wantSkip)
			}
			if msg := r.fatal + r.skip; msg != "the server unavailable: it is not running; start it" {
				t.Errorf("message %q does not say what is missing, why and what to do", msg)
			}
		})
	}
}

// TestSkipShowsInPlainGoTest runs plain `go test` on a package whose two
// tests are skipped for the same missing server, with the go command's
// output going to a pipe, to a file opened for appending, and to a file
// that is not (where the line goes to standard error instead): the output
// has one line naming the package, the first test and why, and the go
// command's own lines are intact.
func TestSkipShowsInPlainGoTest(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command: %v", err)
	}
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "CI=") })
	const (
		skip = "SKIP\tgithub.com/iddv/timmybot/app/servertest/testdata/loud\tTestNeedsTheMissingServer and every other test that needs the missing server: the missing server unavailable: it is never started\n"
		ok   = "ok  \tgithub.com/iddv/timmybot/app/servertest/testdata/loud\t"
	)
	tests := []struct {
		name         string
		stdoutFlags  int // 0: a pipe
		wantOnStdout string
		wantOnStderr string
	}{
		{"pipe", 0, skip + ok, ""},
		{"appended file", os.O_WRONLY | os.O_CREATE | os.O_APPEND, skip + ok, ""},
		{"overwritten file", os.O_WRONLY | os.O_CREATE | os.O_TRUNC, ok, skip},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// -count=1 only keeps the result out of the test cache; the
			// output is that of plain go test.
			cmd := exec.CommandContext(t.Context(), goCmd, "test", "-count=1", "./testdata/loud")
			cmd.Env = env
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			var file *os.File
			if tt.stdoutFlags != 0 {
				file, err = os.OpenFile(filepath.Join(t.TempDir(), "out"), tt.stdoutFlags, 0o600)
				if err != nil {
					t.Fatal(err)
				}
				defer file.Close()
				cmd.Stdout = file
			}
			if err := cmd.Run(); err != nil {
				t.Fatalf("go test: %v\n%s%s", err, stdout.String(), stderr.String())
			}
			gotStdout := stdout.String()
			if file != nil {
				b, err := os.ReadFile(file.Name())
				if err != nil {
					t.Fatal(err)
				}
				gotStdout = string(b)
			}
			if !strings.HasPrefix(gotStdout, tt.wantOnStdout) || strings.Count(gotStdout, skip) != strings.Count(tt.wantOnStdout, skip) {
				t.Errorf("standard output %q, want it to start with %q", gotStdout, tt.wantOnStdout)
			}
			if got := stderr.String(); got != tt.wantOnStderr {
				t.Errorf("standard error %q, want %q", got, tt.wantOnStderr)
			}
		})
	}
}
