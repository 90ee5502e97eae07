package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/iddv/timmybot/app/music"
)

func testQueueErrors(t *testing.T, open Open) {
	q := open(t, NewClock().Now)().Queue
	in := tracks("a", 3)
	enqueue(t, q, guildA, 0, in...)
	const empty music.GuildID = "100000000000000009"

	tooLong := track("long")
	tooLong.Title = strings.Repeat("x", music.MaxTitleLen+1)
	longURL := track("url")
	longURL.URL = "https://audio.example/" + strings.Repeat("x", music.MaxURLLen)
	negative := track("neg")
	negative.Duration = -1
	badUTF8 := track("utf")
	badUTF8.Title = "\xff"

	type op func(ctx context.Context, g music.GuildID) error
	enq := func(ts ...music.Track) op {
		return func(ctx context.Context, g music.GuildID) error { _, err := q.Enqueue(ctx, g, ts...); return err }
	}
	remove := func(i int) op {
		return func(ctx context.Context, g music.GuildID) error { _, err := q.RemoveAt(ctx, g, i); return err }
	}
	move := func(from, to int) op {
		return func(ctx context.Context, g music.GuildID) error { return q.Move(ctx, g, from, to) }
	}
	page := func(offset, limit int) op {
		return func(ctx context.Context, g music.GuildID) error { _, err := q.Page(ctx, g, offset, limit); return err }
	}
	ops := map[string]op{
		"Enqueue":  enq(track("x")),
		"Page":     page(0, 10),
		"Peek":     func(ctx context.Context, g music.GuildID) error { _, err := q.Peek(ctx, g); return err },
		"Pop":      func(ctx context.Context, g music.GuildID) error { _, err := q.Pop(ctx, g); return err },
		"RemoveAt": remove(0),
		"Move":     move(0, 0),
		"Shuffle":  func(ctx context.Context, g music.GuildID) error { return q.Shuffle(ctx, g, 1) },
		"Clear":    func(ctx context.Context, g music.GuildID) error { _, err := q.Clear(ctx, g); return err },
		"Len":      func(ctx context.Context, g music.GuildID) error { _, err := q.Len(ctx, g); return err },
	}
	for name, run := range ops {
		for _, bad := range []music.GuildID{"", "guild", "0123", "123456789012345678901", "-1", "18446744073709551616"} {
			t.Run(fmt.Sprintf("%s with guild %q", name, bad), func(t *testing.T) {
				wantCode(t, name, run(ctx(t), bad), music.EINVALID)
			})
		}
	}

	tests := []struct {
		name  string
		guild music.GuildID
		run   op
		want  string
	}{
		{"enqueue nothing", guildA, enq(), music.EINVALID},
		{"enqueue without URL", guildA, enq(music.Track{Title: "x"}), music.EINVALID},
		{"enqueue oversized title", guildA, enq(tooLong), music.EINVALID},
		{"enqueue oversized URL", guildA, enq(longURL), music.EINVALID},
		{"enqueue negative duration", guildA, enq(negative), music.EINVALID},
		{"enqueue invalid UTF-8", guildA, enq(badUTF8), music.EINVALID},
		{"enqueue one bad among good", guildA, enq(track("ok1"), tooLong, track("ok2")), music.EINVALID},
		{"peek empty", empty, ops["Peek"], music.ENOTFOUND},
		{"pop empty", empty, ops["Pop"], music.ENOTFOUND},
		{"remove from empty", empty, remove(0), music.ENOTFOUND},
		{"move in empty", empty, move(0, 0), music.ENOTFOUND},
		{"remove past the end", guildA, remove(3), music.EINVALID},
		{"remove negative", guildA, remove(-1), music.EINVALID},
		{"move from past the end", guildA, move(3, 0), music.EINVALID},
		{"move to past the end", guildA, move(0, 3), music.EINVALID},
		{"move from negative", guildA, move(-1, 0), music.EINVALID},
		{"page negative offset", guildA, page(-1, 10), music.EINVALID},
		{"page zero limit", guildA, page(0, 0), music.EINVALID},
		{"page negative limit", guildA, page(0, -5), music.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, tt.name, tt.run(ctx(t), tt.guild), tt.want)
		})
	}
	t.Run("nothing changed", func(t *testing.T) {
		wantTitles(t, q, guildA, titlesOf(in))
		wantTitles(t, q, empty, []string{})
	})
}

// testQueueMax fills a queue to music.MaxQueueLen and works at that size.
func testQueueMax(t *testing.T, open Open) {
	q := open(t, NewClock().Now)().Queue
	const batch = 500
	all := tracks("e", music.MaxQueueLen)
	for i := 0; i < len(all); i += batch {
		enqueue(t, q, guildA, i, all[i:i+batch]...)
	}
	_, err := q.Enqueue(ctx(t), guildA, track("one too many"))
	wantCode(t, "Enqueue onto a full queue", err, music.EINVALID)

	page, err := q.Page(ctx(t), guildA, music.MaxQueueLen-10, 100)
	must(t, "Page", err)
	if got, want := titlesOf(entryTracks(page.Entries)), titlesOf(all[music.MaxQueueLen-10:]); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("last page = %v, want %v", got, want)
	}
	e, err := q.RemoveAt(ctx(t), guildA, 5000)
	must(t, "RemoveAt", err)
	if e.Track.Title != "Track e5000" {
		t.Errorf("RemoveAt(5000) = %q, want Track e5000", e.Track.Title)
	}
	must(t, "Move", q.Move(ctx(t), guildA, music.MaxQueueLen-2, 0))
	e, err = q.Pop(ctx(t), guildA)
	must(t, "Pop", err)
	if e.Track.Title != "Track e9999" {
		t.Errorf("Pop after Move = %q, want Track e9999", e.Track.Title)
	}
	enqueue(t, q, guildA, music.MaxQueueLen-2, track("x"), track("y"))
	_, err = q.Enqueue(ctx(t), guildA, track("z"))
	wantCode(t, "Enqueue onto a full queue", err, music.EINVALID)

	want := titlesOf(all[:music.MaxQueueLen-1])
	want = append(want[:5000], want[5001:]...)
	want = append(want, "Track x", "Track y")
	wantTitles(t, q, guildA, want)
	n, err := q.Clear(ctx(t), guildA)
	must(t, "Clear", err)
	if n != music.MaxQueueLen {
		t.Errorf("Clear = %d, want %d", n, music.MaxQueueLen)
	}
}

// testQueueConcurrency runs QueueConcurrency with two clients, as two bot
// tasks would use.
func testQueueConcurrency(t *testing.T, open Open) {
	client := open(t, NewClock().Now)
	QueueConcurrency(t, []music.QueueStore{client().Queue, client().Queue})
}

// QueueConcurrency runs 200 goroutines of mixed commands at once on one
// guild, spread over clients (of the same, empty data), and checks the
// result against what the successful commands did: every entry enqueued and
// not removed is there exactly once, and nothing else is.
func QueueConcurrency(t *testing.T, clients []music.QueueStore) {
	const (
		workers      = 200
		opsPerWorker = 4
		initial      = 30
	)
	enqueue(t, clients[0], guildA, 0, tracks("init", initial)...)

	var (
		mu       sync.Mutex
		added    = titlesOf(tracks("init", initial))
		removed  []string
		outcomes = map[string]int{}
		wg       sync.WaitGroup
	)
	record := func(op string, err error, titles ...string) {
		mu.Lock()
		defer mu.Unlock()
		outcomes[op+" "+music.ErrorCode(err)]++
		if err != nil {
			return
		}
		if op == "enqueue" {
			added = append(added, titles...)
		} else {
			removed = append(removed, titles...)
		}
	}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q := clients[w%len(clients)]
			r := rand.New(rand.NewPCG(uint64(w), 3))
			for i := range opsPerWorker {
				c := ctx(t)
				switch r.IntN(5) {
				case 0, 1:
					in := tracks(fmt.Sprintf("w%d-%d-", w, i), 1+r.IntN(2))
					_, err := q.Enqueue(c, guildA, in...)
					record("enqueue", err, titlesOf(in)...)
				case 2:
					e, err := q.Pop(c, guildA)
					record("pop", err, e.Track.Title)
				case 3:
					e, err := q.RemoveAt(c, guildA, r.IntN(8))
					record("remove", err, e.Track.Title)
				case 4:
					record("move", q.Move(c, guildA, r.IntN(8), r.IntN(8)))
				}
			}
		}()
	}
	wg.Wait()
	t.Logf("outcomes (operation, error code): %v", outcomes)
	for op, n := range outcomes {
		if code := op[strings.IndexByte(op, ' ')+1:]; code != "" && code != music.ECONFLICT && code != music.ENOTFOUND && code != music.EINVALID {
			t.Errorf("%d × %q: unexpected error", n, op)
		}
	}
	if outcomes["enqueue "] == 0 || outcomes["pop "]+outcomes["remove "] == 0 || outcomes["move "] == 0 {
		t.Fatalf("too few operations succeeded to prove anything: %v", outcomes)
	}

	want := map[string]int{}
	for _, title := range added {
		want[title]++
	}
	for _, title := range removed {
		if want[title] != 1 {
			t.Errorf("%q was removed but was not in the queue once (count %d)", title, want[title])
		}
		want[title]--
	}
	got := map[string]int{}
	for _, title := range titles(t, clients[1], guildA) {
		got[title]++
	}
	for title, n := range want {
		if n != got[title] {
			t.Errorf("%q is in the queue %d times, want %d", title, got[title], n)
		}
	}
	for title, n := range got {
		if _, ok := want[title]; !ok {
			t.Errorf("%q is in the queue %d times but was never enqueued", title, n)
		}
	}
}
