package discord

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/player"
)

// The now-playing message shows the track's artwork as the embed's
// thumbnail, none when the track has none or one Discord would refuse, and
// the progress bar runs to the length the player knows.
func TestNowPlayingMessage(t *testing.T) {
	const art = "https://i.scdn.co/image/ab67616d0000b273"
	tests := []struct {
		name      string
		artwork   string
		duration  time.Duration
		wantThumb string
		wantBar   string
	}{
		{name: "artwork and length", artwork: art, duration: 3*time.Minute + 12*time.Second, wantThumb: art, wantBar: "`1:00 / 3:12`"},
		{name: "no artwork", duration: time.Minute, wantBar: "`1:00 / 1:00`"},
		{name: "artwork Discord refuses", artwork: "attachment://cover.png", wantBar: "`1:00` · live or unknown length"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msgs := &sentMessages{}
			np := &nowPlaying{channel: "40", session: msgs, log: slog.New(slog.DiscardHandler)}
			tr := music.Track{Title: "song", URL: "https://audio.example/song.ogg", ArtworkURL: tt.artwork}
			np.show(context.Background(), player.Status{State: player.StatePlaying, Entry: music.Entry{Track: tr}, Position: time.Minute, Duration: tt.duration, Volume: 100})
			if len(msgs.sent) != 1 || len(msgs.sent[0].Embeds) != 1 {
				t.Fatalf("sent %+v, want one message with one embed", msgs.sent)
			}
			e := msgs.sent[0].Embeds[0]
			var thumb string
			if e.Thumbnail != nil {
				thumb = e.Thumbnail.URL
			}
			if thumb != tt.wantThumb {
				t.Errorf("thumbnail %q, want %q", thumb, tt.wantThumb)
			}
			if !strings.HasSuffix(e.Description, tt.wantBar) {
				t.Errorf("description %q does not end in %q", e.Description, tt.wantBar)
			}
		})
	}
}

// A track whose requester /forget-me forgot names nobody: the now-playing
// message has no "Requested by" field and the queue line no mention.
func TestNowPlayingOfAForgottenRequester(t *testing.T) {
	st := player.Status{State: player.StatePlaying, Volume: 100,
		Entry: music.Entry{Track: music.Track{Title: "Together Forever", URL: "https://audio.example/t.mp3", Duration: time.Minute}}}
	var fields []string
	for _, f := range nowPlayingStatusEmbeds(st)[0].Fields {
		fields = append(fields, f.Name+": "+f.Value)
	}
	if got := strings.Join(fields, "\n"); strings.Contains(got, "Requested by") || !strings.Contains(got, "Volume: 100%") {
		t.Errorf("fields %q, want the volume and no requester", got)
	}
	page := music.QueuePage{Entries: []music.Entry{st.Entry}, Total: 1}
	if line, want := queueEmbeds(page, 1, 1)[0].Description, "`1.` **[Together Forever](https://audio.example/t.mp3)** `1:00`"; line != want {
		t.Errorf("queue line %q, want %q", line, want)
	}
}
