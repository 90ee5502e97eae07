package fetch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/iddv/timmybot/app/music"
)

func openForTest(t *testing.T, ctx context.Context, rawURL string, offset int64, clock *noWait) (*Body, error) {
	t.Helper()
	client := NewClient(allowTestHost, Limits{})
	return open(ctx, client, rawURL, nil, offset, retryPolicy{attempts: resumeAttempts, backoff: resumeBackoff, wait: clock.wait})
}

func TestBodyResumesWhereItBroke(t *testing.T) {
	content := testContent(256 << 10)
	file := &flakyFile{content: content, acceptRanges: true, dropAt: []int64{100_000, 180_000}}
	audio := startServer(t, "127.0.0.1:0", file)
	clock := &noWait{}

	b, err := openForTest(t, context.Background(), audio.URL+"/a.ogg", 0, clock)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.Size() != int64(len(content)) || b.ContentType() != "audio/ogg" {
		t.Errorf("Size() = %d, ContentType() = %q", b.Size(), b.ContentType())
	}
	got, err := io.ReadAll(b)
	if err != nil {
		t.Fatalf("reading: %v", err)
	}
	if sha256.Sum256(got) != sha256.Sum256(content) {
		t.Errorf("read %d bytes that differ from the %d-byte file", len(got), len(content))
	}
	if diff := cmp.Diff([]string{"", "bytes=100000-", "bytes=180000-"}, file.ranges()); diff != "" {
		t.Errorf("Range headers (-want +got):\n%s", diff)
	}
	if got := file.requests[1].Get("If-Range"); got != `"v1"` {
		t.Errorf("resume If-Range = %q, want the file's ETag", got)
	}
	if diff := cmp.Diff([]time.Duration{resumeBackoff, resumeBackoff}, clock.waits); diff != "" {
		t.Errorf("backoff waits (-want +got):\n%s", diff)
	}
}

func TestBodyOpensAtOffset(t *testing.T) {
	content := testContent(10_000)
	file := &flakyFile{content: content, acceptRanges: true, dropAt: []int64{6000}}
	audio := startServer(t, "127.0.0.1:0", file)

	b, err := openForTest(t, context.Background(), audio.URL, 4000, &noWait{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	got, err := io.ReadAll(b)
	if err != nil || !bytes.Equal(got, content[4000:]) || b.Size() != int64(len(content)) {
		t.Errorf("read %d bytes (equal: %v), Size %d, err %v", len(got), bytes.Equal(got, content[4000:]), b.Size(), err)
	}
	if diff := cmp.Diff([]string{"bytes=4000-", "bytes=6000-"}, file.ranges()); diff != "" {
		t.Errorf("Range headers (-want +got):\n%s", diff)
	}
}

// Some hosts answer a range with only a piece of it; the body asks for the
// rest where each piece ends.
func TestBodyFollowsPartialRanges(t *testing.T) {
	content := testContent(25_000)
	audio := startServer(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := rangeStart(r.Header.Get("Range"))
		r.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", start, start+9999))
		http.ServeContent(w, r, "a.ogg", time.Time{}, bytes.NewReader(content))
	}))
	b, err := openForTest(t, context.Background(), audio.URL, 1000, &noWait{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	got, err := io.ReadAll(b)
	if err != nil || !bytes.Equal(got, content[1000:]) {
		t.Errorf("read %d bytes (equal: %v), %v", len(got), bytes.Equal(got, content[1000:]), err)
	}
}

func TestBodyRefusals(t *testing.T) {
	content := testContent(50_000)
	tests := []struct {
		name      string
		handler   http.Handler
		offset    int64
		wantRead  int64 // bytes read before the error
		wantError string
		wantCode  string
		wantWaits []time.Duration
	}{
		{
			name:      "server ignores Range on resume",
			handler:   &flakyFile{content: content, acceptRanges: true, dropAt: []int64{20_000}, serveRange: map[int]string{1: ""}},
			wantRead:  20_000,
			wantError: "The audio host dropped the connection and then would not continue where it broke off, so TimmyBot stopped rather than play part of the file twice.",
			wantCode:  music.EUNAVAILABLE,
			wantWaits: []time.Duration{resumeBackoff},
		},
		{
			name:      "server resumes at the wrong byte",
			handler:   &flakyFile{content: content, acceptRanges: true, dropAt: []int64{20_000}, serveRange: map[int]string{1: "bytes=10000-"}},
			wantRead:  20_000,
			wantError: "The audio file changed while it was playing.",
			wantCode:  music.EUNAVAILABLE,
			wantWaits: []time.Duration{resumeBackoff},
		},
		{
			name:      "server ignores Range on open",
			handler:   &flakyFile{content: content, acceptRanges: true, serveRange: map[int]string{0: ""}},
			offset:    1000,
			wantError: "That audio host cannot start a file part-way, so TimmyBot cannot seek in it.",
			wantCode:  music.EUNAVAILABLE,
		},
		{
			name:      "no Accept-Ranges: not resumed",
			handler:   &flakyFile{content: content, dropAt: []int64{20_000}},
			wantRead:  20_000,
			wantError: "Something went wrong on our side.",
			wantCode:  music.EINTERNAL,
		},
		{
			name:      "drops on every resume",
			handler:   &flakyFile{content: content, acceptRanges: true, dropAt: []int64{20_000, 20_000, 20_000, 20_000, 20_000}},
			wantRead:  20_000,
			wantError: "The audio host kept dropping the connection.",
			wantCode:  music.EUNAVAILABLE,
			wantWaits: []time.Duration{resumeBackoff, 2 * resumeBackoff, 4 * resumeBackoff},
		},
		{
			name: "file changed on resume",
			handler: &switchingFile{files: []*flakyFile{
				{content: content, acceptRanges: true, dropAt: []int64{20_000}},
				{content: content[:40_000], acceptRanges: true},
			}},
			wantRead:  20_000,
			wantError: "The audio file changed while it was playing.",
			wantCode:  music.EUNAVAILABLE,
			wantWaits: []time.Duration{resumeBackoff},
		},
		{
			name:      "not found",
			handler:   http.NotFoundHandler(),
			wantError: "The audio host says that file does not exist (404).",
			wantCode:  music.ENOTFOUND,
		},
		{
			name:      "server error",
			handler:   http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) }),
			wantError: "The audio host answered 502 Bad Gateway.",
			wantCode:  music.EUNAVAILABLE,
		},
		{
			name:      "offset past the end",
			handler:   &flakyFile{content: content, acceptRanges: true},
			offset:    60_000,
			wantError: "That position is past the end of the track.",
			wantCode:  music.EINVALID,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			audio := startServer(t, "127.0.0.1:0", tt.handler)
			clock := &noWait{}
			b, err := openForTest(t, context.Background(), audio.URL, tt.offset, clock)
			var n int64
			if err == nil {
				n, err = io.Copy(io.Discard, b)
				b.Close()
			}
			if music.ErrorCode(err) != tt.wantCode || music.ErrorMessage(err) != tt.wantError || n != tt.wantRead {
				t.Errorf("read %d bytes, error %v (code %s)\nwant %d bytes, %q (code %s)", n, err, music.ErrorCode(err), tt.wantRead, tt.wantError, tt.wantCode)
			}
			if diff := cmp.Diff(tt.wantWaits, clock.waits); diff != "" {
				t.Errorf("backoff waits (-want +got):\n%s", diff)
			}
		})
	}
}

// switchingFile serves files[i] to request i: a file replaced between a
// download and its resume.
type switchingFile struct {
	files []*flakyFile
	n     atomic.Int64
}

func (s *switchingFile) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i := int(s.n.Add(1)) - 1
	s.files[min(i, len(s.files)-1)].ServeHTTP(w, r)
}

// A cancelled context ends the download without resuming, whether it
// arrives while reading or while waiting to resume.
func TestBodyResumeHonoursContext(t *testing.T) {
	content := testContent(50_000)
	tests := []struct {
		name         string
		cancelInWait bool
	}{
		{"cancelled while reading", false},
		{"cancelled while waiting to resume", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := &flakyFile{content: content, acceptRanges: true, dropAt: []int64{20_000}}
			audio := startServer(t, "127.0.0.1:0", file)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			clock := &noWait{}
			wait := clock.wait
			if tt.cancelInWait {
				wait = func(ctx context.Context, d time.Duration) error { cancel(); clock.wait(ctx, d); return ctx.Err() }
			}
			b, err := open(ctx, NewClient(allowTestHost, Limits{}), audio.URL, nil, 0, retryPolicy{attempts: resumeAttempts, backoff: resumeBackoff, wait: wait})
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			if !tt.cancelInWait {
				if _, err := io.ReadFull(b, make([]byte, 1000)); err != nil {
					t.Fatal(err)
				}
				cancel()
			}
			_, err = io.Copy(io.Discard, b)
			if !errors.Is(err, context.Canceled) || music.ErrorCode(err) != music.EINTERNAL {
				t.Errorf("read error %v (code %s), want context.Canceled and no host failure", err, music.ErrorCode(err))
			}
			if n := len(file.ranges()); n != 1 || len(clock.waits) != map[bool]int{false: 0, true: 1}[tt.cancelInWait] {
				t.Errorf("%d requests and waits %v after cancelling", n, clock.waits)
			}
		})
	}
}

func ExampleOpen() {
	client := NewClient(Policy{}, DefaultLimits())
	b, err := Open(context.Background(), client, "http://127.0.0.1/a.ogg", nil, 0)
	fmt.Println(b == nil, music.ErrorMessage(err))
	// Output: true That URL leads to a loopback address, which TimmyBot does not fetch.
}

// OpenRange reads exactly the part asked for, with a closed Range, and
// resumes a dropped part, or one the host sends in pieces, up to its end.
func TestOpenRange(t *testing.T) {
	content := testContent(50_000)
	pieces := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, last, _ := strings.Cut(r.Header.Get("Range"), "-")
		start := rangeStart(r.Header.Get("Range"))
		end, _ := strconv.ParseInt(last, 10, 64)
		r.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", start, min(start+999, end)))
		http.ServeContent(w, r, "a.ts", time.Time{}, bytes.NewReader(content))
	})
	overlong := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := rangeStart(r.Header.Get("Range"))
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, start+99, len(content)))
		w.WriteHeader(http.StatusPartialContent)
		w.Write(content[start:]) // no Content-Length: the body runs on past the range
	})
	tests := []struct {
		name           string
		handler        http.Handler
		offset, length int64
		wantRanges     []string // nil: not checked
	}{
		{"a part", &flakyFile{content: content, acceptRanges: true}, 1000, 3000, []string{"bytes=1000-3999"}},
		{"from the first byte", &flakyFile{content: content, acceptRanges: true}, 0, 100, []string{"bytes=0-99"}},
		{"to the last byte", &flakyFile{content: content, acceptRanges: true}, 49_000, 1000, []string{"bytes=49000-49999"}},
		{"dropped and resumed", &flakyFile{content: content, acceptRanges: true, dropAt: []int64{2500}}, 1000, 3000, []string{"bytes=1000-3999", "bytes=2500-3999"}},
		{"sent in pieces", pieces, 1000, 2500, nil},
		{"sent with more than the range", overlong, 1000, 100, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			audio := startServer(t, "127.0.0.1:0", tt.handler)
			b, err := openRangeForTest(t, audio.URL, tt.offset, tt.length)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			got, err := io.ReadAll(b)
			if want := content[tt.offset : tt.offset+tt.length]; err != nil || !bytes.Equal(got, want) {
				t.Errorf("read %d bytes (equal: %v), %v; want the %d asked for", len(got), bytes.Equal(got, want), err, len(want))
			}
			if b.Size() != int64(len(content)) {
				t.Errorf("Size() = %d, want the file's %d", b.Size(), len(content))
			}
			if f, ok := tt.handler.(*flakyFile); ok {
				if diff := cmp.Diff(tt.wantRanges, f.ranges()); diff != "" {
					t.Errorf("Range headers (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestOpenRangeRefusals(t *testing.T) {
	content := testContent(50_000)
	tests := []struct {
		name           string
		file           *flakyFile
		offset, length int64
		wantError      string
	}{
		{"whole file instead of the part", &flakyFile{content: content, acceptRanges: true, serveRange: map[int]string{0: ""}}, 0, 100,
			"That audio host sends whole files where TimmyBot asks for a part of one, so TimmyBot cannot play it."},
		{"another part", &flakyFile{content: content, acceptRanges: true, serveRange: map[int]string{0: "bytes=0-99"}}, 100, 100,
			"That audio host answered with the wrong part of the file."},
		{"more than the part", &flakyFile{content: content, acceptRanges: true, serveRange: map[int]string{0: "bytes=100-"}}, 100, 100,
			"That audio host answered with the wrong part of the file."},
		{"resumed past the part", &flakyFile{content: content, acceptRanges: true, dropAt: []int64{150}, serveRange: map[int]string{1: "bytes=150-"}}, 100, 100,
			"The audio file changed while it was playing."},
		{"past the end of the file", &flakyFile{content: content, acceptRanges: true}, 60_000, 100,
			"That audio host's file ends before the part TimmyBot asked for."},
		{"across the end of the file", &flakyFile{content: content, acceptRanges: true}, 49_950, 100,
			"That audio host's file ends before the part TimmyBot asked for."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			audio := startServer(t, "127.0.0.1:0", tt.file)
			b, err := openRangeForTest(t, audio.URL, tt.offset, tt.length)
			if err == nil {
				_, err = io.ReadAll(b)
				b.Close()
			}
			if got := music.ErrorMessage(err); got != tt.wantError {
				t.Errorf("error %v, said %q, want %q", err, got, tt.wantError)
			}
		})
	}
}

func openRangeForTest(t *testing.T, rawURL string, offset, length int64) (*Body, error) {
	t.Helper()
	return openPart(t.Context(), NewClient(allowTestHost, Limits{}), rawURL, nil, offset, offset+length, retryPolicy{attempts: resumeAttempts, backoff: resumeBackoff, wait: (&noWait{}).wait})
}

// A range that no file holds is refused before any request.
func TestOpenRangeBadRange(t *testing.T) {
	var server hits
	audio := startServer(t, "127.0.0.1:0", &server)
	for _, r := range []struct{ offset, length int64 }{{0, 0}, {0, -1}, {-1, 10}, {math.MaxInt64 - 5, 10}} {
		if _, err := OpenRange(t.Context(), NewClient(allowTestHost, Limits{}), audio.URL, nil, r.offset, r.length); err == nil {
			t.Errorf("OpenRange(%d, %d) opened", r.offset, r.length)
		}
	}
	if n := server.n.Load(); n != 0 {
		t.Errorf("%d requests for ranges no file holds", n)
	}
}
