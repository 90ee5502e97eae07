package ffmpeg

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/iddv/timmybot/app/music"
)

// encode is the tail every command line ends with.
const encode = "-c:a libopus -b:a 128k -vbr on -frame_duration 20 -application audio -ar 48000 -ac 2 -f ogg -page_duration 20000 -flush_packets 1 pipe:1"

func TestArgs(t *testing.T) {
	pipe := Input{Reader: strings.NewReader("")}
	relay := Input{URL: "http://127.0.0.1:8080/r/abc"}
	tests := []struct {
		name     string
		in       Input
		opts     Options
		want     string
		wantCode string
	}{
		{
			name: "pipe, nothing to change",
			in:   pipe, opts: Options{Volume: 100},
			want: "-hide_banner -loglevel info -nostats -protocol_whitelist pipe -format_whitelist mp3,aac,mov,flac,wav,ogg,matroska,mpegts -i pipe:0 -map 0:a:0 " + encode,
		},
		{
			name: "relay URL, no stdin, http only",
			in:   relay, opts: Options{Volume: 100},
			want: "-hide_banner -loglevel info -nostats -nostdin -protocol_whitelist http,tcp -format_whitelist mp3,aac,mov,flac,wav,ogg,matroska,mpegts -i http://127.0.0.1:8080/r/abc -map 0:a:0 " + encode,
		},
		{
			name: "relay URL seeks before the input",
			in:   relay, opts: Options{Volume: 100, Start: 1500 * time.Millisecond, MaxDuration: 90 * time.Second},
			want: "-hide_banner -loglevel info -nostats -nostdin -protocol_whitelist http,tcp -format_whitelist mp3,aac,mov,flac,wav,ogg,matroska,mpegts -ss 1.500 -i http://127.0.0.1:8080/r/abc -map 0:a:0 -t 90.000 " + encode,
		},
		{
			name: "pipe seeks by decoding, after the input",
			in:   pipe, opts: Options{Volume: 100, Start: 2 * time.Minute},
			want: "-hide_banner -loglevel info -nostats -protocol_whitelist pipe -format_whitelist mp3,aac,mov,flac,wav,ogg,matroska,mpegts -i pipe:0 -map 0:a:0 -ss 120.000 " + encode,
		},
		{
			name: "filters, normalisation and volume",
			in:   pipe, opts: Options{Volume: 50, Filters: []string{"nightcore", "bassboost"}, Normalize: true},
			want: "-hide_banner -loglevel info -nostats -protocol_whitelist pipe -format_whitelist mp3,aac,mov,flac,wav,ogg,matroska,mpegts -i pipe:0 -map 0:a:0 " +
				"-af aresample=48000,asetrate=48000*1.25,aresample=48000,bass=g=10:f=110:w=0.6,loudnorm=I=-16:TP=-1.5:LRA=11,volume=0.5 " + encode,
		},
		{name: "unknown filter", in: pipe, opts: Options{Volume: 100, Filters: []string{"chipmunk"}}, wantCode: music.EINVALID},
		{name: "volume out of range", in: pipe, opts: Options{Volume: 300}, wantCode: music.EINVALID},
		{name: "negative start", in: relay, opts: Options{Volume: 100, Start: -time.Second}, wantCode: music.EINVALID},
		{name: "negative length", in: relay, opts: Options{Volume: 100, MaxDuration: -time.Second}, wantCode: music.EINVALID},
		{name: "no input", opts: Options{Volume: 100}, wantCode: music.EINTERNAL},
		{name: "two inputs", in: Input{Reader: strings.NewReader(""), URL: relay.URL}, opts: Options{Volume: 100}, wantCode: music.EINTERNAL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args, err := Args(tt.in, tt.opts)
			if err != nil || tt.wantCode != "" {
				var merr *music.Error
				if !errors.As(err, &merr) || merr.Code != tt.wantCode {
					t.Fatalf("Args error = %v, want a music error with code %q", err, tt.wantCode)
				}
				return
			}
			if diff := cmp.Diff(strings.Fields(tt.want), args); diff != "" {
				t.Errorf("Args (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPassthrough(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want bool
	}{
		{"unchanged", Options{Volume: 100}, true},
		{"seek and length still pass through", Options{Volume: 100, Start: time.Minute, MaxDuration: time.Hour}, true},
		{"volume", Options{Volume: 99}, false},
		{"mute", Options{Volume: 0}, false},
		{"filter", Options{Volume: 100, Filters: []string{"8d"}}, false},
		{"normalize", Options{Volume: 100, Normalize: true}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Passthrough(tt.opts); got != tt.want {
				t.Errorf("Passthrough(%+v) = %v, want %v", tt.opts, got, tt.want)
			}
		})
	}
}
