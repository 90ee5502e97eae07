package links

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/iddv/timmybot/app/music"
)

// slowFinder answers every recording after a fixed latency, as a search
// would.
type slowFinder struct{ latency time.Duration }

func (f slowFinder) Find(ctx context.Context, r music.Recording) (music.Track, error) {
	t := time.NewTimer(f.latency)
	defer t.Stop()
	select {
	case <-t.C:
		return music.Track{Title: r.Title, URL: "https://www.youtube.com/watch?v=" + r.Title, Source: r.Source}, nil
	case <-ctx.Done():
		return music.Track{}, ctx.Err()
	}
}

// BenchmarkMirrorAll mirrors a 20-track list through a finder that takes
// 5 ms per track, one at a time and with more at once.
func BenchmarkMirrorAll(b *testing.B) {
	recs := recordings(20)
	for _, n := range []int{1, 4, 8} {
		b.Run(fmt.Sprintf("concurrency=%d", n), func(b *testing.B) {
			r := &Resolver{cfg: Config{Finder: slowFinder{5 * time.Millisecond}, Concurrency: n}}
			for b.Loop() {
				if tracks, _, err := r.mirrorAll(b.Context(), recs); err != nil || len(tracks) != len(recs) {
					b.Fatalf("%d tracks, %v", len(tracks), err)
				}
			}
		})
	}
}
