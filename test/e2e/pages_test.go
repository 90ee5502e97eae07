package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/iddv/timmybot/app/servertest"
	"github.com/iddv/timmybot/test/audiocheck"
	"github.com/iddv/timmybot/test/audiohost"
)

// TestPlayPageThroughYTDLP plays a web page, not a file: the real yt-dlp
// (its generic extractor) finds the audio the page embeds, at enqueue for
// the title and again at play time for the stream, and the listener hears
// the WebM track's tone, passed through.
func TestPlayPageThroughYTDLP(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("yt-dlp"); err != nil {
		servertest.Unavailable(t, "yt-dlp", "it is not installed: apt-get install yt-dlp")
	}
	host := audiohost.Start(t)
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html><head><title>Evening tone</title></head><body><audio src="%s"></audio></body></html>`, host.URL(audiohost.WebM))
	}))
	t.Cleanup(page.Close)
	r := newRoom(t, "TIMMYBOT_YTDLP_SITES=127.0.0.1")

	msg := r.do(t, r.approved.ID, memberID, "play", opt("query", page.URL+"/evening"))
	if !strings.HasPrefix(msg.Content, "Playing **") {
		t.Fatalf("/play of a page answered %q\n%s", msg.Content, r.bot.logs)
	}
	r.waitFrames(t, 150, 30*time.Second)
	audiocheck.ExpectTones(t, listen(t, r.heard(t)[:150]), audiocheck.Tone{Frequency: 1100, Duration: 3 * time.Second})
}

// TestPlayFeedThroughYTDLP plays a list, not one track: the real yt-dlp
// reads a podcast feed of three of the audio host's tracks as a playlist,
// /play queues them in the feed's order and the first plays; with
// TIMMYBOT_MAX_PLAYLIST_TRACKS=2 the list is cut, with
// TIMMYBOT_MAX_TRACK_DURATION=5m its longer tracks are left out, and the
// reply says so.
func TestPlayFeedThroughYTDLP(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("yt-dlp"); err != nil {
		servertest.Unavailable(t, "yt-dlp", "it is not installed: apt-get install yt-dlp")
	}
	tests := []struct {
		name      string
		env       []string
		want      string
		wantQueue []string
	}{
		{"the whole feed", nil, "Queued 3 tracks from position 1.", []string{"First", "Second", "Third"}},
		{"cut at the limit", []string{"TIMMYBOT_MAX_PLAYLIST_TRACKS=2"},
			"Queued 2 tracks from position 1. Only the first 2 of its 3 tracks were taken (the limit is 2).", []string{"First", "Second"}},
		{"tracks over the duration limit", []string{"TIMMYBOT_MAX_TRACK_DURATION=5m"},
			"Playing **Second**. Left out 2 tracks longer than the 5-minute limit.", []string{"Second"}},
	}
	// The feed's tracks and their durations, as the feed and /queue show them.
	feedTracks := []struct{ title, duration, shown string }{{"First", "00:10:00", "10:00"}, {"Second", "00:03:00", "3:00"}, {"Third", "00:10:00", "10:00"}}
	shown := map[string]string{}
	for _, ft := range feedTracks {
		shown[ft.title] = ft.shown
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, append([]string{"TIMMYBOT_YTDLP_SITES=127.0.0.1"}, tt.env...)...)
			feed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/rss+xml")
				fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel><title>Evening</title><link>`+h.music+`/</link><description>Three tracks</description>`)
				for _, ft := range feedTracks {
					fmt.Fprintf(w, `<item><title>%s</title><enclosure url="%s" type="audio/ogg" length="1000"/><itunes:duration>%s</itunes:duration></item>`, ft.title, h.track(strings.ToLower(ft.title)+".ogg"), ft.duration)
				}
				fmt.Fprint(w, `</channel></rss>`)
			}))
			t.Cleanup(feed.Close)

			msg := h.do(t, h.approved.ID, memberID, "play", opt("query", feed.URL+"/feed.xml"))
			if msg.Content != tt.want {
				t.Fatalf("/play of a feed answered %q, want %q\n%s", msg.Content, tt.want, h.bot.logs)
			}
			queue := h.do(t, h.approved.ID, memberID, "queue")
			if len(queue.Embeds) != 1 {
				t.Fatalf("/queue answered %+v", queue)
			}
			lines := strings.Split(queue.Embeds[0].Description, "\n")
			if len(lines) != len(tt.wantQueue) {
				t.Fatalf("/queue lists:\n%s\nwant %v", queue.Embeds[0].Description, tt.wantQueue)
			}
			for i, title := range tt.wantQueue {
				want := fmt.Sprintf("`%d.` **[%s](%s)** `%s`", i+1, title, h.track(strings.ToLower(title)+".ogg"), shown[title])
				if !strings.HasPrefix(lines[i], want) {
					t.Errorf("/queue line %d = %q, want it to start %q", i+1, lines[i], want)
				}
			}
			h.waitYtdlpFrames(t, 50)
		})
	}
}
