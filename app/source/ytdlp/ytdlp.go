// Package ytdlp resolves the pages of sites such as YouTube, SoundCloud and
// Bandcamp to tracks' metadata (a playlist's, mix's, set's or album's
// entries, read flat) and a video's stream URL by running yt-dlp,
// searches them by words, searches YouTube for the mirror of Spotify and
// Deezer tracks, and finds tracks related to one for autoplay (a YouTube
// video's mix, or a search for the track's title).
//
// It owns the yt-dlp processes: one per resolution or search, started with
// a fixed argument list (--ignore-config, JSON output, an Opus format over
// HTTP first so that playback can pass it through, HLS only when nothing
// progressive exists), the user's URL only after
// "--" and only when it is an http(s) URL (a search's words only behind the
// bot's own "<prefix>N:" in that same one argument), in a process group of
// its own that is killed and waited for when the timeout passes or the
// caller gives up, at most Config.MaxConcurrent at a time. It owns the classification of
// yt-dlp's failures into reasons with the text a user sees; the full
// stderr goes only into the error's log text.
//
// It does not fetch audio: the stream URL it returns, with the request
// headers yt-dlp names for it, is fetched by the audio pipeline through its
// guarded client like any other URL. yt-dlp fetches the
// page itself, outside that guard, which is why only the sites in
// Config.Sites are sent to it, and why a playlist's entries on other
// hosts are never queued.
package ytdlp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/iddv/timmybot/app/music"
)

// Defaults of Config.
const (
	DefaultPath          = "yt-dlp"
	DefaultTimeout       = 30 * time.Second
	DefaultMaxConcurrent = 4
)

// Output bounds: a YouTube video's JSON with every format is about 1 MB.
const (
	maxStdout = 16 << 20
	maxStderr = 64 << 10
	// waitDelay bounds how long a killed yt-dlp's pipes may stay open.
	waitDelay = 2 * time.Second
)

// DefaultSites are the hosts (with their subdomains) whose pages go to
// yt-dlp when Config.Sites is empty.
var DefaultSites = []string{
	"youtube.com", "youtu.be", "youtube-nocookie.com",
	"soundcloud.com", "bandcamp.com", "vimeo.com", "mixcloud.com",
	"twitch.tv", "dailymotion.com", "audiomack.com", "archive.org",
}

// Config configures a Resolver.
type Config struct {
	// Path is the yt-dlp executable. Default: DefaultPath, looked up in PATH.
	Path string
	// Cookies is a Netscape cookies file for sites that refuse anonymous
	// clients. yt-dlp rewrites the file it is given, so each run gets a
	// private copy. Default: none.
	Cookies string
	// ExtraArgs go before "--", after the fixed arguments; ValidateArgs
	// refuses what would run commands, write files or read other
	// configuration.
	ExtraArgs []string
	// Timeout bounds one run. Default: DefaultTimeout.
	Timeout time.Duration
	// MaxConcurrent bounds the runs at once; others wait their turn.
	// Default: DefaultMaxConcurrent.
	MaxConcurrent int
	// Sites are the hosts whose pages Handles accepts, each with its
	// subdomains. Default: DefaultSites.
	Sites []string
	// SearchPrefix is the yt-dlp search Search uses: "ytsearch" for
	// YouTube, "scsearch" for SoundCloud. Default: DefaultSearchPrefix.
	SearchPrefix string
	// MaxQueryLen bounds a search's words, in characters. Default:
	// DefaultMaxQueryLen.
	MaxQueryLen int
	// MaxTracks bounds the tracks Tracks takes from one playlist, mix,
	// set or album. Default: music.DefaultMaxListTracks.
	MaxTracks int
	// Logger receives each failure with yt-dlp's full stderr. Default:
	// discard.
	Logger *slog.Logger
}

// Resolver runs yt-dlp. It is safe for concurrent use.
type Resolver struct {
	cfg      Config
	log      *slog.Logger
	slots    chan struct{}
	runtime  string
	failures *failureCounts
}

// New validates cfg and returns a resolver. It looks for deno, the
// JavaScript runtime yt-dlp needs for YouTube, once, here.
func New(cfg Config) (*Resolver, error) {
	if cfg.Path == "" {
		cfg.Path = DefaultPath
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = DefaultMaxConcurrent
	}
	if len(cfg.Sites) == 0 {
		cfg.Sites = DefaultSites
	}
	if cfg.MaxTracks <= 0 {
		cfg.MaxTracks = music.DefaultMaxListTracks
	}
	if err := ValidateArgs(cfg.ExtraArgs); err != nil {
		return nil, err
	}
	if err := checkSearch(&cfg); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	runtime, _ := exec.LookPath("deno")
	return &Resolver{cfg: cfg, log: log, slots: make(chan struct{}, cfg.MaxConcurrent), runtime: runtime, failures: newFailureCounts()}, nil
}

// JSRuntime is the path of the deno executable found at New, "" when none
// was: yt-dlp then cannot play YouTube.
func (r *Resolver) JSRuntime() string { return r.runtime }

// Handles reports whether u's host is one of the configured sites or a
// subdomain of one.
func (r *Resolver) Handles(u *url.URL) bool {
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	for _, site := range r.cfg.Sites {
		site = strings.ToLower(site)
		if host == site || strings.HasSuffix(host, "."+site) {
			return true
		}
	}
	return false
}

// Info is what yt-dlp says about a page.
type Info struct {
	Title      string
	Duration   time.Duration // zero when unknown or live
	PageURL    string        // the canonical page, what the queue keeps
	StreamURL  string        // the chosen format's media URL; it expires
	Headers    map[string]string
	Artwork    string // checked with music.Artwork; empty when none
	IsLive     bool
	Extractor  string
	AudioCodec string
}

// Tracks resolves pageURL to queue entries, with a note for the user
// ("" when there is nothing to say): a video's page is one entry, a
// playlist, mix, set or album its entries, read flat (their titles and
// durations as the list gives them), at most Config.MaxTracks of them.
// Entries on hosts Handles refuses are left out, since yt-dlp would fetch
// them at play time outside the bot's guard. The audio is found at play
// time (StreamURL), since stream URLs expire.
func (r *Resolver) Tracks(ctx context.Context, pageURL string) ([]music.Track, string, error) {
	if _, err := music.ParseAudioURL(pageURL); err != nil {
		return nil, "", err
	}
	out, err := r.runCounted(ctx, func(cookies string) []string { return r.pageArgs(pageURL, cookies) })
	if err != nil {
		return nil, "", err
	}
	var head struct {
		Type string `json:"_type"`
	}
	if err := json.Unmarshal(out, &head); err == nil && head.Type == "playlist" {
		return r.playlistTracks(out)
	}
	info, err := parse(out)
	if err != nil {
		r.failures.add(ReasonOther)
		return nil, "", &Failure{Reason: ReasonOther, Cause: err}
	}
	page := info.PageURL
	if _, err := music.ParseAudioURL(page); err != nil {
		page = pageURL
	}
	title := info.Title
	if title == "" {
		title = page
	}
	track := music.Track{Title: music.Truncate(title, music.MaxTitleLen), URL: page, Duration: info.Duration, Source: Source, ArtworkURL: info.Artwork}
	return []music.Track{track}, "", nil
}

// playlistTracks reads the flat playlist out as Tracks returns it.
func (r *Resolver) playlistTracks(out []byte) ([]music.Track, string, error) {
	p, err := readPlaylist(out)
	if err != nil {
		r.failures.add(ReasonOther)
		return nil, "", &Failure{Reason: ReasonOther, Cause: err}
	}
	tracks, refused, more := p.tracks(r.cfg.MaxTracks, r.Handles)
	if len(tracks) == 0 && refused > 0 {
		return nil, "", music.Errorf(music.ENOTFOUND, "That playlist has no tracks on sites TimmyBot plays from.")
	}
	if len(tracks) == 0 {
		return nil, "", music.Errorf(music.ENOTFOUND, "That playlist is empty.")
	}
	var notes []string
	if more || p.Count > len(p.Entries) {
		notes = append(notes, music.CutNote(len(tracks), p.Count, r.cfg.MaxTracks))
	}
	switch {
	case refused == 1:
		notes = append(notes, "Left out 1 track on a site TimmyBot does not play from.")
	case refused > 1:
		notes = append(notes, fmt.Sprintf("Left out %d tracks on sites TimmyBot does not play from.", refused))
	}
	return tracks, strings.Join(notes, " "), nil
}

// Source is the music.Track Source of tracks this package resolves.
const Source = "ytdlp"

// StreamURL resolves pageURL to a fresh media URL and the request headers
// yt-dlp says its host wants (the fetch leaves out those it never
// forwards).
func (r *Resolver) StreamURL(ctx context.Context, pageURL string) (string, http.Header, error) {
	info, err := r.Resolve(ctx, pageURL)
	if err != nil {
		return "", nil, err
	}
	var header http.Header
	for name, value := range info.Headers {
		if header == nil {
			header = http.Header{}
		}
		header.Set(name, value)
	}
	return info.StreamURL, header, nil
}

// Resolve runs yt-dlp on pageURL, which must be an http(s) URL: anything
// else is refused before yt-dlp starts, so that text such as
// "ytsearch:..." or "--exec" never reaches it.
func (r *Resolver) Resolve(ctx context.Context, pageURL string) (Info, error) {
	if _, err := music.ParseAudioURL(pageURL); err != nil {
		return Info{}, err
	}
	out, err := r.runCounted(ctx, func(cookies string) []string { return r.args(pageURL, cookies) })
	if err != nil {
		return Info{}, err
	}
	info, err := parse(out)
	if err != nil {
		r.failures.add(ReasonOther)
		return Info{}, &Failure{Reason: ReasonOther, Cause: err}
	}
	return info, nil
}

// runCounted runs yt-dlp in a free slot, counting and logging its failures.
func (r *Resolver) runCounted(ctx context.Context, args func(cookies string) []string) ([]byte, error) {
	select {
	case r.slots <- struct{}{}:
		defer func() { <-r.slots }()
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for a free yt-dlp slot: %w", ctx.Err())
	}
	out, err := r.run(ctx, args)
	if err != nil {
		var f *Failure
		if errors.As(err, &f) {
			r.failures.add(f.Reason)
			r.log.Warn("yt-dlp failed", slog.String("reason", string(f.Reason)), slog.String("stderr", f.Stderr), slog.Any("err", f.Cause))
		}
		return nil, err
	}
	return out, nil
}

// formats picks Opus over HTTP(S) first, which playback passes through,
// then any audio over HTTP(S), and an HLS or DASH format only when the
// site offers nothing else (live streams, some SoundCloud tracks), which
// the pipeline's own HLS client plays.
const formats = "bestaudio[acodec=opus][protocol^=http]/bestaudio[protocol^=http]/bestaudio/best"

// args is yt-dlp's argument list for a run that resolves one video (at
// play time a queued entry is one video, whatever list its URL names);
// cookies is the private copy of the cookies file, "" for none.
func (r *Resolver) args(pageURL, cookies string) []string {
	args := []string{
		"--ignore-config", "--no-playlist", "--dump-single-json", "--no-warnings",
		"--socket-timeout", "10",
		"-f", formats,
	}
	return r.withCommon(args, cookies, pageURL)
}

// pageArgs is yt-dlp's argument list for a run of Tracks: a video comes
// back resolved, a list flat and read one entry past MaxTracks, to tell
// that it was cut when yt-dlp does not count it.
func (r *Resolver) pageArgs(pageURL, cookies string) []string {
	args := append(flatListArgs(), "--yes-playlist", "--playlist-end", strconv.Itoa(r.cfg.MaxTracks+1), "-f", formats)
	return r.withCommon(args, cookies, pageURL)
}

// withCommon appends what every run passes after its own fixed arguments:
// the cookies, the extra arguments, and the one word after "--".
func (r *Resolver) withCommon(args []string, cookies, word string) []string {
	if cookies != "" {
		args = append(args, "--cookies", cookies)
	}
	args = append(args, r.cfg.ExtraArgs...)
	return append(args, "--", word)
}

// run starts yt-dlp with the arguments args builds around the private
// cookies copy ("" for none) and returns its standard output.
func (r *Resolver) run(parent context.Context, args func(cookies string) []string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(parent, r.cfg.Timeout)
	defer cancel()
	var cookies string
	if r.cfg.Cookies != "" {
		dir, err := os.MkdirTemp("", "timmybot-ytdlp-")
		if err != nil {
			return nil, fmt.Errorf("copying the cookies file: %w", err)
		}
		defer os.RemoveAll(dir)
		cookies = filepath.Join(dir, "cookies.txt")
		if err := copyFile(r.cfg.Cookies, cookies); err != nil {
			return nil, fmt.Errorf("copying the cookies file: %w", err)
		}
	}
	cmd := exec.CommandContext(ctx, r.cfg.Path, args(cookies)...)
	cmd.Env = environment()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = waitDelay
	stdout := &capped{max: maxStdout}
	stderr := &capped{max: maxStderr}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	err := cmd.Run()
	switch {
	case parent.Err() != nil:
		// The caller gave up (a skip, a shutdown): not yt-dlp's failure.
		return nil, fmt.Errorf("running yt-dlp: %w", parent.Err())
	case ctx.Err() != nil:
		return nil, &Failure{Reason: ReasonTimeout, Stderr: stderr.String(), Cause: fmt.Errorf("yt-dlp ran longer than %s: %w", r.cfg.Timeout, ctx.Err())}
	case errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist):
		return nil, &Failure{Reason: ReasonMissing, Cause: fmt.Errorf("starting yt-dlp: %w", err)}
	case err != nil:
		return nil, &Failure{Reason: classify(stderr.String()), Stderr: stderr.String(), Cause: fmt.Errorf("running yt-dlp: %w", err)}
	case stdout.truncated:
		return nil, &Failure{Reason: ReasonOther, Cause: fmt.Errorf("yt-dlp wrote more than %d bytes", maxStdout)}
	}
	return stdout.Bytes(), nil
}

// environment is what yt-dlp inherits: where to find programs (deno) and
// its cache, and proxy settings; never the bot's secrets.
func environment() []string {
	env := []string{"LANG=C.UTF-8"}
	for _, key := range []string{"PATH", "HOME", "TMPDIR", "XDG_CACHE_HOME", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"} {
		if v, ok := os.LookupEnv(key); ok {
			env = append(env, key+"="+v)
		}
	}
	return env
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

// capped keeps the first max bytes written to it and drops the rest, so a
// chatty process can neither block on a full pipe nor fill memory.
type capped struct {
	bytes.Buffer
	max       int
	truncated bool
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.Len(); len(p) > room {
		c.truncated = true
		c.Buffer.Write(p[:max(room, 0)])
		return len(p), nil
	}
	return c.Buffer.Write(p)
}

// output is the part of yt-dlp's JSON that TimmyBot reads. With a format
// chosen by -f, the chosen format's url and http_headers are at the top;
// when the headers are not, they are the chosen format's in formats.
type output struct {
	FormatID string `json:"format_id"`
	Formats  []struct {
		FormatID    string            `json:"format_id"`
		HTTPHeaders map[string]string `json:"http_headers"`
	} `json:"formats"`
	Type        string            `json:"_type"`
	Title       string            `json:"title"`
	Duration    float64           `json:"duration"`
	WebpageURL  string            `json:"webpage_url"`
	URL         string            `json:"url"`
	HTTPHeaders map[string]string `json:"http_headers"`
	Thumbnail   string            `json:"thumbnail"`
	Thumbnails  []thumbnail       `json:"thumbnails"`
	IsLive      bool              `json:"is_live"`
	Extractor   string            `json:"extractor_key"`
	ACodec      string            `json:"acodec"`
}

// thumbnail is one of yt-dlp's "thumbnails", which it lists from the least
// to the most preferred.
type thumbnail struct {
	URL string `json:"url"`
}

// artwork is yt-dlp's chosen thumbnail, else the most preferred of the
// list that can be shown, else "". Flat playlist entries have only the list.
func artwork(chosen string, list []thumbnail) string {
	if u := music.Artwork(chosen); u != "" {
		return u
	}
	for i := len(list) - 1; i >= 0; i-- {
		if u := music.Artwork(list[i].URL); u != "" {
			return u
		}
	}
	return ""
}

func parse(b []byte) (Info, error) {
	var o output
	if err := json.Unmarshal(b, &o); err != nil {
		return Info{}, fmt.Errorf("reading yt-dlp's JSON: %w", err)
	}
	if o.Type != "" && o.Type != "video" {
		return Info{}, fmt.Errorf("yt-dlp returned a %q, not one track", o.Type)
	}
	if o.URL == "" {
		return Info{}, errors.New("yt-dlp chose no format with a URL")
	}
	if len(o.HTTPHeaders) == 0 {
		for _, f := range o.Formats {
			if f.FormatID == o.FormatID && o.FormatID != "" {
				o.HTTPHeaders = f.HTTPHeaders
			}
		}
	}
	var d time.Duration
	if !o.IsLive && o.Duration > 0 {
		d = time.Duration(o.Duration * float64(time.Second))
	}
	return Info{
		Title: o.Title, Duration: d, PageURL: o.WebpageURL, StreamURL: o.URL, Headers: o.HTTPHeaders,
		Artwork: artwork(o.Thumbnail, o.Thumbnails), IsLive: o.IsLive, Extractor: o.Extractor, AudioCodec: o.ACodec,
	}, nil
}
