package discord

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/iddv/timmybot/app/localstore"
	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/storetest"
)

// dms records the direct messages the handlers send.
type dms []string

func (d *dms) DirectMessage(_ context.Context, user music.UserID, text string) error {
	*d = append(*d, fmt.Sprintf("%s: %s", user, text))
	return nil
}

// TestRequestAccessThrottlesOwnerMessages asks for one guild's access as
// several members over time: every ask is recorded, a repeat is told it is
// pending, and the owners hear about the request once per interval with the
// number of asks.
func TestRequestAccessThrottlesOwnerMessages(t *testing.T) {
	clock := storetest.NewClock()
	store, err := localstore.Open(filepath.Join(t.TempDir(), "timmybot.db"), localstore.WithClock(clock.Now))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = store.Close() })
	var sent dms
	h := &Handlers{
		Allowlist: store,
		Notifier:  &sent,
		Owners:    []music.UserID{"900000000000000001", "900000000000000002"},
		GuildName: func(music.GuildID) string { return "Band Room" },
		Now:       clock.Now,
	}
	const guild = "100000000000000001"
	steps := []struct {
		name      string
		user      music.UserID
		after     time.Duration // clock advance before the ask
		wantReply string
		wantDMs   int // to each owner, in all so far
		wantAsks  string
	}{
		{"first ask tells the owners", "200000000000000001", 0, "sent to TimmyBot's owners", 1, "1 ask so far"},
		{"a repeat is pending", "200000000000000001", time.Minute, "already asked", 1, ""},
		{"a second member within the interval is only recorded", "200000000000000002", time.Hour, "added to this server's pending request", 1, ""},
		{"a third member once the interval passed tells the owners again", "200000000000000003", music.NotifyOwnersEvery, "sent to TimmyBot's owners", 2, "3 asks so far"},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			clock.Advance(step.after)
			req := &Request{Guild: guild, User: step.user, Command: "request-access", options: map[string]any{"reason": "we play music"}}
			reply, err := h.requestAccess(context.Background(), req)
			if err != nil {
				// The router shows a conflict's message as an ephemeral reply.
				if music.ErrorCode(err) != music.ECONFLICT {
					t.Fatalf("/request-access: %v", err)
				}
				reply = ephemeral("%s", music.ErrorMessage(err))
			}
			if !strings.Contains(reply.Content, step.wantReply) || !reply.Ephemeral {
				t.Errorf("reply %+v, want an ephemeral %q", reply, step.wantReply)
			}
			if len(sent) != step.wantDMs*len(h.Owners) {
				t.Fatalf("%d direct messages sent, want %d to each of %d owners:\n%s", len(sent), step.wantDMs, len(h.Owners), strings.Join(sent, "\n"))
			}
			if last := sent[len(sent)-1]; step.wantAsks != "" && !strings.Contains(last, step.wantAsks) {
				t.Errorf("last direct message %q does not say %q", last, step.wantAsks)
			}
		})
	}
	reqs, err := store.Requests(context.Background())
	if err != nil || len(reqs) != 1 || reqs[0].Asks != 3 {
		t.Fatalf("Requests = %+v, %v; want one request with 3 asks", reqs, err)
	}
}

// pages is a page resolver for the sites it lists, answering every page
// with its tracks and note.
type pages struct {
	host   string
	tracks []music.Track
	note   string
	err    error
	asked  []string
}

func (p *pages) Handles(u *url.URL) bool { return u.Hostname() == p.host }

func (p *pages) Tracks(_ context.Context, page string) ([]music.Track, string, error) {
	p.asked = append(p.asked, page)
	return append([]music.Track(nil), p.tracks...), p.note, p.err
}

// TestTracksFor: a page of a site the resolver handles is queued as what
// it resolves to, a playlist's page as its tracks with the resolver's
// note; any other URL as a file named after its path.
func TestTracksFor(t *testing.T) {
	const user = music.UserID("200000000000000001")
	video := music.Track{Title: "A video", URL: "https://www.youtube.com/watch?v=x", Duration: time.Minute, Source: "ytdlp"}
	second := music.Track{Title: "Another", URL: "https://www.youtube.com/watch?v=y", Source: "ytdlp"}
	mine := func(tracks ...music.Track) []music.Track {
		for i := range tracks {
			tracks[i].RequestedBy = user
		}
		return tracks
	}
	tests := []struct {
		name      string
		query     string
		resolver  pages
		want      []music.Track
		wantNote  string
		wantAsked int
		wantCode  string
	}{
		{name: "a file", query: "https://audio.example/music/song.mp3",
			want: mine(music.Track{Title: "song.mp3", URL: "https://audio.example/music/song.mp3", Source: "http"})},
		{name: "a page", query: " https://youtu.be/x ", resolver: pages{tracks: []music.Track{video}},
			want: mine(video), wantAsked: 1},
		{name: "a playlist's page", query: "https://youtu.be/x", resolver: pages{tracks: []music.Track{video, second}, note: "Left out 1 track on a site TimmyBot does not play from."},
			want: mine(video, second), wantNote: "Left out 1 track on a site TimmyBot does not play from.", wantAsked: 1},
		{name: "a page with no tracks", query: "https://youtu.be/x", resolver: pages{tracks: []music.Track{}}, wantAsked: 1, wantCode: music.ENOTFOUND},
		{name: "a page with a track that cannot be queued", query: "https://youtu.be/x", resolver: pages{tracks: []music.Track{video, {Title: "no URL"}}}, wantAsked: 1, wantCode: music.EINVALID},
		{name: "a page that cannot be played", query: "https://youtu.be/x", resolver: pages{err: music.Errorf(music.EFORBIDDEN, "That video is private.")}, wantAsked: 1, wantCode: music.EFORBIDDEN},
		{name: "not a URL", query: "--exec id", wantCode: music.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &tt.resolver
			p.host = "youtu.be"
			h := &Handlers{Pages: p}
			got, note, err := h.tracksFor(context.Background(), tt.query, user)
			if code := music.ErrorCode(err); code != tt.wantCode {
				t.Fatalf("err = %v, want code %q", err, tt.wantCode)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("tracks (-want +got):\n%s", diff)
			}
			if note != tt.wantNote {
				t.Errorf("note = %q, want %q", note, tt.wantNote)
			}
			if len(p.asked) != tt.wantAsked {
				t.Errorf("resolver asked %d times, want %d", len(p.asked), tt.wantAsked)
			}
		})
	}
}

// linkResolver answers every query as a link with fixed tracks.
type linkResolver struct {
	tracks []music.Track
	note   string
	err    error
}

func (l *linkResolver) Handles(string) bool { return true }

func (l *linkResolver) Resolve(context.Context, string) ([]music.Track, string, error) {
	return append([]music.Track(nil), l.tracks...), l.note, l.err
}

// TestTracksForLink: a link's tracks are queued as the user's, each
// checked like any queue entry.
func TestTracksForLink(t *testing.T) {
	const user = music.UserID("200000000000000001")
	song := music.Track{Title: "A - Song", URL: "https://www.youtube.com/watch?v=a", Source: "spotify"}
	tests := []struct {
		name     string
		link     linkResolver
		want     []music.Track
		wantCode string
	}{
		{name: "tracks become the user's", link: linkResolver{tracks: []music.Track{song, song}, note: "cut"},
			want: []music.Track{{Title: "A - Song", URL: "https://www.youtube.com/watch?v=a", Source: "spotify", RequestedBy: user}, {Title: "A - Song", URL: "https://www.youtube.com/watch?v=a", Source: "spotify", RequestedBy: user}}},
		{name: "a refusal is passed on", link: linkResolver{err: music.Errorf(music.EFORBIDDEN, "dev mode")}, wantCode: music.EFORBIDDEN},
		{name: "no tracks", link: linkResolver{}, wantCode: music.ENOTFOUND},
		{name: "an invalid track", link: linkResolver{tracks: []music.Track{{Title: "no URL"}}}, wantCode: music.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &Handlers{Links: &tt.link}
			got, note, err := h.tracksForLink(context.Background(), "https://open.spotify.com/album/x", user)
			if code := music.ErrorCode(err); code != tt.wantCode {
				t.Fatalf("err = %v, want code %q", err, tt.wantCode)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("tracks (-want +got):\n%s", diff)
			}
			if err == nil && note != tt.link.note {
				t.Errorf("note %q, want %q", note, tt.link.note)
			}
		})
	}
}

func TestQueuedText(t *testing.T) {
	one := []music.Track{{Title: "A *song*"}}
	tests := []struct {
		name   string
		tracks []music.Track
		pos    int
		note   string
		want   string
	}{
		{"one playing now", one, 0, "", `Playing **A \*song\***.`},
		{"one queued", one, 3, "", `Queued **A \*song\*** at position 4.`},
		{"many with a note", []music.Track{{}, {}, {}}, 2, "Only the first 3 of its 9 tracks were taken.", "Queued 3 tracks from position 3. Only the first 3 of its 9 tracks were taken."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := queuedText(tt.tracks, tt.pos, tt.note); got != tt.want {
				t.Errorf("queuedText = %q, want %q", got, tt.want)
			}
		})
	}
}
