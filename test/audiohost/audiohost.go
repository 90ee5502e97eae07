// Package audiohost is a test double for the audio hosts the bot streams
// from: a local HTTP server on 127.0.0.1 serving audio it generates with
// ffmpeg at Start, one sine tone per track at a frequency of its own, so a
// test can tell by ear (package audiocheck) which track it hears and where.
//
// It serves every container the bot accepts, VOD HLS streams, an endless
// Icecast-style radio stream, and the faults a real host has: a slow host, one that drops the
// connection mid-file, a file of garbage, and a redirect to the cloud
// metadata address. Everything but the radio supports Range requests.
// It never follows or fetches anything itself.
package audiohost

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/iddv/timmybot/test/audiocheck"
)

// Track names: the audio files.
const (
	MP3    = "mp3"    // MPEG-1 layer 3, 44.1 kHz
	AAC    = "aac"    // AAC in ADTS, 44.1 kHz
	M4A    = "m4a"    // AAC in MP4, 44.1 kHz, index first
	FLAC   = "flac"   // 44.1 kHz
	WAV    = "wav"    // 16-bit PCM, 44.1 kHz
	Vorbis = "vorbis" // Vorbis in Ogg, 44.1 kHz
	Opus   = "opus"   // Opus in Ogg, 20 ms frames
	WebM   = "webm"   // Opus in WebM, 20 ms frames
	Steps  = "steps"  // FLAC whose tone changes every second: 440, 660, 880 Hz
	Low    = "low"    // FLAC at 80 Hz, for checking bass filters
	High   = "high"   // FLAC at 6 kHz, for checking treble filters
	Radio  = "radio"  // endless MP3 at real time, no Content-Length, icy-name
	// HLS is a VOD HLS stream: the playlist, whose 1 s MPEG-TS segments of
	// AAC (hls0.ts, hls1.ts, ...) the host serves beside it.
	HLS = "hls.m3u8"
	// HLSRanges is HLS written as one MPEG-TS file, hls-ranges.ts, whose
	// playlist names each segment as a byte range of it.
	HLSRanges = "hls-ranges.m3u8"
)

// Fault names: endpoints that misbehave.
const (
	Slow     = "slow"     // the MP3 track at SlowBytesPerSecond
	Drop     = "drop"     // the MP3 track, cut off at byte DropAt unless the request starts past it
	Broken   = "broken"   // garbage bytes served as audio/mpeg
	Redirect = "redirect" // a redirect to RedirectTarget
)

const (
	// SlowBytesPerSecond is the slow host's rate: half the MP3's bit rate.
	SlowBytesPerSecond = 8000
	// DropAt is the byte offset at which the dropping host hangs up.
	DropAt = 20000
	// RedirectTarget is where the redirect points: the cloud metadata
	// address a fetcher must never reach.
	RedirectTarget = "http://169.254.169.254/latest/meta-data/"
	// RadioName is the radio's icy-name header.
	RadioName = "Audiohost Test Radio"
)

// radioBytesPerSecond is the radio's pace: 128 kbit/s constant bit rate.
const radioBytesPerSecond = 128000 / 8

// Track is one audio file the host serves.
type Track struct {
	Name        string
	ContentType string
	Tones       []audiocheck.Tone // in order; the radio's is open-ended
	file        string
	encode      []string // ffmpeg output arguments
}

// Duration is the track's length; 0 for the endless radio.
func (t Track) Duration() time.Duration {
	var d time.Duration
	for _, tone := range t.Tones {
		d += tone.Duration
	}
	return d
}

const trackLength = 3 * time.Second

func tracks() []Track {
	one := func(freq float64) []audiocheck.Tone {
		return []audiocheck.Tone{{Frequency: freq, Duration: trackLength}}
	}
	return []Track{
		{Name: MP3, ContentType: "audio/mpeg", Tones: one(440), file: "track.mp3", encode: []string{"-ar", "44100", "-c:a", "libmp3lame", "-b:a", "128k"}},
		{Name: AAC, ContentType: "audio/aac", Tones: one(495), file: "track.aac", encode: []string{"-ar", "44100", "-c:a", "aac", "-b:a", "128k", "-f", "adts"}},
		{Name: M4A, ContentType: "audio/mp4", Tones: one(550), file: "track.m4a", encode: []string{"-ar", "44100", "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart"}},
		{Name: FLAC, ContentType: "audio/flac", Tones: one(660), file: "track.flac", encode: []string{"-ar", "44100", "-c:a", "flac"}},
		{Name: WAV, ContentType: "audio/wav", Tones: one(770), file: "track.wav", encode: []string{"-ar", "44100", "-c:a", "pcm_s16le"}},
		{Name: Vorbis, ContentType: "audio/ogg", Tones: one(880), file: "vorbis.ogg", encode: []string{"-ar", "44100", "-c:a", "libvorbis"}},
		{Name: Opus, ContentType: "audio/ogg", Tones: one(990), file: "opus.ogg", encode: []string{"-ar", "48000", "-c:a", "libopus", "-frame_duration", "20"}},
		{Name: WebM, ContentType: "audio/webm", Tones: one(1100), file: "opus.webm", encode: []string{"-ar", "48000", "-c:a", "libopus", "-frame_duration", "20", "-f", "webm"}},
		{Name: Steps, ContentType: "audio/flac", Tones: []audiocheck.Tone{{Frequency: 440, Duration: time.Second}, {Frequency: 660, Duration: time.Second}, {Frequency: 880, Duration: time.Second}}, file: "steps.flac", encode: []string{"-ar", "48000", "-c:a", "flac"}},
		{Name: Low, ContentType: "audio/flac", Tones: one(80), file: "low.flac", encode: []string{"-ar", "48000", "-c:a", "flac"}},
		{Name: High, ContentType: "audio/flac", Tones: one(6000), file: "high.flac", encode: []string{"-ar", "48000", "-c:a", "flac"}},
		// 10 s looped for ever; no ID3 or Xing header, so the loop is
		// nothing but whole MPEG frames.
		{Name: HLS, ContentType: "application/vnd.apple.mpegurl", Tones: one(1210), file: "hls.m3u8", encode: []string{"-ar", "48000", "-c:a", "aac", "-b:a", "128k", "-f", "hls", "-hls_time", "1", "-hls_playlist_type", "vod"}},
		{Name: HLSRanges, ContentType: "application/vnd.apple.mpegurl", Tones: one(1430), file: "hls-ranges.m3u8", encode: []string{"-ar", "48000", "-c:a", "aac", "-b:a", "128k", "-f", "hls", "-hls_time", "1", "-hls_playlist_type", "vod", "-hls_flags", "single_file"}},
		{Name: Radio, ContentType: "audio/mpeg", Tones: []audiocheck.Tone{{Frequency: 1320}}, file: "radio.mp3", encode: []string{"-t", "10", "-ar", "44100", "-c:a", "libmp3lame", "-b:a", "128k", "-write_xing", "0", "-id3v2_version", "0"}},
	}
}

// Host is a running audio host.
type Host struct {
	tb     testing.TB
	server *httptest.Server
	tracks []Track
	files  map[string][]byte // by track name
	quit   chan struct{}     // closed when the host stops, ending the radio

	mu       sync.Mutex
	requests map[string]int // by track name
}

// Start generates the tracks and serves them until the test ends.
func Start(tb testing.TB) *Host {
	tb.Helper()
	h := &Host{tb: tb, tracks: tracks(), files: map[string][]byte{}, quit: make(chan struct{}), requests: map[string]int{}}
	dir := tb.TempDir()
	var wg sync.WaitGroup
	errs := make([]error, len(h.tracks))
	for i, track := range h.tracks {
		wg.Go(func() { errs[i] = generate(tb.Context(), dir, track) })
	}
	wg.Wait()
	for i, track := range h.tracks {
		if errs[i] != nil {
			tb.Fatalf("generating %s: %v", track.Name, errs[i])
		}
		b, err := os.ReadFile(filepath.Join(dir, track.file))
		if err != nil {
			tb.Fatal(err)
		}
		h.files[track.Name] = b
	}
	mux := http.NewServeMux()
	for _, track := range h.tracks {
		if track.Name != Radio {
			mux.HandleFunc("/"+track.Name, h.serveFile(track.Name, track.ContentType))
		}
	}
	segments, err := filepath.Glob(filepath.Join(dir, "*.ts"))
	if err != nil || len(segments) < 2 {
		tb.Fatalf("the HLS streams have no segments: %v", err)
	}
	for _, path := range segments {
		name := filepath.Base(path)
		if h.files[name], err = os.ReadFile(path); err != nil {
			tb.Fatal(err)
		}
		mux.HandleFunc("/"+name, h.serveFile(name, "video/mp2t"))
	}
	mux.HandleFunc("/"+Radio, h.serveRadio)
	mux.HandleFunc("/"+Slow, h.serveSlow)
	mux.HandleFunc("/"+Drop, h.serveDrop)
	mux.HandleFunc("/"+Broken, h.serveFile(Broken, "audio/mpeg"))
	h.files[Broken] = garbage()
	mux.HandleFunc("/"+Redirect, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, RedirectTarget, http.StatusFound)
	})
	h.server = httptest.NewServer(mux)
	tb.Cleanup(func() {
		close(h.quit)
		h.server.CloseClientConnections()
		h.server.Close()
	})
	return h
}

func generate(ctx context.Context, dir string, track Track) error {
	source := fmt.Sprintf("sine=frequency=%g:duration=%g:sample_rate=48000", track.Tones[0].Frequency, track.Tones[0].Duration.Seconds())
	if track.Name == Radio {
		source = fmt.Sprintf("sine=frequency=%g:sample_rate=48000", track.Tones[0].Frequency)
	}
	args := []string{"-hide_banner", "-loglevel", "error", "-y"}
	if len(track.Tones) > 1 {
		var graph string
		for i, tone := range track.Tones {
			graph += fmt.Sprintf("sine=frequency=%g:duration=%g:sample_rate=48000[t%d];", tone.Frequency, tone.Duration.Seconds(), i)
		}
		for i := range track.Tones {
			graph += fmt.Sprintf("[t%d]", i)
		}
		args = append(args, "-filter_complex", graph+"concat=n="+strconv.Itoa(len(track.Tones))+":v=0:a=1")
	} else {
		args = append(args, "-f", "lavfi", "-i", source)
	}
	args = append(args, "-ac", "2", "-map_metadata", "-1")
	args = append(args, track.encode...)
	cmd := exec.CommandContext(ctx, "ffmpeg", append(args, filepath.Join(dir, track.file))...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("ffmpeg: %w: %s", err, stderr.String())
	}
	return nil
}

// garbage is deterministic bytes that no demuxer takes for audio.
func garbage() []byte {
	return bytes.Repeat([]byte("this is not audio, only text pretending to be. "), 1000)
}

// URL is the address of the track or fault called name.
func (h *Host) URL(name string) string {
	switch name {
	case Slow, Drop, Broken, Redirect:
	default:
		h.Track(name)
	}
	return h.server.URL + "/" + name
}

// Tracks lists the audio tracks, radio included; not the HLS streams,
// whose URLs are playlists rather than audio.
func (h *Host) Tracks() []Track {
	var out []Track
	for _, t := range h.tracks {
		if t.Name != HLS && t.Name != HLSRanges {
			out = append(out, t)
		}
	}
	return out
}

// Track returns the track called name, failing the test if there is none.
func (h *Host) Track(name string) Track {
	for _, t := range h.tracks {
		if t.Name == name {
			return t
		}
	}
	h.tb.Fatalf("audiohost has no track %q", name)
	return Track{}
}

// File is the bytes the host serves for name.
func (h *Host) File(name string) []byte {
	b, ok := h.files[name]
	if !ok {
		h.tb.Fatalf("audiohost has no file %q", name)
	}
	return b
}

// Requests is how many requests the file of track name has had.
func (h *Host) Requests(name string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.requests[name]
}
