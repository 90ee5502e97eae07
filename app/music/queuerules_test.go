package music_test

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/iddv/timmybot/app/music"
)

func TestPageWindow(t *testing.T) {
	tests := []struct {
		name               string
		n, offset, limit   int
		wantStart, wantEnd int
		wantCode           string
	}{
		{"first page", 250, 0, 10, 0, 10, ""},
		{"clamped limit", 250, 100, 1000, 100, 100 + music.MaxPageLimit, ""},
		{"short last page", 250, 245, 10, 245, 250, ""},
		{"offset at the end", 250, 250, 10, 250, 250, ""},
		{"offset past the end", 250, 900, 10, 250, 250, ""},
		{"empty queue", 0, 0, 10, 0, 0, ""},
		{"negative offset", 250, -1, 10, 0, 0, music.EINVALID},
		{"zero limit", 250, 0, 0, 0, 0, music.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start, end, err := music.PageWindow(tt.n, tt.offset, tt.limit)
			if code := music.ErrorCode(err); code != tt.wantCode {
				t.Fatalf("error %v, want code %q", err, tt.wantCode)
			}
			if start != tt.wantStart || end != tt.wantEnd {
				t.Errorf("window [%d, %d), want [%d, %d)", start, end, tt.wantStart, tt.wantEnd)
			}
		})
	}
}

func TestCheckIndex(t *testing.T) {
	tests := []struct {
		name     string
		n, i     int
		wantCode string
	}{
		{"head", 3, 0, ""},
		{"last", 3, 2, ""},
		{"empty queue", 0, 0, music.ENOTFOUND},
		{"past the end", 3, 3, music.EINVALID},
		{"negative", 3, -1, music.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code := music.ErrorCode(music.CheckIndex(tt.n, tt.i)); code != tt.wantCode {
				t.Errorf("code %q, want %q", code, tt.wantCode)
			}
		})
	}
}

func TestEnqueueBounds(t *testing.T) {
	ok := music.Track{URL: "https://audio.example/a"}
	if err := music.ValidateTracks(nil); music.ErrorCode(err) != music.EINVALID {
		t.Errorf("ValidateTracks(nil) = %v, want EINVALID", err)
	}
	if err := music.ValidateTracks([]music.Track{ok, {}}); music.ErrorCode(err) != music.EINVALID {
		t.Errorf("ValidateTracks with a track without URL = %v, want EINVALID", err)
	}
	if err := music.ValidateTracks([]music.Track{ok}); err != nil {
		t.Errorf("ValidateTracks(valid) = %v", err)
	}
	if err := music.CheckRoom(music.MaxQueueLen-2, 2); err != nil {
		t.Errorf("CheckRoom filling the queue exactly = %v", err)
	}
	if err := music.CheckRoom(music.MaxQueueLen-2, 3); music.ErrorCode(err) != music.EINVALID {
		t.Errorf("CheckRoom past the limit = %v, want EINVALID", err)
	}
}

func TestShuffleOrder(t *testing.T) {
	a, b := music.ShuffleOrder(100, 42), music.ShuffleOrder(100, 42)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("one seed gave two orders (-first +second):\n%s", diff)
	}
	if slices.Equal(a, music.ShuffleOrder(100, 43)) {
		t.Error("seeds 42 and 43 gave the same order")
	}
	sorted := slices.Sorted(slices.Values(a))
	for i, v := range sorted {
		if v != i {
			t.Fatalf("not a permutation of 0..99: %v", a)
		}
	}
	if got := music.ShuffleOrder(0, 1); len(got) != 0 {
		t.Errorf("ShuffleOrder(0) = %v", got)
	}
}
