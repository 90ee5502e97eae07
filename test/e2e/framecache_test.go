package e2e

import (
	"testing"
	"time"

	"github.com/iddv/timmybot/test/audiocheck"
	"github.com/iddv/timmybot/test/audiohost"
)

// TestLoopPlaysFromTheFrameCache loops the FLAC (660 Hz, 3 s, transcoded
// by ffmpeg): the second time round comes from the frame cache, so the
// audio host sees one request, no ffmpeg runs under the bot, and the
// listener hears the same tone for both rounds.
func TestLoopPlaysFromTheFrameCache(t *testing.T) {
	t.Parallel()
	r := newRoom(t)
	host := audiohost.Start(t)
	r.play(t, host.URL(audiohost.FLAC), "Playing **flac**.")
	r.control(t, memberID, "Loop: track.", "loop", opt("mode", "track"))
	// Into the second round: 3 s of the first, then 1 s more.
	r.waitFrames(t, 200, 20*time.Second)
	if n := len(descendants(t, r.bot.cmd.Process.Pid)); n != 0 {
		t.Errorf("%d processes under the bot in the second round, want none:%s", n, commands(descendants(t, r.bot.cmd.Process.Pid)))
	}
	r.waitFrames(t, 300, 10*time.Second)
	r.control(t, memberID, "Stopped, cleared the queue and left the channel.", "stop")
	if n := host.Requests(audiohost.FLAC); n != 1 {
		t.Errorf("the audio host had %d requests for the track, want 1", n)
	}
	var heard time.Duration
	for _, run := range audiocheck.Runs(listen(t, r.heard(t)), toneTolerance) {
		if !near(run.Frequency, 660) {
			t.Errorf("heard %v of %.0f Hz, want only 660 Hz", run.Duration, run.Frequency)
		}
		heard += run.Duration
	}
	if heard < 5500*time.Millisecond {
		t.Errorf("heard %v of 660 Hz, want two rounds of 3 s", heard)
	}
}
