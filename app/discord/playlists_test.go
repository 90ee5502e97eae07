package discord

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/google/go-cmp/cmp"

	"github.com/iddv/timmybot/app/localstore"
	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/player"
	"github.com/iddv/timmybot/app/storetest"
)

const (
	testGuild music.GuildID = "1"
	testUser  music.UserID  = "200"
)

// userHandlers returns handlers on a fresh embedded store, with the
// Discord state of audioWithState: user 200 listens in the bot's channel,
// user 300 in another.
func userHandlers(t *testing.T) (*Handlers, *localstore.Store) {
	t.Helper()
	clock := storetest.NewClock()
	store, err := localstore.Open(filepath.Join(t.TempDir(), "timmybot.db"), localstore.WithClock(clock.Now))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = store.Close() })
	return &Handlers{Queues: store, Preferences: store, Playlists: store, Now: clock.Now, audio: audioWithState(t, "")}, store
}

// queueN queues n tracks named prefix0, prefix1, ... in the test guild.
func queueN(t *testing.T, q music.QueueStore, prefix string, n int) []music.Track {
	t.Helper()
	tracks := make([]music.Track, n)
	for i := range tracks {
		tracks[i] = music.Track{Title: fmt.Sprintf("%s%d", prefix, i), URL: fmt.Sprintf("https://audio.example/%s%d.mp3", prefix, i), Source: "http", RequestedBy: "300"}
	}
	for start := 0; start < n; start += 100 {
		if _, err := q.Enqueue(context.Background(), testGuild, tracks[start:min(start+100, n)]...); err != nil {
			t.Fatalf("Enqueue: %v", err)
		}
	}
	return tracks
}

// run calls a handler as the test user and returns what the user sees:
// the reply's text (its embeds' too), or the error's message and code.
func run(t *testing.T, fn HandlerFunc, user music.UserID, options map[string]any) (text, code string) {
	t.Helper()
	reply, err := fn(context.Background(), &Request{Guild: testGuild, User: user, options: options})
	if err != nil {
		if music.ErrorCode(err) == music.EINTERNAL {
			t.Fatalf("internal error: %v", err)
		}
		return music.ErrorMessage(err), music.ErrorCode(err)
	}
	return reply.Content + embedsText(reply.Embeds), ""
}

func TestPlaylistCommands(t *testing.T) {
	h, store := userHandlers(t)
	const unicodeName = "Käse 🎵 音楽"
	steps := []struct {
		name     string
		queued   int // tracks queued (after clearing) before the step
		fn       HandlerFunc
		options  map[string]any
		user     music.UserID
		wantText string
		wantCode string
	}{
		{"list with none saved", 0, h.listPlaylists, nil, testUser, "no saved playlists yet", ""},
		{"save an empty queue", 0, h.savePlaylist, map[string]any{"name": "mix"}, testUser, "The queue is empty", music.EINVALID},
		{"save a blank name", 2, h.savePlaylist, map[string]any{"name": "   "}, testUser, "needs a name", music.EINVALID},
		{"save a name too long", 2, h.savePlaylist, map[string]any{"name": strings.Repeat("ü", music.MaxPlaylistNameLen+1)}, testUser, "at most 50 characters", music.EINVALID},
		{"save a unicode name", 3, h.savePlaylist, map[string]any{"name": " " + unicodeName + " "}, testUser, "Saved **" + unicodeName + "** (3 tracks)", ""},
		{"save over a taken name", 1, h.savePlaylist, map[string]any{"name": unicodeName}, testUser, "already have a playlist named \"" + unicodeName + "\": save with `overwrite:true`", music.ECONFLICT},
		{"save over it with overwrite", 2, h.savePlaylist, map[string]any{"name": unicodeName, "overwrite": true}, testUser, "Saved **" + unicodeName + "** (2 tracks)", ""},
		{"save a queue too long", music.MaxPlaylistTracks + 1, h.savePlaylist, map[string]any{"name": "big"}, testUser, "more than 500 tracks", music.EINVALID},
		{"save a full queue", music.MaxPlaylistTracks, h.savePlaylist, map[string]any{"name": "big"}, testUser, "Saved **big** (500 tracks)", ""},
		{"list", 0, h.listPlaylists, nil, testUser, "Your playlists (2 of 25)**Käse 🎵 音楽** — 2 tracks, saved <t:1772452800:R>\n**big** — 500 tracks", ""},
		{"another user's list", 0, h.listPlaylists, nil, "300", "no saved playlists yet", ""},
		{"load a missing playlist", 0, h.loadPlaylist, map[string]any{"name": "nope"}, testUser, "You have no playlist named \"nope\".", music.ENOTFOUND},
		{"load another user's playlist", 0, h.loadPlaylist, map[string]any{"name": "big"}, "300", "no playlist named \"big\"", music.ENOTFOUND},
		{"save as a member outside voice", 2, h.savePlaylist, map[string]any{"name": "mine"}, "400", "Saved **mine**", ""},
		{"load outside a voice channel", 0, h.loadPlaylist, map[string]any{"name": "mine"}, "400", "Join a voice channel first", music.EINVALID},
		{"delete a missing playlist", 0, h.deletePlaylist, map[string]any{"name": "nope"}, testUser, "no playlist named \"nope\"", music.ENOTFOUND},
		{"delete", 0, h.deletePlaylist, map[string]any{"name": unicodeName}, testUser, "Deleted **" + unicodeName + "**.", ""},
		{"load a deleted playlist", 0, h.loadPlaylist, map[string]any{"name": unicodeName}, testUser, "no playlist named", music.ENOTFOUND},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			if _, err := store.Clear(context.Background(), testGuild); err != nil {
				t.Fatal(err)
			}
			queueN(t, store, "t", step.queued)
			text, code := run(t, step.fn, step.user, step.options)
			if code != step.wantCode || !strings.Contains(text, step.wantText) {
				t.Errorf("got %q (code %q), want %q (code %q)", text, code, step.wantText, step.wantCode)
			}
			// A refused load queues nothing.
			if n, err := store.Len(context.Background(), testGuild); err != nil || n != step.queued {
				t.Errorf("queue holds %d tracks (%v) after the step, want the %d queued before it", n, err, step.queued)
			}
		})
	}
}

// A playlist saved before the duration limit was lowered is held to it
// when loaded: a track too long is refused, and nothing is queued.
func TestLoadPlaylistKeepsTheDurationLimit(t *testing.T) {
	h, store := userHandlers(t)
	h.MaxTrackDuration = 2 * time.Hour
	long := music.Track{Title: "a long mix", URL: "https://audio.example/mix.mp3", Source: "http", Duration: 3 * time.Hour}
	for _, p := range []music.SavedPlaylist{
		{User: testUser, Name: "one long", Tracks: []music.Track{long}},
		{User: testUser, Name: "all long", Tracks: []music.Track{long, long}},
	} {
		if err := store.SavePlaylist(context.Background(), p, false); err != nil {
			t.Fatal(err)
		}
	}
	for name, want := range map[string]string{
		"one long": "That track is longer than the 2-hour limit.",
		"all long": "Every track of that list is longer than the 2-hour limit.",
	} {
		text, code := run(t, h.loadPlaylist, testUser, map[string]any{"name": name})
		if code != music.EINVALID || text != want {
			t.Errorf("loading %q: got %q (code %q), want %q", name, text, code, want)
		}
	}
	if n, err := store.Len(context.Background(), testGuild); err != nil || n != 0 {
		t.Errorf("queue holds %d tracks (%v), want none", n, err)
	}
}

// A saved playlist keeps the tracks but not who queued them: /forget-me
// of another member cannot reach into this user's playlists.
func TestSavedPlaylistNamesNoRequester(t *testing.T) {
	h, store := userHandlers(t)
	queued := queueN(t, store, "t", 2)
	if text, code := run(t, h.savePlaylist, testUser, map[string]any{"name": "mix"}); code != "" {
		t.Fatalf("/playlist save = %q (%s)", text, code)
	}
	p, err := store.Playlist(context.Background(), testUser, "mix")
	if err != nil {
		t.Fatalf("Playlist: %v", err)
	}
	for i := range queued {
		queued[i].RequestedBy = ""
	}
	if diff := cmp.Diff(queued, p.Tracks); diff != "" {
		t.Errorf("saved tracks (-want +got):\n%s", diff)
	}
}

func TestSettingsCommand(t *testing.T) {
	h, store := userHandlers(t)
	steps := []struct {
		name    string
		user    music.UserID
		options map[string]any
		want    []string
		stored  music.Preferences
	}{
		{"show the defaults", testUser, nil,
			[]string{"Your settings:", "start the music: 100% (default)", "Announce songs: on", "Default service: none chosen"},
			music.Preferences{User: testUser}},
		{"set the volume", testUser, map[string]any{"volume": 150},
			[]string{"Saved.", "start the music: 150%", "Announce songs: on"},
			music.Preferences{User: testUser, Volume: 150}},
		{"turn announcements off, keeping the volume", testUser, map[string]any{"announce": false},
			[]string{"start the music: 150%", "Announce songs: off"},
			music.Preferences{User: testUser, Volume: 150, Quiet: true}},
		{"choose a service", testUser, map[string]any{"service": "spotify"},
			[]string{"150%", "Announce songs: off", "Default service: spotify"},
			music.Preferences{User: testUser, Volume: 150, Quiet: true, Source: "spotify"}},
		{"turn announcements on again", testUser, map[string]any{"announce": true, "volume": 200},
			[]string{"start the music: 200%", "Announce songs: on", "Default service: spotify"},
			music.Preferences{User: testUser, Volume: 200, Source: "spotify"}},
		{"show them", testUser, nil,
			[]string{"Your settings:", "200%", "Announce songs: on", "spotify"},
			music.Preferences{User: testUser, Volume: 200, Source: "spotify"}},
		{"another user keeps the defaults", "300", nil,
			[]string{"100% (default)", "Announce songs: on", "none chosen"},
			music.Preferences{User: "300"}},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			text, code := run(t, h.settings, step.user, step.options)
			if code != "" {
				t.Fatalf("/settings: %s (%s)", text, code)
			}
			for _, want := range step.want {
				if !strings.Contains(text, want) {
					t.Errorf("reply %q does not say %q", text, want)
				}
			}
			got, err := store.Preferences(context.Background(), step.user)
			if err != nil {
				t.Fatal(err)
			}
			got.UpdatedAt = time.Time{}
			if got != step.stored {
				t.Errorf("stored %+v, want %+v", got, step.stored)
			}
		})
	}
}

// sentMessages records the messages sent through it.
type sentMessages struct{ sent []*discordgo.MessageSend }

func (s *sentMessages) ChannelMessageSendComplex(_ string, data *discordgo.MessageSend, _ ...discordgo.RequestOption) (*discordgo.Message, error) {
	s.sent = append(s.sent, data)
	return &discordgo.Message{ID: fmt.Sprint(len(s.sent))}, nil
}

func (s *sentMessages) ChannelMessageEditComplex(*discordgo.MessageEdit, ...discordgo.RequestOption) (*discordgo.Message, error) {
	return &discordgo.Message{}, nil
}

// noAudio is an opener for players that never play.
type noAudio struct{}

func (noAudio) Open(context.Context, music.Track, time.Duration, player.Effects) (player.Frames, error) {
	return nil, errors.New("no audio in this test")
}

// TestStartingUserSettings: the user who starts the playback sets its
// volume (100 % when they chose none) and whether the now-playing message
// is posted.
func TestStartingUserSettings(t *testing.T) {
	_, store := userHandlers(t)
	tests := []struct {
		name       string
		prefs      music.Preferences
		wantVolume int
		wantPosted int
	}{
		{"no settings", music.Preferences{}, 100, 1},
		{"a default volume", music.Preferences{Volume: 40}, 40, 1},
		{"announcements off", music.Preferences{Volume: 180, Quiet: true}, 180, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := player.New(player.Config{Guild: testGuild, Queue: store, Opener: noAudio{}})
			t.Cleanup(func() { _ = p.Close() })
			if err := p.SetVolume(context.Background(), 70); err != nil { // a previous session's
				t.Fatal(err)
			}
			msgs := &sentMessages{}
			g := &guildAudio{player: p, ctx: context.Background(), np: &nowPlaying{channel: "40", session: msgs, log: slog.New(slog.DiscardHandler)}}
			if err := g.apply(context.Background(), tt.prefs); err != nil {
				t.Fatalf("apply: %v", err)
			}
			if got := p.Status().Volume; got != tt.wantVolume {
				t.Errorf("volume %d%%, want %d%%", got, tt.wantVolume)
			}
			g.showNowPlaying(player.Status{State: player.StatePlaying, Entry: music.Entry{Track: music.Track{Title: "song", URL: "https://audio.example/song.mp3"}}})
			if len(msgs.sent) != tt.wantPosted {
				t.Errorf("%d now-playing messages posted, want %d", len(msgs.sent), tt.wantPosted)
			}
		})
	}
}

// TestSavePlaylistBeyondTheLimit: a new name beyond the user's limit is
// refused with what to do; replacing one of the playlists is not.
func TestSavePlaylistBeyondTheLimit(t *testing.T) {
	h, store := userHandlers(t)
	tracks := queueN(t, store, "t", 1)
	for i := range music.MaxPlaylists {
		p := music.SavedPlaylist{User: testUser, Name: fmt.Sprintf("list %d", i), Tracks: tracks}
		if err := store.SavePlaylist(context.Background(), p, false); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name     string
		options  map[string]any
		wantText string
		wantCode string
	}{
		{"a new name", map[string]any{"name": "one more"}, "You can keep at most 25 playlists: delete one first.", music.EINVALID},
		{"replacing one", map[string]any{"name": "list 3", "overwrite": true}, "Saved **list 3** (1 track).", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, code := run(t, h.savePlaylist, testUser, tt.options)
			if code != tt.wantCode || text != tt.wantText {
				t.Errorf("got %q (code %q), want %q (code %q)", text, code, tt.wantText, tt.wantCode)
			}
		})
	}
}
