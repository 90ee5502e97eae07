package links

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/google/go-cmp/cmp"
	"github.com/iddv/timmybot/app/music"
)

// gatedFinder holds every Find until the test sends its outcome on the
// recording's gate, and tracks which recordings are being found.
type gatedFinder struct {
	gates map[string]chan error

	mu      sync.Mutex
	running map[string]bool
	seen    map[string]bool
	most    int
}

func newGatedFinder(recs []music.Recording) *gatedFinder {
	f := &gatedFinder{gates: map[string]chan error{}, running: map[string]bool{}, seen: map[string]bool{}}
	for _, r := range recs {
		f.gates[r.Title] = make(chan error, 1)
	}
	return f
}

func (f *gatedFinder) Find(ctx context.Context, r music.Recording) (music.Track, error) {
	f.mu.Lock()
	f.running[r.Title] = true
	f.seen[r.Title] = true
	f.most = max(f.most, len(f.running))
	f.mu.Unlock()
	defer func() { f.mu.Lock(); delete(f.running, r.Title); f.mu.Unlock() }()
	select {
	case err := <-f.gates[r.Title]:
		if err != nil {
			return music.Track{}, err
		}
		return music.Track{Title: r.Title, URL: "https://www.youtube.com/watch?v=" + r.Title, Source: r.Source}, nil
	case <-ctx.Done():
		return music.Track{}, ctx.Err()
	}
}

// last is the running recording latest in recs, and how many run.
func (f *gatedFinder) last(recs []music.Recording) (title string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range recs {
		if f.running[r.Title] {
			title = r.Title
		}
	}
	return title, len(f.running)
}

func (f *gatedFinder) started(title string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seen[title]
}

func recordings(n int) []music.Recording {
	var recs []music.Recording
	for i := range n {
		recs = append(recs, music.Recording{Title: "t" + strconv.Itoa(i), Artists: []string{"A"}, Source: "deezer"})
	}
	return recs
}

type mirrored struct {
	tracks  []music.Track
	missing int
	err     error
}

func startMirrorAll(ctx context.Context, r *Resolver, recs []music.Recording) <-chan mirrored {
	done := make(chan mirrored, 1)
	go func() {
		tracks, missing, err := r.mirrorAll(ctx, recs)
		done <- mirrored{tracks, missing, err}
	}()
	return done
}

func titles(ts []music.Track) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Title)
	}
	return out
}

// Exactly Concurrency finds run while enough are left, however they
// finish (here the latest running first), and the tracks keep the list's
// order, those without a match left out and counted. Each find, with or
// without a match, is reported to the context's progress, counting up.
func TestMirrorAllBoundedAndOrdered(t *testing.T) {
	for _, limit := range []int{1, 2, 4} {
		t.Run(fmt.Sprintf("%d at once", limit), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				recs := recordings(7)
				f := newGatedFinder(recs)
				r := &Resolver{cfg: Config{Finder: f, Concurrency: limit}}
				var reports []string
				ctx := music.WithProgress(t.Context(), func(done, total int) {
					reports = append(reports, fmt.Sprintf("%d/%d", done, total))
				})
				done := startMirrorAll(ctx, r, recs)
				for left := len(recs); left > 0; left-- {
					synctest.Wait()
					title, n := f.last(recs)
					if n != min(limit, left) {
						t.Fatalf("%d finds running with %d left, want %d", n, left, min(limit, left))
					}
					var outcome error
					if title == "t3" {
						outcome = music.Errorf(music.ENOTFOUND, "no match")
					}
					f.gates[title] <- outcome
				}
				got := <-done
				if got.err != nil || got.missing != 1 {
					t.Fatalf("mirrorAll: %d missing, %v; want 1 missing", got.missing, got.err)
				}
				want := []string{"t0", "t1", "t2", "t4", "t5", "t6"}
				if diff := cmp.Diff(want, titles(got.tracks)); diff != "" {
					t.Errorf("order (-want +got):\n%s", diff)
				}
				if f.most != limit {
					t.Errorf("at most %d ran at once, want %d", f.most, limit)
				}
				wantReports := []string{"1/7", "2/7", "3/7", "4/7", "5/7", "6/7", "7/7"}
				if diff := cmp.Diff(wantReports, reports); diff != "" {
					t.Errorf("progress (-want +got):\n%s", diff)
				}
			})
		})
	}
}

// A failure other than no match stops the finds still running and starts
// no more; so does the caller giving up.
func TestMirrorAllStops(t *testing.T) {
	tests := []struct {
		name string
		stop func(f *gatedFinder, cancel context.CancelFunc)
		want string
	}{
		{name: "a search fails", stop: func(f *gatedFinder, _ context.CancelFunc) {
			f.gates["t1"] <- music.Errorf(music.EUNAVAILABLE, "yt-dlp is down")
		}, want: "yt-dlp is down"},
		{name: "the caller gives up", stop: func(_ *gatedFinder, cancel context.CancelFunc) { cancel() }, want: "context canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				recs := recordings(10)
				f := newGatedFinder(recs)
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				r := &Resolver{cfg: Config{Finder: f, Concurrency: 3}}
				done := startMirrorAll(ctx, r, recs)
				synctest.Wait()
				f.gates["t0"] <- nil
				synctest.Wait()
				tt.stop(f, cancel)
				got := <-done
				if got.err == nil || got.err.Error() != tt.want && music.ErrorMessage(got.err) != tt.want {
					t.Fatalf("mirrorAll error %v, want %q", got.err, tt.want)
				}
				if _, n := f.last(recs); n != 0 {
					t.Errorf("%d finds still running", n)
				}
				for _, title := range []string{"t4", "t5", "t6", "t7", "t8", "t9"} {
					if f.started(title) {
						t.Errorf("%s was started after the stop", title)
					}
				}
			})
		})
	}
}
