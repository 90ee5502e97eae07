package e2e

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/iddv/timmybot/app/servertest"
	"github.com/iddv/timmybot/test/audiocheck"
	"github.com/iddv/timmybot/test/audiohost"
)

// TestPlayHLS plays the audio host's .m3u8 URL through the real binary:
// the bot fetches the playlist and its MPEG-TS segments itself, ffmpeg
// reads their bytes, and the listener hears the stream's tone for its
// length; the same for the stream whose segments are byte ranges of one
// file. Then the same URL as yt-dlp resolves it (its generic extractor
// names the playlist, protocol m3u8_native), which plays the same way.
func TestPlayHLS(t *testing.T) {
	t.Parallel()
	host := audiohost.Start(t)
	tone := host.Track(audiohost.HLS).Tones[0]
	for _, stream := range []struct{ name, path string }{
		{"direct", audiohost.HLS},
		{"byte ranges", audiohost.HLSRanges},
	} {
		t.Run(stream.name, func(t *testing.T) {
			t.Parallel()
			r := newRoom(t)
			msg := r.do(t, r.approved.ID, memberID, "play", opt("query", host.URL(stream.path)))
			if !strings.HasPrefix(msg.Content, "Playing **") {
				t.Fatalf("/play of an HLS stream answered %q\n%s", msg.Content, r.bot.logs)
			}
			r.waitFrames(t, 150, 30*time.Second)
			audiocheck.ExpectTones(t, listen(t, r.heard(t)[:150]), host.Track(stream.path).Tones[0])
		})
	}
	t.Run("through yt-dlp", func(t *testing.T) {
		t.Parallel()
		if _, err := exec.LookPath("yt-dlp"); err != nil {
			servertest.Unavailable(t, "yt-dlp", "it is not installed: apt-get install yt-dlp")
		}
		r := newRoom(t, "TIMMYBOT_YTDLP_SITES=127.0.0.1")
		msg := r.do(t, r.approved.ID, memberID, "play", opt("query", host.URL(audiohost.HLS)))
		if !strings.HasPrefix(msg.Content, "Playing **") {
			t.Fatalf("/play of an HLS stream through yt-dlp answered %q\n%s", msg.Content, r.bot.logs)
		}
		r.waitFrames(t, 150, 45*time.Second)
		audiocheck.ExpectTones(t, listen(t, r.heard(t)[:150]), tone)
	})
}
