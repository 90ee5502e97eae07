package e2e

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/iddv/timmybot/app/audio/ogg"
	"github.com/iddv/timmybot/test/audiocheck"
	"github.com/iddv/timmybot/test/audiohost"
	"github.com/iddv/timmybot/test/fakediscord"
)

// strangerID is a member of the approved guild in no voice channel.
const strangerID = "400000000000000009"

// toneTolerance is how far apart, in Hz, two windows may be and still
// belong to one tone.
const toneTolerance = 15

// sent is how many frames the bot has sent so far.
func (r *room) sent() int { return len(r.voice.Frames()) }

// play runs /play as the member and checks the reply starts with want.
func (h *harness) play(t testing.TB, url, want string) {
	t.Helper()
	msg := h.do(t, h.approved.ID, memberID, "play", opt("query", url))
	if !strings.HasPrefix(msg.Content, want) {
		t.Fatalf("/play %s answered %q, want %q…\n%s", url, msg.Content, want, h.bot.logs)
	}
}

// control runs a playback command as user and checks the reply.
func (h *harness) control(t testing.TB, user, want, name string, opts ...fakediscord.Option) {
	t.Helper()
	if msg := h.do(t, h.approved.ID, user, name, opts...); msg.Content != want {
		t.Fatalf("/%s answered %q, want %q\n%s", name, msg.Content, want, h.bot.logs)
	}
}

// refusedControl is what a member outside the bot's channel is told.
func (h *harness) refusedControl() string {
	return "Join <#" + voiceChannel(h.approved) + "> to control the music."
}

// quietFor is longer than a track takes to load, ffmpeg's start included,
// on a loaded machine.
const quietFor = 2500 * time.Millisecond

// waitQuiet waits until the bot stopped sending: its last frame is silence
// and nothing followed for quietFor.
func (r *room) waitQuiet(t testing.TB, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		n := r.sent()
		ctx, cancel := context.WithTimeout(context.Background(), quietFor)
		err := r.voice.WaitFrames(ctx, n+1)
		cancel()
		if err != nil && n > 0 && bytes.Equal(r.voice.Frames()[n-1].Payload, opusSilence) {
			return
		}
	}
	t.Fatalf("the bot still sends audio after %v (%d frames)", within, r.sent())
}

// audible counts the frames that are not silence.
func audible(frames [][]byte) int { return len(withoutSilence(frames)) }

// withoutSilence is frames with the silence frames left out.
func withoutSilence(frames [][]byte) [][]byte {
	var out [][]byte
	for _, f := range frames {
		if !bytes.Equal(f, opusSilence) {
			out = append(out, f)
		}
	}
	return out
}

// longestSilence is the longest run of silence frames in frames.
func longestSilence(frames [][]byte) int {
	longest, run := 0, 0
	for _, f := range frames {
		if bytes.Equal(f, opusSilence) {
			run++
			longest = max(longest, run)
			continue
		}
		run = 0
	}
	return longest
}

// frameDuration is the length of one voice frame.
const frameDuration = 20 * time.Millisecond

// near reports whether a tone's frequency is f.
func near(got, f float64) bool { return math.Abs(got-f) <= toneTolerance }

// playWithFLACNext starts a room playing track with the FLAC (660 Hz)
// queued after it, half a second in.
func playWithFLACNext(t *testing.T, track string) *room {
	t.Helper()
	r := newRoom(t)
	host := audiohost.Start(t)
	r.play(t, host.URL(track), "Playing **"+track+"**.")
	r.play(t, host.URL(audiohost.FLAC), "Queued **flac**")
	r.waitFrames(t, 25, 10*time.Second)
	return r
}

// TestSkipPlaysTheNextTrack plays an MP3 (440 Hz) with a FLAC (660 Hz)
// queued after it: a member outside the bot's channel may not skip; the
// member in it skips, and the listener hears the MP3 cut short, then the
// FLAC whole.
func TestSkipPlaysTheNextTrack(t *testing.T) {
	t.Parallel()
	r := playWithFLACNext(t, audiohost.MP3)

	msg := r.do(t, r.approved.ID, strangerID, "skip")
	if msg.Content != r.refusedControl() || !msg.Ephemeral() {
		t.Fatalf("/skip from outside the channel answered %q (ephemeral %v), want %q", msg.Content, msg.Ephemeral(), r.refusedControl())
	}
	r.control(t, memberID, "Skipped **mp3**.", "skip")
	r.waitQuiet(t, 15*time.Second)

	runs := audiocheck.Runs(listen(t, r.heard(t)), toneTolerance)
	t.Logf("runs: %+v", runs)
	if len(runs) != 2 || !near(runs[0].Frequency, 440) || !near(runs[1].Frequency, 660) {
		t.Fatalf("heard %+v, want 440 Hz then 660 Hz", runs)
	}
	if runs[0].Duration > 1500*time.Millisecond {
		t.Errorf("the MP3 played %v; the skip came after 0.5 s", runs[0].Duration)
	}
	if d := runs[1].Duration; d < 2900*time.Millisecond || d > 3100*time.Millisecond {
		t.Errorf("the FLAC played %v, want all of its 3 s", d)
	}
}

// TestSeekLandsWhereAsked seeks in tracks whose content tells the
// position: the Steps FLAC (transcoded: 440, 660, 880 Hz, one second
// each), where what follows a seek to 0:02 must be 880 Hz for 1 s, and the
// Opus and WebM files (passed through), whose packets arrive byte for byte,
// so the first packet after the seek must be the one at the position.
func TestSeekLandsWhereAsked(t *testing.T) {
	t.Parallel()
	host := audiohost.Start(t)
	tests := []struct {
		name  string
		track string
		seek  string
		reply string
		// passthrough: the packet the seek must land on, counted from
		// the packet playing when it switched; absolute: from 0.
		relative bool
		packet   int
	}{
		{name: "transcoded absolute", track: audiohost.Steps, seek: "0:02", reply: "Seeking to 0:02."},
		{name: "transcoded relative", track: audiohost.Steps, seek: "+1", relative: true},
		{name: "passthrough Ogg absolute", track: audiohost.Opus, seek: "0:02", reply: "Seeking to 0:02.", packet: 100},
		{name: "passthrough WebM relative", track: audiohost.WebM, seek: "+1", relative: true, packet: 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newRoom(t)
			r.play(t, host.URL(tt.track), "Playing **"+tt.track+"**.")
			r.waitFrames(t, 15, 10*time.Second)
			// The position when the command arrives: between what was
			// sent before it and what was sent by its reply.
			before := r.sent()
			msg := r.do(t, r.approved.ID, memberID, "seek", opt("position", tt.seek))
			after := r.sent()
			if !strings.HasPrefix(msg.Content, "Seeking to ") || (tt.reply != "" && msg.Content != tt.reply) {
				t.Fatalf("/seek %s answered %q, want %q", tt.seek, msg.Content, tt.reply)
			}
			r.waitQuiet(t, 15*time.Second)
			heard := r.heard(t)

			if tt.track == audiohost.Steps {
				runs := audiocheck.Runs(listen(t, heard), toneTolerance)
				t.Logf("runs: %+v", runs)
				last := runs[len(runs)-1]
				if !near(runs[0].Frequency, 440) || !near(last.Frequency, 880) {
					t.Fatalf("heard %+v, want 440 Hz first and 880 Hz last", runs)
				}
				if last.Duration < 900*time.Millisecond || last.Duration > 1100*time.Millisecond {
					t.Errorf("880 Hz lasted %v after the seek, want 1 s ± 100 ms", last.Duration)
				}
				if tt.relative {
					// It lands one second after the position the command
					// came at, wherever the old stream played on to while
					// ffmpeg started: the 660 Hz heard after the jump says
					// where (660 Hz ends at 2 s).
					if len(runs) != 3 || !near(runs[1].Frequency, 660) {
						t.Fatalf("heard %+v, want 440, 660 and 880 Hz", runs)
					}
					landed := 2*time.Second - runs[1].Duration
					lo := time.Duration(before)*frameDuration + time.Second - 100*time.Millisecond
					hi := time.Duration(after)*frameDuration + time.Second + 100*time.Millisecond
					if landed < lo || landed > hi {
						t.Errorf("/seek +1 landed at %v, want within 100 ms of %v-%v", landed, lo+100*time.Millisecond, hi-100*time.Millisecond)
					}
				}
				return
			}

			var packets [][]byte
			if tt.track == audiohost.WebM {
				packets = webmPackets(t, host.File(tt.track))
			} else {
				packets = oggPackets(t, host.File(tt.track))
			}
			at := 0 // where what was heard leaves the file's order
			for at < len(heard) && at < len(packets) && bytes.Equal(heard[at], packets[at]) {
				at++
			}
			want := tt.packet
			if tt.relative {
				want += at
			}
			rest := heard[at : len(heard)-5] // the last five are the closing silence
			if len(rest) != len(packets)-want {
				t.Fatalf("after the seek at packet %d, %d packets arrived, want %d (from packet %d)", at, len(rest), len(packets)-want, want)
			}
			for i, p := range rest {
				if !bytes.Equal(p, packets[want+i]) {
					t.Fatalf("frame %d after the seek is not packet %d of the file", i, want+i)
				}
			}
		})
	}
}

// oggPackets splits an Ogg Opus file into its audio packets.
func oggPackets(t *testing.T, file []byte) [][]byte {
	t.Helper()
	r := ogg.NewReader(bytes.NewReader(file))
	if _, err := r.Head(); err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for {
		p, err := r.ReadPacket()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, append([]byte(nil), p...))
	}
}

// switchWithin bounds the time from an effect change to the first frame
// that has it: a new ffmpeg opens the track at the position and encodes
// ahead. That takes about 200 ms on a quiet machine and up to 1.3 s on a
// CI runner busy with the other tests; a change that waited for the 3 s
// read-ahead buffer to drain would take longer than the bound, which is
// what this guards. The latency itself is BenchmarkSwitchToEffects's
// (app/audio) to measure.
const switchWithin = 2 * time.Second

// TestVolumeChangesTheLevel sets /volume 50 a second into a track, passed
// through (Ogg Opus, which the change moves to ffmpeg) and transcoded
// (MP3): what follows is 6 dB quieter, it comes within switchWithin of
// the command, and the change leaves no gap longer than three silence frames.
func TestVolumeChangesTheLevel(t *testing.T) {
	t.Parallel()
	host := audiohost.Start(t)
	for _, track := range []string{audiohost.Opus, audiohost.MP3} {
		t.Run(track, func(t *testing.T) {
			t.Parallel()
			r := newRoom(t)
			r.play(t, host.URL(track), "Playing **"+track+"**.")
			r.waitFrames(t, 50, 10*time.Second)
			asked := r.sent()
			r.control(t, memberID, "Volume 50%.", "volume", opt("percent", 50))
			r.waitQuiet(t, 15*time.Second)
			heard := r.heard(t)
			windows := listen(t, heard)
			const perWindow = int(audiocheck.WindowSize / frameDuration)

			// The first window a quarter quieter than the ones before
			// the command is where the change came.
			before := audiocheck.MeanLevel(windows[:asked/perWindow], 2)
			switched := asked / perWindow
			for switched < len(windows) && windows[switched].Level > before-3 {
				switched++
			}
			if switched >= len(windows)-5 {
				t.Fatalf("the level never dropped below %.1f dBFS: %+v", before-3, windows)
			}
			if late := time.Duration(switched*perWindow-asked) * frameDuration; late > switchWithin {
				t.Errorf("the volume changed %v after the command, want within %v", late, switchWithin)
			}
			// The window after the switch and the last two (the end of the
			// track) are left out of the level.
			after := audiocheck.MeanLevel(windows[switched+1:len(windows)-2], 0)
			t.Logf("level %.1f → %.1f dBFS, switched at window %d, command at frame %d", before, after, switched, asked)
			if change := after - before; math.Abs(change+6.02) > 1.5 {
				t.Errorf("the level went from %.1f to %.1f dBFS (%+.1f dB), want -6 dB ± 1.5", before, after, change)
			}
			around := heard[max(asked-25, 0):min(switched*perWindow+25, len(heard))]
			if n := longestSilence(around); n > 3 {
				t.Errorf("%d silence frames in a row around the change, want at most 3", n)
			}
			// It goes on from where it was: all 3 s of the track are heard.
			if n := audible(heard); n < 148 || n > 152 {
				t.Errorf("%d frames of audio, want the track's 150", n)
			}
		})
	}
}

// TestPauseAndResume pauses the Steps track halfway through its 660 Hz
// second: the bot closes with silence and then sends nothing; /resume goes
// on from there, so each tone is heard once, for its second.
func TestPauseAndResume(t *testing.T) {
	t.Parallel()
	r := newRoom(t)
	host := audiohost.Start(t)
	r.play(t, host.URL(audiohost.Steps), "Playing **steps**.")
	r.waitFrames(t, 75, 10*time.Second)
	r.control(t, memberID, "Paused. `/resume` to go on.", "pause")
	r.expectPaused(t)
	r.control(t, memberID, "Resumed.", "resume")
	r.waitQuiet(t, 15*time.Second)
	heard := r.heard(t)
	expectStepsOnce(t, heard)
}

// expectPaused checks that the bot sends nothing more than the closing
// silence frames after the last audio frame.
func (r *room) expectPaused(t testing.TB) {
	t.Helper()
	time.Sleep(300 * time.Millisecond) // the closing silence goes out
	paused := r.voice.Frames()
	time.Sleep(500 * time.Millisecond)
	if n := r.sent(); n != len(paused) {
		t.Fatalf("the bot sent %d frames while paused", n-len(paused))
	}
	silent := 0
	for i := len(paused) - 1; i >= 0 && bytes.Equal(paused[i].Payload, opusSilence); i-- {
		silent++
	}
	if silent != 5 {
		t.Errorf("the bot sent %d silence frames after the last audio frame, want 5", silent)
	}
}

// expectStepsOnce checks that the Steps track was heard once, in order:
// 440, 660 and 880 Hz, its 150 frames, nothing replayed.
func expectStepsOnce(t testing.TB, heard [][]byte) {
	t.Helper()
	runs := audiocheck.Runs(listen(t, heard), toneTolerance)
	t.Logf("runs: %+v", runs)
	var tones []float64
	for _, run := range runs {
		if len(tones) == 0 || !near(tones[len(tones)-1], run.Frequency) {
			tones = append(tones, run.Frequency)
		}
	}
	if len(tones) != 3 || !near(tones[0], 440) || !near(tones[1], 660) || !near(tones[2], 880) {
		t.Errorf("heard tones %v, want 440, 660 and 880 Hz once each", tones)
	}
	if n := audible(heard); n < 148 || n > 152 {
		t.Errorf("%d frames of audio, want the track's 150", n)
	}
}

// nowPlayingMessage waits for the now-playing message to offer button.
func (h *harness) nowPlayingMessage(t testing.TB, button string) fakediscord.Message {
	t.Helper()
	return h.awaitNowPlaying(t, 10*time.Second, "with "+button, func(m fakediscord.Message) bool { return hasButton(m.Components, button) })
}

// awaitNowPlaying waits up to within for a message with an embed in the
// approved guild's text channel that satisfies ok, and returns it.
func (h *harness) awaitNowPlaying(t testing.TB, within time.Duration, what string, ok func(fakediscord.Message) bool) fakediscord.Message {
	t.Helper()
	text := h.approved.Channels[0].ID
	var found fakediscord.Message
	ctx, cancel := contextWithin(within)
	defer cancel()
	err := h.fake.Await(ctx, func(s *fakediscord.Server) bool {
		for _, m := range s.Messages(text) {
			if len(m.Embeds) > 0 && ok(m) {
				found = m
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("no now-playing message %s: %v\n%+v", what, err, h.fake.Messages(text))
	}
	return found
}

func hasButton(cs []fakediscord.Component, id string) bool {
	for _, c := range cs {
		if c.CustomID == id || hasButton(c.Components, id) {
			return true
		}
	}
	return false
}

// click presses a now-playing button as user and returns the reply.
func (h *harness) click(t testing.TB, user, button string) fakediscord.Message {
	t.Helper()
	msg := h.nowPlayingMessage(t, button)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := h.fake.Click(ctx, fakediscord.Click{MessageID: msg.ID, CustomID: button, UserID: user})
	if err != nil {
		t.Fatalf("clicking %s: %v\n%s", button, err, h.bot.logs)
	}
	return resp.Message
}

// TestNowPlayingButtons drives the Steps track, with the FLAC queued after
// it, from the now-playing message: Pause stops the audio, a member outside
// the channel cannot press Resume, the member can, and Skip moves on to the
// FLAC.
func TestNowPlayingButtons(t *testing.T) {
	t.Parallel()
	r := playWithFLACNext(t, audiohost.Steps)

	r.click(t, memberID, "np:pause")
	r.expectPaused(t)
	if msg := r.click(t, strangerID, "np:resume"); msg.Content != r.refusedControl() || !msg.Ephemeral() {
		t.Fatalf("Resume from outside the channel answered %q (ephemeral %v), want %q", msg.Content, msg.Ephemeral(), r.refusedControl())
	}
	r.expectPaused(t)
	r.click(t, memberID, "np:resume")
	r.waitFrames(t, r.sent()+25, 10*time.Second)
	r.click(t, memberID, "np:skip")
	r.waitQuiet(t, 15*time.Second)

	runs := audiocheck.Runs(listen(t, r.heard(t)), toneTolerance)
	t.Logf("runs: %+v", runs)
	last := runs[len(runs)-1]
	if !near(runs[0].Frequency, 440) || !near(last.Frequency, 660) || last.Duration < 2900*time.Millisecond {
		t.Errorf("heard %+v, want Steps from 440 Hz, then the FLAC's 660 Hz for 3 s", runs)
	}
	for _, run := range runs {
		if near(run.Frequency, 880) {
			t.Errorf("heard the end of Steps (880 Hz) although it was skipped: %+v", runs)
		}
	}
}
