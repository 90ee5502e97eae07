package ytdlp

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/source/mirror"
)

// candidatesJSON is the shape of yt-dlp's --flat-playlist answer for a
// "ytsearch3:" input (trimmed).
const candidatesJSON = `{"_type":"playlist","id":"x","title":"x","extractor_key":"YoutubeSearch","entries":[
{"_type":"url","ie_key":"Youtube","id":"dQw4w9WgXcQ","url":"https://www.youtube.com/watch?v=dQw4w9WgXcQ","title":"Never Gonna Give You Up","duration":213.0,"channel":"Rick Astley","uploader":null,"thumbnails":[{"url":"https://i.ytimg.com/vi/dQw4w9WgXcQ/hqdefault.jpg"}]},
{"_type":"url","ie_key":"Youtube","id":"b","url":"https://www.youtube.com/watch?v=b","title":"A stream","duration":null,"uploader":"Someone"},
{"_type":"url","ie_key":"Youtube","id":"c","url":"javascript:alert(1)","title":"Not a page"}]}`

func TestCandidates(t *testing.T) {
	tests := []struct {
		name     string
		query    string
		n        int
		want     []mirror.Candidate
		wantArg  string
		wantCode string
	}{
		{name: "results", query: `"GBARL9300135"`, n: 3, wantArg: `ytsearch3:"GBARL9300135"`, want: []mirror.Candidate{
			{Title: "Never Gonna Give You Up", Uploader: "Rick Astley", Duration: 213 * time.Second, URL: "https://www.youtube.com/watch?v=dQw4w9WgXcQ", ArtworkURL: "https://i.ytimg.com/vi/dQw4w9WgXcQ/hqdefault.jpg"},
			{Title: "A stream", Uploader: "Someone", URL: "https://www.youtube.com/watch?v=b"},
		}},
		{name: "control characters and a huge n", query: "--exec\nrm -rf /", n: 1000, wantArg: "ytsearch20:--exec rm -rf /", want: []mirror.Candidate{
			{Title: "Never Gonna Give You Up", Uploader: "Rick Astley", Duration: 213 * time.Second, URL: "https://www.youtube.com/watch?v=dQw4w9WgXcQ", ArtworkURL: "https://i.ytimg.com/vi/dQw4w9WgXcQ/hqdefault.jpg"},
			{Title: "A stream", Uploader: "Someone", URL: "https://www.youtube.com/watch?v=b"},
		}},
		{name: "empty", query: " \t", n: 3, wantCode: music.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, candidatesJSON, "", 0)
			r := mustNew(t, Config{Path: f.path})
			got, err := r.Candidates(context.Background(), tt.query, tt.n)
			if music.ErrorCode(err) != tt.wantCode {
				t.Fatalf("err = %v, want code %q", err, tt.wantCode)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("candidates (-want +got):\n%s", diff)
			}
			args, ran := f.argv(t)
			if tt.wantCode != "" {
				if ran {
					t.Errorf("yt-dlp ran for a refused search: %q", args)
				}
				return
			}
			want := []string{"--ignore-config", "--flat-playlist", "--dump-single-json", "--no-warnings", "--socket-timeout", "10", "--", tt.wantArg}
			if diff := cmp.Diff(want, args); diff != "" {
				t.Errorf("argv (-want +got):\n%s", diff)
			}
		})
	}
}
