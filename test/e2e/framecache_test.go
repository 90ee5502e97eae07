package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/iddv/timmybot/test/audiocheck"
	"github.com/iddv/timmybot/test/audiohost"
)

// TestLoopPlaysFromTheFrameCache loops the FLAC (660 Hz, 3 s, transcoded
// by ffmpeg): the rounds after the first come from the frame cache, so the
// audio host sees one request, the bot transcodes once (its debug log says
// which path each opening took), and the listener hears the same tone in
// every round.
func TestLoopPlaysFromTheFrameCache(t *testing.T) {
	t.Parallel()
	r := newRoom(t)
	host := audiohost.Start(t)
	r.play(t, host.URL(audiohost.FLAC), "Playing **flac**.")
	r.control(t, memberID, "Loop: track.", "loop", opt("mode", "track"))
	// Into the third round: 3 s each.
	r.waitFrames(t, 350, 30*time.Second)
	r.control(t, memberID, "Stopped, cleared the queue and left the channel.", "stop")
	if n := host.Requests(audiohost.FLAC); n != 1 {
		t.Errorf("the audio host had %d requests for the track, want 1", n)
	}
	logs := r.bot.logs.String()
	if n := strings.Count(logs, "path=transcode"); n != 1 {
		t.Errorf("the bot ran ffmpeg %d times, want once", n)
	}
	if n := strings.Count(logs, "path=cache"); n < 2 {
		t.Errorf("the bot opened the track from the frame cache %d times, want at least 2", n)
	}
	var heard time.Duration
	for _, run := range audiocheck.Runs(listen(t, r.heard(t)), toneTolerance) {
		if !near(run.Frequency, 660) {
			t.Errorf("heard %v of %.0f Hz, want only 660 Hz", run.Duration, run.Frequency)
		}
		heard += run.Duration
	}
	if heard < 6500*time.Millisecond {
		t.Errorf("heard %v of 660 Hz, want more than two rounds of 3 s", heard)
	}
}
