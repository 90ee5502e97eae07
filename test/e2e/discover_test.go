package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iddv/timmybot/test/fakediscord"
)

// fakeSearch is a yt-dlp stand-in for searches: for "ytsearchN:words" it
// prints N results, "<words> <k>" at <host>/<words-slug>-<k>.ogg lasting k
// minutes, and logs each search it runs.
type fakeSearch struct {
	path string // the executable
	log  string // one line per search run
}

func newFakeSearch(t testing.TB, host string) *fakeSearch {
	t.Helper()
	dir := t.TempDir()
	f := &fakeSearch{path: filepath.Join(dir, "yt-dlp"), log: filepath.Join(dir, "searches")}
	script := `#!/bin/sh
for last; do :; done
echo "$last" >> '` + f.log + `'
n=${last%%:*}; n=${n#ytsearch}; words=${last#*:}
slug=$(printf '%s' "$words" | tr -c 'a-zA-Z0-9' '-')
printf '{"_type":"playlist","entries":['
k=1
while [ "$k" -le "$n" ]; do
	[ "$k" -gt 1 ] && printf ','
	printf '{"title":"%s %d","url":"` + host + `/%s-%d.ogg","duration":%d}' "$words" "$k" "$slug" "$k" $((60*k))
	k=$((k+1))
done
printf ']}\n'
`
	if err := os.WriteFile(f.path, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	return f
}

// searches are the search words the fake was run with, in order.
func (f *fakeSearch) searches(t testing.TB) []string {
	t.Helper()
	b, err := os.ReadFile(f.log)
	if os.IsNotExist(err) {
		return nil
	} else if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(strings.ReplaceAll(strings.TrimSpace(string(b)), " ", "_"))
}

// searchHarness runs the bot with the fake search over an audio host of
// silence, and lyrics from lyricsURL ("" for none).
func searchHarness(t testing.TB, lyricsURL string) (*harness, *fakeSearch, string) {
	t.Helper()
	host := silenceHost(t)
	search := newFakeSearch(t, host)
	env := []string{"TIMMYBOT_YTDLP=" + search.path}
	if lyricsURL != "" {
		env = append(env, "TIMMYBOT_LYRICS_URL="+lyricsURL)
	}
	return startHarness(t, setup{env: env}), search, host
}

// TestSearchThenPick: /search shows five results with a button each;
// pressing the third queues that track, which starts playing.
func TestSearchThenPick(t *testing.T) {
	t.Parallel()
	h, search, host := searchHarness(t, "")
	g := h.approved.ID

	results := h.respond(t, fakediscord.Slash{GuildID: g, UserID: memberID, Name: "search", Options: []fakediscord.Option{opt("query", "evening tone")}})
	msg := results.Message
	if len(msg.Embeds) != 1 || len(msg.Components) != 1 {
		t.Fatalf("/search answered %+v, want one embed and one row of buttons\n%s", msg, h.bot.logs)
	}
	var ids []string
	for _, b := range msg.Components[0].Components {
		ids = append(ids, b.CustomID)
	}
	want := make([]string, 5)
	for k := range want {
		want[k] = fmt.Sprintf("pick:%s/evening-tone-%d.ogg", host, k+1)
	}
	if fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Fatalf("buttons %v, want %v", ids, want)
	}
	if lines := strings.Split(msg.Embeds[0].Description, "\n"); len(lines) != 5 || !strings.HasPrefix(lines[2], "3. [evening tone 3](") || !strings.HasSuffix(lines[2], "`3:00`") {
		t.Errorf("results:\n%s", msg.Embeds[0].Description)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	picked, err := h.fake.Click(ctx, fakediscord.Click{MessageID: msg.ID, CustomID: want[2]})
	if err != nil {
		t.Fatalf("pressing the third result: %v\n%s", err, h.bot.logs)
	}
	if picked.Message.Content != "Playing **evening-tone-3.ogg**." {
		t.Fatalf("after the press the message says %q\n%s", picked.Message.Content, h.bot.logs)
	}
	if got := h.do(t, g, memberID, "queue"); len(got.Embeds) != 1 || !strings.Contains(got.Embeds[0].Description, "evening-tone-3.ogg") {
		t.Errorf("/queue after the pick: %+v", got)
	}
	h.waitYtdlpFrames(t, 50)
	if got := search.searches(t); fmt.Sprint(got) != "[ytsearch5:evening_tone]" {
		t.Errorf("searches %v, want the one of /search", got)
	}
}

// TestPlayAutocomplete: typing into /play query gets at most 10 choices in
// Discord's autocomplete format within its 3 s, named with the duration and
// valued with the page's URL; the same words again come from memory.
func TestPlayAutocomplete(t *testing.T) {
	t.Parallel()
	h, search, host := searchHarness(t, "")
	typing := func(text string) fakediscord.Response {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		resp, err := h.fake.Autocomplete(ctx, fakediscord.Slash{GuildID: h.approved.ID, UserID: memberID, Name: "play",
			Options: []fakediscord.Option{{Name: "query", Value: text, Focused: true}}})
		if err != nil {
			t.Fatalf("autocomplete %q: %v\n%s", text, err, h.bot.logs)
		}
		if resp.Type != fakediscord.CallbackAutocomplete || resp.Ack > 3*time.Second {
			t.Fatalf("autocomplete %q answered with type %d after %v, want type 8 within 3 s", text, resp.Type, resp.Ack)
		}
		return resp
	}
	var want []fakediscord.CommandChoice
	for k := 1; k <= 5; k++ {
		want = append(want, fakediscord.CommandChoice{Name: fmt.Sprintf("Never Gonna %d (%d:00)", k, k), Value: fmt.Sprintf("%s/Never-Gonna-%d.ogg", host, k)})
	}
	for _, text := range []string{"Never Gonna", "never  gonna"} {
		if got := typing(text).Choices; len(got) > 10 || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("choices for %q:\n got %v\nwant %v", text, got, want)
		}
	}
	if got := search.searches(t); fmt.Sprint(got) != "[ytsearch5:Never_Gonna]" {
		t.Errorf("searches %v, want one: the second came from memory", got)
	}
	if got := typing("ne").Choices; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("too short to search, the related answer: %v", got)
	}
	// Picking a choice sends its value: a URL, played as it is.
	if msg := h.do(t, h.approved.ID, memberID, "play", opt("query", want[1].Value)); msg.Content != "Playing **Never-Gonna-2.ogg**." {
		t.Errorf("/play of the choice answered %q", msg.Content)
	}
	// Sending the words instead queues the first result autocomplete found,
	// without a search of its own.
	if msg := h.do(t, h.approved.ID, memberID, "play", opt("query", "never gonna")); msg.Content != "Queued **Never-Gonna-1.ogg** at position 2." {
		t.Errorf("/play of the typed words answered %q", msg.Content)
	}
	if got := search.searches(t); len(got) != 1 {
		t.Errorf("searches %v, want still the one", got)
	}
}

// lrclibFake answers every lookup with synced lyrics of one line a
// second, "line 0" to "line 59", and records the queries.
type lrclibFake struct {
	mu      sync.Mutex
	queries []string
}

func (l *lrclibFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	l.queries = append(l.queries, r.URL.Path+"?"+r.URL.RawQuery)
	l.mu.Unlock()
	var lrc strings.Builder
	for s := range 60 {
		fmt.Fprintf(&lrc, "[00:%02d.00] line %d\n", s, s)
	}
	rec := map[string]any{"trackName": "Never Gonna", "artistName": "Rick", "duration": 600, "syncedLyrics": lrc.String(), "plainLyrics": "plain"}
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Path == "/api/search" {
		_ = json.NewEncoder(w).Encode([]any{rec})
		return
	}
	_ = json.NewEncoder(w).Encode(rec)
}

// TestLyricsFollowThePosition: /lyrics while a track plays shows the synced
// lines from LRCLIB around the position, the current one marked.
func TestLyricsFollowThePosition(t *testing.T) {
	t.Parallel()
	lyrics := &lrclibFake{}
	srv := httptest.NewServer(lyrics)
	t.Cleanup(srv.Close)
	h, _, host := searchHarness(t, srv.URL)
	g := h.approved.ID
	if msg := h.do(t, g, memberID, "play", opt("query", host+"/Rick%20-%20Never%20Gonna")); msg.Content != "Playing **Rick - Never Gonna**." {
		t.Fatalf("/play answered %q\n%s", msg.Content, h.bot.logs)
	}
	h.waitYtdlpFrames(t, 150) // 3 s played
	msg := h.do(t, g, memberID, "lyrics")
	// Whole seconds received by now, and one more: the player's position
	// may run a frame or two ahead of what has arrived.
	played := len(h.voice.Frames())/50 + 1
	if len(msg.Embeds) != 1 {
		t.Fatalf("/lyrics answered %+v\n%s", msg, h.bot.logs)
	}
	e := msg.Embeds[0]
	current := regexp.MustCompile(`\*\*▶ line (\d+)\*\*`).FindStringSubmatch(e.Description)
	if current == nil {
		t.Fatalf("no current line marked:\n%s", e.Description)
	}
	at, _ := strconv.Atoi(current[1])
	if at < 3 || at > played {
		t.Errorf("current line %d, want one from 3 to %d s in", at, played)
	}
	lines := strings.Split(e.Description, "\n")
	if first, last := at-min(at, 6), at+6; len(lines) != last-first+1 || !strings.HasSuffix(lines[0], fmt.Sprintf(" line %d", first)) || !strings.HasSuffix(lines[len(lines)-1], fmt.Sprintf(" line %d", last)) {
		t.Errorf("want lines %d to %d around line %d:\n%s", first, last, at, e.Description)
	}
	if e.Title != "Never Gonna" || e.Author == nil || e.Author.Name != "Rick" {
		t.Errorf("embed title %q author %+v", e.Title, e.Author)
	}
	lyrics.mu.Lock()
	defer lyrics.mu.Unlock()
	if len(lyrics.queries) != 1 || !strings.HasPrefix(lyrics.queries[0], "/api/get?") || !strings.Contains(lyrics.queries[0], "artist_name=Rick") || !strings.Contains(lyrics.queries[0], "track_name=Never+Gonna") {
		t.Errorf("LRCLIB queries %v, want one lookup of Rick's Never Gonna", lyrics.queries)
	}
}
