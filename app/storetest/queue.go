package storetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/iddv/timmybot/app/music"
)

// titles reads the whole queue through Page, checking each page's Offset and
// Total on the way.
func titles(t *testing.T, q music.QueueStore, guild music.GuildID) []string {
	t.Helper()
	n, err := q.Len(ctx(t), guild)
	must(t, "Len", err)
	out := []string{}
	for offset := 0; offset < n; offset += music.MaxPageLimit {
		page, err := q.Page(ctx(t), guild, offset, music.MaxPageLimit)
		must(t, "Page", err)
		if page.Offset != offset || page.Total != n {
			t.Fatalf("Page(%d): Offset %d Total %d, want %d and %d", offset, page.Offset, page.Total, offset, n)
		}
		for _, e := range page.Entries {
			out = append(out, e.Track.Title)
		}
	}
	if len(out) != n {
		t.Fatalf("pages hold %d entries, Len says %d", len(out), n)
	}
	return out
}

func titlesOf(ts []music.Track) []string {
	out := make([]string, len(ts))
	for i, tr := range ts {
		out[i] = tr.Title
	}
	return out
}

func wantTitles(t *testing.T, q music.QueueStore, guild music.GuildID, want []string) {
	t.Helper()
	if diff := cmp.Diff(want, titles(t, q, guild)); diff != "" {
		t.Errorf("queue differs (-want +got):\n%s", diff)
	}
}

// enqueue appends tracks, checking the returned index.
func enqueue(t *testing.T, q music.QueueStore, guild music.GuildID, wantFirst int, ts ...music.Track) {
	t.Helper()
	first, err := q.Enqueue(ctx(t), guild, ts...)
	must(t, "Enqueue", err)
	if first != wantFirst {
		t.Fatalf("Enqueue returned index %d, want %d", first, wantFirst)
	}
}

// moved is the model of Move.
func moved(s []string, from, to int) []string {
	out := slices.Clone(s)
	v := out[from]
	out = slices.Delete(out, from, from+1)
	return slices.Insert(out, to, v)
}

func testQueue(t *testing.T, open Open) {
	t.Run("enqueue and page", func(t *testing.T) {
		clock := NewClock()
		q := open(t, clock.Now)().Queue
		in := tracks("a", 150)
		enqueue(t, q, guildA, 0, in[:3]...)
		enqueue(t, q, guildA, 3, in[3:]...)

		page, err := q.Page(ctx(t), guildA, 0, 1000)
		must(t, "Page", err)
		if len(page.Entries) != music.MaxPageLimit || page.Total != 150 || page.Offset != 0 {
			t.Errorf("Page(0, 1000): %d entries, Offset %d, Total %d; want %d, 0, 150",
				len(page.Entries), page.Offset, page.Total, music.MaxPageLimit)
		}
		ids := map[string]bool{}
		for i, e := range page.Entries {
			want := music.Entry{ID: e.ID, Track: in[i], AddedAt: clock.Now()}
			if diff := cmp.Diff(want, e); diff != "" {
				t.Errorf("entry %d (-want +got):\n%s", i, diff)
			}
			if e.ID == "" || ids[e.ID] {
				t.Errorf("entry %d has empty or repeated ID %q", i, e.ID)
			}
			ids[e.ID] = true
		}
		tail, err := q.Page(ctx(t), guildA, 148, 10)
		must(t, "Page", err)
		if diff := cmp.Diff(titlesOf(in[148:]), titlesOf(entryTracks(tail.Entries))); diff != "" {
			t.Errorf("Page(148, 10) (-want +got):\n%s", diff)
		}
		past, err := q.Page(ctx(t), guildA, 150, 10)
		must(t, "Page", err)
		if len(past.Entries) != 0 || past.Total != 150 {
			t.Errorf("Page past the end: %d entries, Total %d; want 0, 150", len(past.Entries), past.Total)
		}
		wantTitles(t, q, guildA, titlesOf(in))
	})

	t.Run("entry round trip at the limits", func(t *testing.T) {
		q := open(t, NewClock().Now)().Queue
		tr := music.Track{
			Title:       strings.Repeat("🎵", music.MaxTitleLen),
			URL:         "https://audio.example/" + strings.Repeat("x", music.MaxURLLen-len("https://audio.example/")),
			Duration:    time.Hour + time.Nanosecond,
			Source:      "soundcloud",
			RequestedBy: userB,
			ArtworkURL:  "https://img.example/" + strings.Repeat("y", music.MaxArtworkURLLen-len("https://img.example/")),
		}
		bare := music.Track{URL: "https://audio.example/bare"} // as tracks stored before they had artwork
		enqueue(t, q, guildA, 0, tr, bare)
		page, err := q.Page(ctx(t), guildA, 0, 2)
		must(t, "Page", err)
		if diff := cmp.Diff([]music.Track{tr, bare}, entryTracks(page.Entries)); diff != "" {
			t.Errorf("tracks (-want +got):\n%s", diff)
		}
	})

	t.Run("peek and pop", func(t *testing.T) {
		q := open(t, NewClock().Now)().Queue
		enqueue(t, q, guildA, 0, tracks("a", 3)...)
		head, err := q.Page(ctx(t), guildA, 0, 1)
		must(t, "Page", err)
		for range 2 { // peeking twice removes nothing
			e, err := q.Peek(ctx(t), guildA)
			must(t, "Peek", err)
			if diff := cmp.Diff(head.Entries[0], e); diff != "" {
				t.Errorf("Peek differs from the head of Page (-page +peek):\n%s", diff)
			}
		}
		popped := []string{}
		for i := range 3 {
			e, err := q.Pop(ctx(t), guildA)
			must(t, "Pop", err)
			if i == 0 {
				if diff := cmp.Diff(head.Entries[0], e); diff != "" {
					t.Errorf("Pop differs from the head it removed (-page +pop):\n%s", diff)
				}
			}
			popped = append(popped, e.Track.Title)
		}
		if diff := cmp.Diff([]string{"Track a0", "Track a1", "Track a2"}, popped); diff != "" {
			t.Errorf("popped (-want +got):\n%s", diff)
		}
		_, err = q.Pop(ctx(t), guildA)
		wantCode(t, "Pop on empty", err, music.ENOTFOUND)
	})

	t.Run("remove at", func(t *testing.T) {
		for _, index := range []int{0, 2, 4} {
			t.Run(fmt.Sprint(index), func(t *testing.T) {
				q := open(t, NewClock().Now)().Queue
				in := tracks("a", 5)
				enqueue(t, q, guildA, 0, in...)
				e, err := q.RemoveAt(ctx(t), guildA, index)
				must(t, "RemoveAt", err)
				if e.Track.Title != in[index].Title {
					t.Errorf("RemoveAt(%d) = %q, want %q", index, e.Track.Title, in[index].Title)
				}
				want := titlesOf(in)
				wantTitles(t, q, guildA, slices.Delete(want, index, index+1))
			})
		}
	})

	t.Run("move", func(t *testing.T) {
		for _, tt := range []struct{ from, to int }{{0, 4}, {4, 0}, {1, 3}, {3, 1}, {2, 2}, {0, 1}} {
			t.Run(fmt.Sprintf("%d to %d", tt.from, tt.to), func(t *testing.T) {
				q := open(t, NewClock().Now)().Queue
				in := titlesOf(tracks("a", 5))
				enqueue(t, q, guildA, 0, tracks("a", 5)...)
				must(t, "Move", q.Move(ctx(t), guildA, tt.from, tt.to))
				wantTitles(t, q, guildA, moved(in, tt.from, tt.to))
			})
		}
	})

	t.Run("shuffle", func(t *testing.T) {
		q := open(t, NewClock().Now)().Queue
		in := tracks("a", 250)
		enqueue(t, q, guildA, 0, in...)
		enqueue(t, q, guildB, 0, in...)
		before := entryIDs(t, q, guildA)
		for _, g := range []music.GuildID{guildA, guildB} {
			must(t, "Shuffle", q.Shuffle(ctx(t), g, 7))
		}
		var want []string
		for _, from := range music.ShuffleOrder(len(in), 7) {
			want = append(want, in[from].Title)
		}
		wantTitles(t, q, guildA, want)
		wantTitles(t, q, guildB, want)
		after := entryIDs(t, q, guildA)
		slices.Sort(before)
		slices.Sort(after)
		if diff := cmp.Diff(before, after); diff != "" {
			t.Errorf("shuffle changed the entry IDs (-before +after):\n%s", diff)
		}
		must(t, "Shuffle empty", q.Shuffle(ctx(t), "100000000000000009", 7))
	})

	t.Run("clear", func(t *testing.T) {
		q := open(t, NewClock().Now)().Queue
		enqueue(t, q, guildA, 0, tracks("a", 120)...)
		enqueue(t, q, guildB, 0, tracks("b", 2)...)
		for _, want := range []int{120, 0} {
			n, err := q.Clear(ctx(t), guildA)
			must(t, "Clear", err)
			if n != want {
				t.Errorf("Clear = %d, want %d", n, want)
			}
		}
		wantTitles(t, q, guildA, []string{})
		wantTitles(t, q, guildB, titlesOf(tracks("b", 2)))
		enqueue(t, q, guildA, 0, track("c"))
		wantTitles(t, q, guildA, []string{"Track c"})
	})

	t.Run("guilds are separate", func(t *testing.T) {
		q := open(t, NewClock().Now)().Queue
		enqueue(t, q, guildA, 0, tracks("a", 2)...)
		enqueue(t, q, guildB, 0, tracks("b", 3)...)
		e, err := q.Pop(ctx(t), guildB)
		must(t, "Pop", err)
		if e.Track.Title != "Track b0" {
			t.Errorf("Pop(B) = %q, want Track b0", e.Track.Title)
		}
		wantTitles(t, q, guildA, titlesOf(tracks("a", 2)))
		wantTitles(t, q, guildB, []string{"Track b1", "Track b2"})
	})

	t.Run("random operations match a model", func(t *testing.T) {
		q := open(t, NewClock().Now)().Queue
		model := titlesOf(tracks("m", 250))
		enqueue(t, q, guildA, 0, tracks("m", 250)...)
		r := rand.New(rand.NewPCG(1, 2))
		for i := range 300 {
			switch op := r.IntN(10); {
			case op < 2:
				k := 1 + r.IntN(120)
				in := tracks(fmt.Sprintf("n%d-", i), k)
				enqueue(t, q, guildA, len(model), in...)
				model = append(model, titlesOf(in)...)
			case op < 5 && len(model) > 0:
				at := r.IntN(len(model))
				e, err := q.RemoveAt(ctx(t), guildA, at)
				must(t, "RemoveAt", err)
				if e.Track.Title != model[at] {
					t.Fatalf("op %d: RemoveAt(%d) = %q, want %q", i, at, e.Track.Title, model[at])
				}
				model = slices.Delete(model, at, at+1)
			case len(model) > 0:
				from, to := r.IntN(len(model)), r.IntN(len(model))
				must(t, "Move", q.Move(ctx(t), guildA, from, to))
				model = moved(model, from, to)
			}
			if i%60 == 59 {
				wantTitles(t, q, guildA, model)
			}
		}
		wantTitles(t, q, guildA, model)
	})
}

func entryTracks(es []music.Entry) []music.Track {
	out := make([]music.Track, len(es))
	for i, e := range es {
		out[i] = e.Track
	}
	return out
}

func entryIDs(t *testing.T, q music.QueueStore, guild music.GuildID) []string {
	t.Helper()
	var ids []string
	for offset := 0; ; offset += music.MaxPageLimit {
		page, err := q.Page(ctx(t), guild, offset, music.MaxPageLimit)
		must(t, "Page", err)
		for _, e := range page.Entries {
			ids = append(ids, e.ID)
		}
		if offset+music.MaxPageLimit >= page.Total {
			return ids
		}
	}
}
