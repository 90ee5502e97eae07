// Package servertest ends tests whose machine lacks something they need (a
// server, a tool): under CI=true such a test fails, because providing it is
// the CI machine's job; elsewhere it is skipped, loudly. It owns that policy
// and its line of output, not finding or starting what the tests need.
//
// Loudly means in plain `go test ./...`, not only with -v. In package list
// mode the go command prints nothing of a passing package but its "ok" line,
// so the first skip of each missing thing in a test binary also writes one
// line to the go command's own standard output, through /proc/<parent>/fd/1
// (Linux; elsewhere the skip shows with -v only); see announce. With -v or -json the skip message
// is in the output already and nothing more is written. A rerun that the go
// command answers from its test cache runs nothing and so says nothing more
// than "ok (cached)"; -count=1 runs the tests again.
package servertest

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// announced holds the things whose absence this test binary has announced.
var announced sync.Map

// Unavailable ends tb because what it needs is unavailable; why says why
// and what to do about it.
func Unavailable(tb testing.TB, what, why string) {
	tb.Helper()
	msg := fmt.Sprintf("%s unavailable: %s", what, why)
	if os.Getenv("CI") == "true" {
		tb.Fatal(msg)
		return
	}
	if !testing.Verbose() {
		if _, done := announced.LoadOrStore(what, true); !done {
			first, _, _ := strings.Cut(msg, "\n")
			announce(fmt.Sprintf("SKIP\t%s\t%s and every other test that needs %s: %s\n", testedPackage(), tb.Name(), what, first))
		}
	}
	tb.Skip(msg)
}

// announce writes line where the go command writes: its standard output,
// or else its standard error. A regular file qualifies only when it was
// opened for appending; otherwise this process cannot share the go
// command's file offset, and the go command's next write would land on the
// line. Where neither qualifies, the skip message is still there for -v.
func announce(line string) {
	for _, fd := range []int{1, 2} {
		if out := openShared(os.Getppid(), fd); out != nil {
			_, _ = out.WriteString(line)
			out.Close()
			return
		}
	}
}

// openShared opens process pid's file descriptor fd for writing after what
// that process writes, or returns nil.
func openShared(pid, fd int) *os.File {
	path := fmt.Sprintf("/proc/%d/fd/%d", pid, fd)
	info, err := os.Stat(path)
	if err != nil || info.Mode().IsRegular() && !appending(pid, fd) {
		return nil
	}
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil
	}
	return out
}

// appending reports whether process pid opened fd with O_APPEND, from the
// octal flags line of its fdinfo.
func appending(pid, fd int) bool {
	info, err := os.ReadFile(fmt.Sprintf("/proc/%d/fdinfo/%d", pid, fd))
	if err != nil {
		return false
	}
	for line := range strings.Lines(string(info)) {
		if v, ok := strings.CutPrefix(line, "flags:"); ok {
			flags, err := strconv.ParseUint(strings.TrimSpace(v), 8, 64)
			return err == nil && flags&syscall.O_APPEND != 0
		}
	}
	return false
}

// testedPackage returns the import path of the package under test.
func testedPackage() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Path != "" {
		return strings.TrimSuffix(bi.Path, ".test")
	}
	return strings.TrimSuffix(filepath.Base(os.Args[0]), ".test")
}
