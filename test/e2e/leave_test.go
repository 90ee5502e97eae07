package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iddv/timmybot/test/fakediscord"
	"github.com/iddv/timmybot/test/fakevoice"
)

// leaveRequests counts the bot's requests to leave voice (op 4 with no
// channel).
func (h *harness) leaveRequests() int {
	n := 0
	for _, r := range h.fake.VoiceStateRequests() {
		if r.ChannelID == "" {
			n++
		}
	}
	return n
}

// waitLeave waits until the bot asked to leave voice n times.
func (h *harness) waitLeave(t testing.TB, n int, within time.Duration) {
	t.Helper()
	ctx, cancel := contextWithin(within)
	defer cancel()
	if err := h.fake.Await(ctx, func(*fakediscord.Server) bool { return h.leaveRequests() >= n }); err != nil {
		t.Fatalf("the bot did not leave voice within %v: %+v\n%s", within, h.fake.VoiceStateRequests(), h.bot.logs)
	}
}

// TestKickedFromTheChannel: Discord disconnects the bot (voice close 4014,
// then its voice state without a channel). The bot lets go at once,
// without waiting for a move: the now-playing message says Stopped,
// /nowplaying says nothing plays, and /play joins again.
func TestKickedFromTheChannel(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.play(t, h.track("first"), "Playing **first**.")
	h.nowPlayingMessage(t, "np:pause")
	h.voice.CloseConnections(4014)
	if err := h.fake.SetVoiceState(h.approved.ID, h.fake.BotUserID(), ""); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := contextWithin(3 * time.Second) // less than the 5 s a move may take
	defer cancel()
	text := h.approved.Channels[0].ID
	err := h.fake.Await(ctx, func(s *fakediscord.Server) bool {
		for _, m := range s.Messages(text) {
			if len(m.Embeds) > 0 && m.Embeds[0].Title == "Stopped" {
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("the now-playing message does not say Stopped: %+v\n%s", h.fake.Messages(text), h.bot.logs)
	}
	if msg := h.do(t, h.approved.ID, memberID, "nowplaying"); msg.Content != errNothingPlaying {
		t.Errorf("/nowplaying after the kick answered %q, want %q", msg.Content, errNothingPlaying)
	}
	frames := len(h.voice.Frames())
	// The queue outlives the kick: "first" plays again, then "second".
	h.play(t, h.track("second"), "Queued **second** at position 2.")
	ctx, cancel = contextWithin(10 * time.Second)
	defer cancel()
	if err := h.voice.WaitFrames(ctx, frames+10); err != nil {
		t.Fatalf("no audio after joining again: %v", err)
	}
}

// TestMovedToAnotherChannel: a member drags the bot to another channel,
// whose voice server is another one. The old server closes with 4014, the
// bot connects to the new one and the track plays on there, not from its
// start; the member left behind is told to join the new channel.
func TestMovedToAnotherChannel(t *testing.T) {
	t.Parallel()
	h := startHarness(t, setup{secondVoiceChannel: true})
	stage := h.approved.Channels[2].ID
	h.play(t, h.track("long"), "Playing **long**.")
	ctx, cancel := contextWithin(20 * time.Second)
	defer cancel()
	if err := h.voice.WaitFrames(ctx, 100); err != nil {
		t.Fatalf("no audio before the move: %v\n%s", err, h.bot.logs)
	}
	next := fakevoice.Start(t, fakevoice.Config{})
	h.voice.CloseConnections(4014)
	if err := h.fake.MoveBot(h.approved.ID, stage, next.Endpoint()); err != nil {
		t.Fatal(err)
	}
	if err := next.WaitFrames(ctx, 50); err != nil {
		t.Fatalf("no audio on the new channel's server: %v\n%s", err, h.bot.logs)
	}
	np := h.do(t, h.approved.ID, memberID, "nowplaying")
	if len(np.Embeds) == 0 || !strings.Contains(np.Embeds[0].Description, "long") {
		t.Fatalf("/nowplaying after the move = %+v", np)
	}
	if pos := shownPosition(t, np.Embeds[0].Description); pos < 2*time.Second {
		t.Errorf("/nowplaying after the move is at %v: the track started again", pos)
	}
	if got, want := h.do(t, h.approved.ID, memberID, "pause").Content, "Join <#"+stage+"> to control the music."; got != want {
		t.Errorf("/pause from the old channel answered %q, want %q", got, want)
	}
	if n := next.Count("identify"); n != 1 {
		t.Errorf("the new server saw %d identifies, want 1", n)
	}
}

// shownPosition is the position a now-playing embed's progress line shows:
// "▬▬🔘▬ `1:23 / 3:45`", or "`1:23` · live or unknown length".
func shownPosition(t testing.TB, description string) time.Duration {
	t.Helper()
	_, bar, _ := strings.Cut(description, "\n")
	_, clock, _ := strings.Cut(bar, "`")
	clock, _, _ = strings.Cut(clock, " ")
	clock = strings.TrimSuffix(clock, "`")
	var d time.Duration
	for part := range strings.SplitSeq(clock, ":") {
		n, err := strconv.Atoi(part)
		if err != nil {
			t.Fatalf("no position in %q: %v", description, err)
		}
		d = d*60 + time.Duration(n)*time.Second
	}
	return d
}

// errNothingPlaying is the reply to a control with nothing playing.
const errNothingPlaying = "Nothing is playing. Queue something with `/play query:<url>`."

// TestIdleTimeout: with a 2 s idle timeout the bot leaves the channel 2 s
// after the queue ran out, unless 24/7 is on.
func TestIdleTimeout(t *testing.T) {
	t.Parallel()
	for _, alwaysOn := range []bool{false, true} {
		name := "leaves"
		if alwaysOn {
			name = "stays with 24/7"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, "TIMMYBOT_IDLE_TIMEOUT=2s")
			h.play(t, h.track("only"), "Playing **only**.")
			if alwaysOn {
				h.control(t, memberID, "24/7 on: I'll stay in the channel.", "247", opt("enabled", true))
			}
			h.control(t, memberID, "Skipped **only**.", "skip")
			ranOut := time.Now()
			if alwaysOn {
				time.Sleep(3500 * time.Millisecond)
				if n := h.leaveRequests(); n != 0 {
					t.Fatalf("the bot left voice with 24/7 on: %+v", h.fake.VoiceStateRequests())
				}
				return
			}
			h.waitLeave(t, 1, 6*time.Second)
			if idle := time.Since(ranOut); idle < 1500*time.Millisecond {
				t.Errorf("the bot left %v after the queue ran out, before the 2 s timeout", idle)
			}
		})
	}
}
