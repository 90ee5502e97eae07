package e2e

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/iddv/timmybot/app/audio/webm"
	"github.com/iddv/timmybot/test/audiocheck"
	"github.com/iddv/timmybot/test/audiohost"
	"github.com/iddv/timmybot/test/fakediscord"
)

// TestPlaybackReachesTheListener plays three tracks through the real
// binary: an MP3 (transcoded by ffmpeg), then WebM and Ogg Opus (passed
// through), and checks what a DAVE listener in the channel hears: each
// track's tone, in order, for its length, without a gap between tracks,
// and the WebM track's Opus packets byte for byte; the lengths of the MP3
// and the Ogg file, which their URLs do not say, show in /nowplaying.
func TestPlaybackReachesTheListener(t *testing.T) {
	t.Parallel()
	r := newRoom(t)
	host := audiohost.Start(t)
	g := r.approved.ID

	replies := map[string]bool{} // /nowplaying's answers, which are no now-playing message
	// nowPlaying asks what plays and checks that it shows name's 3 s.
	nowPlaying := func(name string) {
		t.Helper()
		np := r.do(t, g, memberID, "nowplaying")
		replies[np.ID] = true
		if len(np.Embeds) == 0 || !strings.Contains(np.Embeds[0].Description, name) || !strings.Contains(np.Embeds[0].Description, " / 0:03`") {
			t.Errorf("/nowplaying during %s = %+v, want its 0:03 length in the progress bar", name, np)
		}
	}
	for i, name := range []string{audiohost.MP3, audiohost.WebM, audiohost.Opus} {
		msg := r.do(t, g, memberID, "play", opt("query", host.URL(name)))
		want := "Queued **" + name + "**"
		if i == 0 {
			want = "Playing **" + name + "**."
		}
		if !strings.HasPrefix(msg.Content, want) {
			t.Fatalf("/play %s answered %q, want %q…\n%s", name, msg.Content, want, r.bot.logs)
		}
		if i == 0 {
			// The MP3's URL says no length: the audio does.
			r.waitFrames(t, 10, 30*time.Second)
			nowPlaying(name)
		}
	}
	// The Ogg file's URL says no length either: its last page does, which
	// the player hears of when it next reads from the file, once half its
	// buffer (1.5 s) has played.
	r.waitFrames(t, 300+80, 30*time.Second)
	nowPlaying(audiohost.Opus)
	// Three 3-second tracks are 450 frames; the five silence frames after
	// the last one say the queue ran out.
	r.waitFrames(t, 455, 30*time.Second)
	heard := r.heard(t)

	windows := listen(t, heard)
	t.Logf("runs: %+v", audiocheck.Runs(windows, 15))

	// Passthrough: the WebM file's packets arrive as they are.
	packets := webmPackets(t, host.File(audiohost.WebM))
	at := indexOf(heard, packets[0])
	if at < 0 {
		t.Fatalf("the WebM track's first packet never arrived; %d frames heard", len(heard))
	}
	for i, p := range packets {
		if at+i >= len(heard) || !bytes.Equal(heard[at+i], p) {
			t.Fatalf("WebM packet %d of %d differs from what arrived", i, len(packets))
		}
	}
	// Gapless: no silence frame between the MP3 and the WebM track.
	if at == 0 || bytes.Equal(heard[at-1], opusSilence) {
		t.Errorf("silence before the second track (frame %d)", at-1)
	}

	// One now-playing message, edited as the tracks went by: after the
	// last, it says nothing is playing.
	var np []fakediscord.Message
	for _, m := range r.fake.Messages(r.approved.Channels[0].ID) {
		if len(m.Embeds) > 0 && !replies[m.ID] {
			np = append(np, m)
		}
	}
	if len(np) != 1 || np[0].Embeds[0].Title != "Nothing playing" {
		t.Errorf("now-playing messages = %+v, want one saying nothing is playing", np)
	}
}

func webmPackets(t *testing.T, file []byte) [][]byte {
	t.Helper()
	rd, err := webm.NewReader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for {
		p, _, err := rd.ReadPacket()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, append([]byte(nil), p...))
	}
}

func indexOf(frames [][]byte, f []byte) int {
	for i, g := range frames {
		if bytes.Equal(g, f) {
			return i
		}
	}
	return -1
}
