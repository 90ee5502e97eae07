package ytdlp

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/iddv/timmybot/app/music"
)

// tracksArgs is what Tracks passes before "--" with MaxTracks max.
func tracksArgs(max int) []string {
	return []string{"--ignore-config", "--flat-playlist", "--dump-single-json", "--no-warnings", "--socket-timeout", "10",
		"--yes-playlist", "--playlist-end", strconv.Itoa(max + 1), "-f", "bestaudio[acodec=opus][protocol^=http]/bestaudio[protocol^=http]/bestaudio/best"}
}

// youtubePlaylistJSON is the shape of yt-dlp's --flat-playlist answer for
// a YouTube playlist (trimmed): entries of _type url for the Youtube
// extractor, with durations and thumbnails, and the playlist's count.
const youtubePlaylistJSON = `{"id":"PLFgquLnL59alCl_2TQvOiD5Vgm1hCaGSI","title":"Top hits","availability":"public","playlist_count":2,
"channel":"Someone","channel_id":"UCxyz","uploader":"Someone","modified_date":"20240101","view_count":1000,
"thumbnails":[{"url":"https://i.ytimg.com/vi/dQw4w9WgXcQ/hqdefault.jpg","height":270,"width":480,"id":"0"}],
"_type":"playlist","entries":[
{"_type":"url","ie_key":"Youtube","id":"dQw4w9WgXcQ","url":"https://www.youtube.com/watch?v=dQw4w9WgXcQ","title":"Rick Astley - Never Gonna Give You Up (Official Music Video)","description":null,"duration":213,"channel_id":"UCuAXFkgsw1L7xaCfnd5JJOw","channel":"Rick Astley","channel_url":"https://www.youtube.com/channel/UCuAXFkgsw1L7xaCfnd5JJOw",
 "thumbnails":[{"url":"https://i.ytimg.com/vi/dQw4w9WgXcQ/hqdefault.jpg?sqp=-oaymwEbCKgBEF5IVfKriqkDDggBFQAAiEIYAXABwAEG","height":94,"width":168},{"url":"https://i.ytimg.com/vi/dQw4w9WgXcQ/hqdefault.jpg?sqp=-oaymwEcCNACELwBSFXyq4qpAw4IARUAAIhCGAFwAcABBg","height":188,"width":336}],
 "timestamp":null,"release_timestamp":null,"availability":null,"view_count":1500000000,"live_status":null},
{"_type":"url","ie_key":"Youtube","id":"yPYZpwSpKmA","url":"https://www.youtube.com/watch?v=yPYZpwSpKmA","title":"Rick Astley - Together Forever","duration":205.0,"thumbnails":[]}],
"extractor_key":"YoutubeTab","extractor":"youtube:tab","webpage_url":"https://www.youtube.com/playlist?list=PLFgquLnL59alCl_2TQvOiD5Vgm1hCaGSI","webpage_url_domain":"youtube.com"}`

// soundcloudSetJSON is yt-dlp's flat answer for a SoundCloud set: entries
// carry the track's permalink (or the API's URL) and no title.
const soundcloudSetJSON = `{"id":"1234","title":"A set","description":"","_type":"playlist","entries":[
{"_type":"url","ie_key":"Soundcloud","id":"111","url":"https://soundcloud.com/artist/first-song"},
{"_type":"url","ie_key":"Soundcloud","id":"222","url":"https://api-v2.soundcloud.com/tracks/222"}],
"extractor_key":"SoundcloudSet","extractor":"soundcloud:set","webpage_url":"https://soundcloud.com/artist/sets/a-set","playlist_count":2}`

// entriesJSON is a flat playlist of the given entries, with
// playlist_count count when it is not 0.
func entriesJSON(count int, entries ...string) string {
	s := `{"_type":"playlist","id":"x","title":"x","entries":[`
	for i, e := range entries {
		if i > 0 {
			s += ","
		}
		s += e
	}
	s += "]"
	if count > 0 {
		s += `,"playlist_count":` + strconv.Itoa(count)
	}
	return s + "}"
}

func entry(url, title string) string {
	return `{"_type":"url","ie_key":"Youtube","url":"` + url + `","title":"` + title + `"}`
}

func TestTracks(t *testing.T) {
	const page = "https://www.youtube.com/playlist?list=PLFgquLnL59alCl_2TQvOiD5Vgm1hCaGSI"
	tests := []struct {
		name      string
		stdout    string
		maxTracks int
		want      []music.Track
		wantNote  string
	}{
		{name: "a video", stdout: videoJSON, want: []music.Track{{
			Title: "Never Gonna Give You Up", URL: "https://www.youtube.com/watch?v=dQw4w9WgXcQ", Duration: 213 * time.Second, Source: Source,
			ArtworkURL: "https://i.ytimg.com/vi/dQw4w9WgXcQ/maxresdefault.jpg"}}},
		{name: "a YouTube playlist", stdout: youtubePlaylistJSON, want: []music.Track{
			{Title: "Rick Astley - Never Gonna Give You Up (Official Music Video)", URL: "https://www.youtube.com/watch?v=dQw4w9WgXcQ", Duration: 213 * time.Second, Source: Source,
				ArtworkURL: "https://i.ytimg.com/vi/dQw4w9WgXcQ/hqdefault.jpg?sqp=-oaymwEcCNACELwBSFXyq4qpAw4IARUAAIhCGAFwAcABBg"},
			{Title: "Rick Astley - Together Forever", URL: "https://www.youtube.com/watch?v=yPYZpwSpKmA", Duration: 205 * time.Second, Source: Source},
		}},
		{name: "a SoundCloud set", stdout: soundcloudSetJSON, want: []music.Track{
			{Title: "https://soundcloud.com/artist/first-song", URL: "https://soundcloud.com/artist/first-song", Source: Source},
			{Title: "https://api-v2.soundcloud.com/tracks/222", URL: "https://api-v2.soundcloud.com/tracks/222", Source: Source},
		}},
		{name: "cut, with yt-dlp's count", maxTracks: 2,
			stdout:   entriesJSON(120, entry("https://youtu.be/a", "A"), entry("https://youtu.be/b", "B"), entry("https://youtu.be/c", "C")),
			want:     []music.Track{{Title: "A", URL: "https://youtu.be/a", Source: Source}, {Title: "B", URL: "https://youtu.be/b", Source: Source}},
			wantNote: "Only the first 2 of its 120 tracks were taken (the limit is 2)."},
		{name: "cut, a mix yt-dlp does not count", maxTracks: 2,
			stdout:   entriesJSON(0, entry("https://youtu.be/a", "A"), entry("https://youtu.be/b", "B"), entry("https://youtu.be/c", "C")),
			want:     []music.Track{{Title: "A", URL: "https://youtu.be/a", Source: Source}, {Title: "B", URL: "https://youtu.be/b", Source: Source}},
			wantNote: "Only the first 2 tracks were taken (the limit is 2)."},
		{name: "exactly the limit", maxTracks: 2,
			stdout: entriesJSON(2, entry("https://youtu.be/a", "A"), entry("https://youtu.be/b", "B")),
			want:   []music.Track{{Title: "A", URL: "https://youtu.be/a", Source: Source}, {Title: "B", URL: "https://youtu.be/b", Source: Source}}},
		{name: "an entry on a foreign host",
			stdout:   entriesJSON(3, entry("https://youtu.be/a", "A"), entry("https://audio.example/b.mp3", "B"), entry("http://127.0.0.1/c.ogg", "C")),
			want:     []music.Track{{Title: "A", URL: "https://youtu.be/a", Source: Source}},
			wantNote: "Left out 2 tracks on sites TimmyBot does not play from."},
		{name: "cut and one left out", maxTracks: 1,
			stdout:   entriesJSON(3, entry("ftp://youtube.com/x", "X"), entry("https://youtu.be/a", "A"), entry("https://youtu.be/b", "B")),
			want:     []music.Track{{Title: "A", URL: "https://youtu.be/a", Source: Source}},
			wantNote: "Only the first 1 of its 3 tracks were taken (the limit is 1). Left out 1 track on a site TimmyBot does not play from."},
		{name: "yt-dlp's fragment dropped",
			stdout: entriesJSON(0, `{"_type":"url_transparent","url":"https://www.youtube.com/watch?v=a#__youtubedl_smuggle=%7B%22force_videoid%22%3A+%22a%22%7D","title":"A","duration":61.5}`),
			want:   []music.Track{{Title: "A", URL: "https://www.youtube.com/watch?v=a", Duration: 61500 * time.Millisecond, Source: Source}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, tt.stdout, "", 0)
			r := mustNew(t, Config{Path: f.path, MaxTracks: tt.maxTracks})
			wantTracks(t, r, page, tt.want, tt.wantNote)
			max := tt.maxTracks
			if max == 0 {
				max = music.DefaultMaxListTracks
			}
			args, _ := f.argv(t)
			if diff := cmp.Diff(append(tracksArgs(max), "--", page), args); diff != "" {
				t.Errorf("argv (-want +got):\n%s", diff)
			}
		})
	}
}

// A list with nothing to queue is a clear ENOTFOUND; output that is no
// list nor video is yt-dlp's failure; what is no URL never reaches it.
func TestTracksRefused(t *testing.T) {
	tests := []struct {
		name, query, stdout string
		wantCode            string
		wantMessage         string
	}{
		{"an empty playlist", "https://youtube.com/playlist?list=x", entriesJSON(0), music.ENOTFOUND, "That playlist is empty."},
		{"only foreign hosts", "https://youtube.com/playlist?list=x", entriesJSON(0, entry("https://audio.example/a.mp3", "A")), music.ENOTFOUND, "That playlist has no tracks on sites TimmyBot plays from."},
		{"not JSON", "https://youtube.com/playlist?list=x", "ERROR", music.EUNAVAILABLE, messages[ReasonOther].Message},
		{"a list without entries' shape", "https://youtube.com/playlist?list=x", `{"_type":"playlist","entries":{}}`, music.EUNAVAILABLE, messages[ReasonOther].Message},
		{"no URL", "ytsearch5:never gonna", videoJSON, music.EINVALID, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, tt.stdout, "", 0)
			r := mustNew(t, Config{Path: f.path})
			_, _, err := r.Tracks(context.Background(), tt.query)
			if music.ErrorCode(err) != tt.wantCode {
				t.Fatalf("err = %v (code %q), want %s", err, music.ErrorCode(err), tt.wantCode)
			}
			if tt.wantMessage != "" && music.ErrorMessage(err) != tt.wantMessage {
				t.Errorf("message = %q, want %q", music.ErrorMessage(err), tt.wantMessage)
			}
			if _, ran := f.argv(t); ran != (tt.wantCode != music.EINVALID) {
				t.Errorf("yt-dlp ran: %v", ran)
			}
		})
	}
}

// wantTracks fails t unless r's Tracks of page are want with wantNote.
func wantTracks(t *testing.T, r *Resolver, page string, want []music.Track, wantNote string) {
	t.Helper()
	got, note, err := r.Tracks(context.Background(), page)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tracks (-want +got):\n%s", diff)
	}
	if note != wantNote {
		t.Errorf("note = %q, want %q", note, wantNote)
	}
}
