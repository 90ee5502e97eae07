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
