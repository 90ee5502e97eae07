package discord

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/google/go-cmp/cmp"

	"github.com/iddv/timmybot/app/music"
)

// /play of a playlist's page queues its tracks in order with the
// resolver's note; next: moves only a single track; tracks longer than
// the duration limit are refused alone and left out of a list.
func TestPlayPageTracks(t *testing.T) {
	const hour = time.Hour
	song := func(name string, d time.Duration) music.Track {
		return music.Track{Title: name, URL: "https://www.youtube.com/watch?v=" + name, Duration: d, Source: "ytdlp"}
	}
	tests := []struct {
		name      string
		tracks    []music.Track
		note      string
		next      bool
		want      string
		wantQueue []string
	}{
		{name: "a playlist", tracks: []music.Track{song("a", hour), song("b", 0), song("c", 2*hour)},
			want: "Queued 3 tracks from position 3.", wantQueue: []string{"q0", "q1", "a", "b", "c"}},
		{name: "a playlist with the resolver's note", tracks: []music.Track{song("a", 0), song("b", 0)}, note: "Only the first 2 of its 9 tracks were taken (the limit is 2).",
			want: "Queued 2 tracks from position 3. Only the first 2 of its 9 tracks were taken (the limit is 2).", wantQueue: []string{"q0", "q1", "a", "b"}},
		{name: "next keeps a list at the end", tracks: []music.Track{song("a", 0), song("b", 0)}, next: true,
			want: "Queued 2 tracks from position 3.", wantQueue: []string{"q0", "q1", "a", "b"}},
		{name: "next moves a single track", tracks: []music.Track{song("a", 0)}, next: true,
			want: "Queued **a** at position 2.", wantQueue: []string{"q0", "a", "q1"}},
		{name: "a track over the limit", tracks: []music.Track{song("a", 2*hour + time.Second)},
			want: "That track is longer than the 2-hour limit.", wantQueue: []string{"q0", "q1"}},
		{name: "a list's track over the limit", tracks: []music.Track{song("a", 0), song("long", 3*hour), song("b", 0)}, note: "Left out 1 track on a site TimmyBot does not play from.",
			want: "Queued 2 tracks from position 3. Left out 1 track on a site TimmyBot does not play from. Left out 1 track longer than the 2-hour limit.", wantQueue: []string{"q0", "q1", "a", "b"}},
		{name: "a list's tracks over the limit", tracks: []music.Track{song("long", 3*hour), song("a", 0), song("longer", 4*hour)},
			want: "Queued **a** at position 3. Left out 2 tracks longer than the 2-hour limit.", wantQueue: []string{"q0", "q1", "a"}},
		{name: "a list of tracks over the limit", tracks: []music.Track{song("long", 3*hour), song("longer", 4*hour)},
			want: "Every track of that list is longer than the 2-hour limit.", wantQueue: []string{"q0", "q1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newPlayFixture(t, true)
				f.h.Pages = &pages{host: "www.youtube.com", tracks: tt.tracks, note: tt.note}
				f.h.MaxTrackDuration = 2 * hour
				if _, err := f.queue.Enqueue(context.Background(), testGuild, files("q", 2)...); err != nil {
					t.Fatal(err)
				}
				opts := []*discordgo.ApplicationCommandInteractionDataOption{str("query", "https://www.youtube.com/playlist?list=PL1")}
				if tt.next {
					opts = append(opts, boolean("next", true))
				}
				id, done := f.start("play", opts...)
				<-done
				if got := last(f.said.of(id)); got != tt.want {
					t.Errorf("/play answered %q, want %q", got, tt.want)
				}
				if diff := cmp.Diff(tt.wantQueue, f.titles(t)); diff != "" {
					t.Errorf("queue (-want +got):\n%s", diff)
				}
			})
		})
	}
}
