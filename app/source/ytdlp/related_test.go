package ytdlp

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/iddv/timmybot/app/music"
)

// mixJSON is the shape of yt-dlp's --flat-playlist answer for
// "watch?v=dQw4w9WgXcQ&list=RDdQw4w9WgXcQ" (trimmed to four entries, each
// with fewer of its null fields): the mix starts with the seed.
const mixJSON = `{"id":"RDdQw4w9WgXcQ","title":"Mix - Rick Astley - Never Gonna Give You Up (Official Music Video)",
"availability":null,"description":null,"tags":[],"view_count":null,"playlist_count":null,"channel":null,"uploader":null,
"_type":"playlist","entries":[
{"_type":"url","ie_key":"Youtube","id":"dQw4w9WgXcQ","url":"https://www.youtube.com/watch?v=dQw4w9WgXcQ","title":"Rick Astley - Never Gonna Give You Up (Official Music Video)","description":null,"duration":213,"channel_id":"UCuAXFkgsw1L7xaCfnd5JJOw","channel":"Rick Astley","uploader":"Rick Astley","thumbnails":[{"url":"https://i.ytimg.com/vi/dQw4w9WgXcQ/hqdefault.jpg","height":94,"width":168}],"view_count":null,"live_status":null},
{"_type":"url","ie_key":"Youtube","id":"yPYZpwSpKmA","url":"https://www.youtube.com/watch?v=yPYZpwSpKmA","title":"Rick Astley - Together Forever (Official Music Video)","description":null,"duration":205,"channel":"Rick Astley","uploader":"Rick Astley","view_count":null,"live_status":null},
{"_type":"url","ie_key":"Youtube","id":"djV11Xbc914","url":"https://www.youtube.com/watch?v=djV11Xbc914","title":"a-ha - Take On Me (Official Video) [4K]","description":null,"duration":null,"channel":"a-ha","uploader":"a-ha","view_count":null,"live_status":null},
{"_type":"url","ie_key":"Youtube","id":"FTQbiNvZqaY","url":"https://www.youtube.com/watch?v=FTQbiNvZqaY","title":"Toto - Africa (Official HD Video)","description":null,"duration":275,"channel":"TotoVEVO","uploader":"TotoVEVO","view_count":null,"live_status":null}],
"extractor_key":"YoutubeTab","extractor":"youtube:tab","webpage_url":"https://www.youtube.com/watch?v=dQw4w9WgXcQ&list=RDdQw4w9WgXcQ",
"original_url":"https://www.youtube.com/watch?v=dQw4w9WgXcQ&list=RDdQw4w9WgXcQ","webpage_url_basename":"watch","webpage_url_domain":"youtube.com","epoch":1767225600}`

// mixArgs is what a mix run passes before "--".
var mixArgs = append(append([]string{}, searchArgs...), "--yes-playlist", "--playlist-end", "25")

const rickMix = "https://www.youtube.com/watch?v=dQw4w9WgXcQ&list=RDdQw4w9WgXcQ"

func playedURLs(urls ...string) func(music.Track) bool {
	return func(t music.Track) bool {
		for _, u := range urls {
			if t.URL == u {
				return true
			}
		}
		return false
	}
}

func TestRelatedReadsTheMix(t *testing.T) {
	togetherForever := music.Track{Title: "Rick Astley - Together Forever (Official Music Video)", URL: "https://www.youtube.com/watch?v=yPYZpwSpKmA", Duration: 205 * time.Second, Source: Source}
	takeOnMe := music.Track{Title: "a-ha - Take On Me (Official Video) [4K]", URL: "https://www.youtube.com/watch?v=djV11Xbc914", Source: Source}
	africa := music.Track{Title: "Toto - Africa (Official HD Video)", URL: "https://www.youtube.com/watch?v=FTQbiNvZqaY", Duration: 275 * time.Second, Source: Source}
	tests := []struct {
		name   string
		seed   string
		source string
		played func(music.Track) bool
		want   []music.Track
	}{
		{"a watch URL", "https://www.youtube.com/watch?v=dQw4w9WgXcQ", Source, nil, []music.Track{togetherForever, takeOnMe, africa}},
		{"played tracks left out", "https://www.youtube.com/watch?v=dQw4w9WgXcQ", Source, playedURLs(takeOnMe.URL, togetherForever.URL), []music.Track{africa}},
		{"a short link", "https://youtu.be/dQw4w9WgXcQ", Source, nil, []music.Track{togetherForever, takeOnMe, africa}},
		{"YouTube Music, with more in the query", "https://music.youtube.com/watch?v=dQw4w9WgXcQ&feature=share", Source, nil, []music.Track{togetherForever, takeOnMe, africa}},
		{"a short", "https://www.youtube.com/shorts/dQw4w9WgXcQ", Source, nil, []music.Track{togetherForever, takeOnMe, africa}},
		{"a mirrored Spotify track", "https://www.youtube.com/watch?v=dQw4w9WgXcQ", "spotify", nil, []music.Track{togetherForever, takeOnMe, africa}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, mixJSON, "", 0)
			r := mustNew(t, Config{Path: f.path})
			seed := music.Track{Title: "Never Gonna Give You Up", URL: tt.seed, Source: tt.source}
			got, err := r.Related(context.Background(), seed, tt.played)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("related (-want +got):\n%s", diff)
			}
			args, _ := f.argv(t)
			if diff := cmp.Diff(append(append([]string{}, mixArgs...), "--", rickMix), args); diff != "" {
				t.Errorf("argv (-want +got):\n%s", diff)
			}
		})
	}
}

// relatedSearchJSON is a search for "Rick Astley - Never Gonna Give You Up"
// as yt-dlp prints it: mostly the same song again.
const relatedSearchJSON = `{"id":"Rick Astley - Never Gonna Give You Up","title":"Rick Astley - Never Gonna Give You Up","_type":"playlist","extractor_key":"YoutubeSearch",
"entries":[
{"_type":"url","ie_key":"Youtube","id":"dQw4w9WgXcQ","url":"https://www.youtube.com/watch?v=dQw4w9WgXcQ","title":"Rick Astley - Never Gonna Give You Up (Official Video) (4K Remaster)","duration":213.0,"channel":"Rick Astley"},
{"_type":"url","ie_key":"Youtube","id":"yPYZpwSpKmA","url":"https://www.youtube.com/watch?v=yPYZpwSpKmA","title":"Rick Astley - Together Forever","duration":205.0,"channel":"Rick Astley"},
{"_type":"url","ie_key":"Youtube","id":"BBJa32lCaaY","url":"https://www.youtube.com/watch?v=BBJa32lCaaY","title":"Rick Astley - Whenever You Need Somebody","duration":237.0,"channel":"Rick Astley"},
{"_type":"url","ie_key":"Youtube","id":"AyOqGRjVtls","url":"https://www.youtube.com/watch?v=AyOqGRjVtls","title":"RICK ASTLEY — never gonna give you up! (live)","duration":null,"channel":"Someone"}]}`

func TestRelatedSearchesOtherTracks(t *testing.T) {
	whenever := music.Track{Title: "Rick Astley - Whenever You Need Somebody", URL: "https://www.youtube.com/watch?v=BBJa32lCaaY", Duration: 237 * time.Second, Source: Source}
	together := music.Track{Title: "Rick Astley - Together Forever", URL: "https://www.youtube.com/watch?v=yPYZpwSpKmA", Duration: 205 * time.Second, Source: Source}
	tests := []struct {
		name   string
		seed   music.Track
		played func(music.Track) bool
		word   string // after "--"
		want   []music.Track
	}{
		{"a file", music.Track{Title: "Rick Astley - Never Gonna Give You Up", URL: "https://files.example/rick.mp3", Source: "http"}, nil,
			"ytsearch10:Rick Astley - Never Gonna Give You Up", []music.Track{together, whenever}},
		{"a SoundCloud track, one result played", music.Track{Title: "Rick Astley - Never Gonna Give You Up", URL: "https://soundcloud.com/rick/never", Source: Source}, playedURLs(together.URL),
			"ytsearch10:Rick Astley - Never Gonna Give You Up", []music.Track{whenever}},
		{"a title with a control character and dashes", music.Track{Title: "--exec\nid", URL: "https://files.example/x.mp3"}, nil,
			"ytsearch10:--exec id", nil},
		{"a video URL that is no video id", music.Track{Title: "x", URL: "https://www.youtube.com/watch?v=--exec"}, nil,
			"ytsearch10:x", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, relatedSearchJSON, "", 0)
			r := mustNew(t, Config{Path: f.path})
			got, err := r.Related(context.Background(), tt.seed, tt.played)
			if err != nil {
				t.Fatal(err)
			}
			args, _ := f.argv(t)
			if diff := cmp.Diff(append(append([]string{}, searchArgs...), "--", tt.word), args); diff != "" {
				t.Errorf("argv (-want +got):\n%s", diff)
			}
			if tt.want == nil {
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("related (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRelatedOfAnUntitledFile(t *testing.T) {
	f := newFake(t, relatedSearchJSON, "", 0)
	r := mustNew(t, Config{Path: f.path})
	got, err := r.Related(context.Background(), music.Track{Title: "https://files.example/x.mp3", URL: "https://files.example/x.mp3"}, nil)
	if err != nil || got != nil {
		t.Errorf("got %v, %v; want nothing", got, err)
	}
	if args, ran := f.argv(t); ran {
		t.Errorf("yt-dlp ran with %q", args)
	}
}

func TestRelatedFailures(t *testing.T) {
	seed := music.Track{Title: "x", URL: "https://www.youtube.com/watch?v=dQw4w9WgXcQ"}
	t.Run("yt-dlp fails", func(t *testing.T) {
		f := newFake(t, "", "ERROR: [youtube:tab] RDdQw4w9WgXcQ: Sign in to confirm you're not a bot", 1)
		r := mustNew(t, Config{Path: f.path})
		_, err := r.Related(context.Background(), seed, nil)
		wantFailure(t, err, ReasonBotCheck)
	})
	t.Run("not a playlist", func(t *testing.T) {
		r := mustNew(t, Config{Path: newFake(t, videoJSON, "", 0).path})
		_, err := r.Related(context.Background(), seed, nil)
		wantFailure(t, err, ReasonOther)
	})
	t.Run("cancelled", func(t *testing.T) {
		f := newFakeScript(t, "", "", 0, "exec sleep 30")
		r := mustNew(t, Config{Path: f.path})
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { _, err := r.Related(ctx, seed, nil); errc <- err }()
		waitFor(t, func() bool { _, ran := f.argv(t); return ran })
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	})
}
