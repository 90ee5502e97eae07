package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/iddv/timmybot/test/fakediscord"
)

// sub is a subcommand with its options.
func sub(name string, opts ...fakediscord.Option) fakediscord.Option {
	return fakediscord.Option{Name: name, Options: opts}
}

// TestSavedPlaylistPlaysWithTheStartersSettings: a member saves the queue,
// and their /playlist load brings it back in order after a /stop, through
// the same start as /play: at the volume they chose in /settings, and with
// no now-playing message, since they turned announcements off.
func TestSavedPlaylistPlaysWithTheStartersSettings(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	g := h.approved.ID
	const name = "Käse 🎵"

	if msg := h.do(t, g, memberID, "settings", opt("volume", 40), opt("announce", false)); !strings.Contains(msg.Content, "Volume when you start the music: 40%") || !strings.Contains(msg.Content, "Announce songs: off") || !msg.Ephemeral() {
		t.Fatalf("/settings answered %q", msg.Content)
	}
	h.play(t, h.track("albums/first%20song.mp3"), "Playing **first song.mp3**.")
	h.play(t, h.track("second.ogg"), "Queued **second.ogg** at position 2.")
	if msg := h.do(t, g, memberID, "playlist", sub("save", opt("name", name))); msg.Content != "Saved **"+name+"** (2 tracks)." {
		t.Fatalf("/playlist save answered %q", msg.Content)
	}
	h.do(t, g, memberID, "stop")

	if msg := h.do(t, g, memberID, "playlist", sub("load", opt("name", name))); msg.Content != "Queued **"+name+"**: 2 tracks from position 1." {
		t.Fatalf("/playlist load answered %q\n%s", msg.Content, h.bot.logs)
	}
	q := h.do(t, g, memberID, "queue")
	if len(q.Embeds) != 1 || !strings.Contains(q.Embeds[0].Description, "`1.` **[first song.mp3]") || !strings.Contains(q.Embeds[0].Description, "`2.` **[second.ogg]") {
		t.Errorf("/queue after the load = %+v", q)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.voice.WaitFrames(ctx, len(h.voice.Frames())+25); err != nil {
		t.Fatalf("no audio after the load: %v", err)
	}
	for _, m := range h.fake.Messages(h.approved.Channels[0].ID) {
		if hasButton(m.Components, "np:pause") {
			t.Errorf("a now-playing message was posted although the member turned announcements off: %+v", m)
		}
	}
	// Checked after the channel's messages: the answer carries the buttons too.
	if np := h.do(t, g, memberID, "nowplaying"); !strings.Contains(fmt.Sprintf("%+v", np.Embeds), "40%") {
		t.Errorf("/nowplaying after the load = %+v, want the member's 40%% volume", np.Embeds)
	}
}
