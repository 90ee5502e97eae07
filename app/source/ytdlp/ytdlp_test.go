package ytdlp

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/iddv/timmybot/app/music"
)

// fake is a yt-dlp stand-in: a shell script that records its argument list
// (NUL-separated) and answers with the stdout, stderr and exit status the
// test gave it.
type fake struct {
	dir  string
	path string
}

func newFake(t *testing.T, stdout, stderr string, status int) *fake {
	t.Helper()
	return newFakeScript(t, stdout, stderr, status, "")
}

// newFakeScript is newFake with extra shell lines run before answering.
func newFakeScript(t *testing.T, stdout, stderr string, status int, extra string) *fake {
	t.Helper()
	dir := t.TempDir()
	f := &fake{dir: dir, path: filepath.Join(dir, "yt-dlp")}
	for name, body := range map[string]string{"stdout": stdout, "stderr": stderr} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	script := "#!/bin/sh\n" +
		"printf '%s\\0' \"$@\" > '" + dir + "/argv.tmp' && mv '" + dir + "/argv.tmp' '" + dir + "/argv'\n" +
		extra + "\n" +
		"cat '" + dir + "/stdout'\ncat '" + dir + "/stderr' >&2\n" +
		"exit " + strconv.Itoa(status) + "\n"
	if err := os.WriteFile(f.path, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	return f
}

// argv is the argument list the fake last received; ran is false when it
// never ran.
func (f *fake) argv(t *testing.T) (args []string, ran bool) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(f.dir, "argv"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, false
	} else if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00"), true
}

func mustNew(t *testing.T, cfg Config) *Resolver {
	t.Helper()
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// fixedArgs is what every run passes before "--".
var fixedArgs = []string{
	"--ignore-config", "--no-playlist", "--dump-single-json", "--no-warnings",
	"--socket-timeout", "10", "-f", "bestaudio[acodec=opus][protocol^=http]/bestaudio[protocol^=http]/bestaudio/best",
}

// videoJSON is the shape of yt-dlp's answer for a YouTube video with an
// Opus format chosen (trimmed).
const videoJSON = `{"id":"dQw4w9WgXcQ","title":"Never Gonna Give You Up","duration":213.0,
"webpage_url":"https://www.youtube.com/watch?v=dQw4w9WgXcQ","thumbnail":"https://i.ytimg.com/vi/dQw4w9WgXcQ/maxresdefault.jpg",
"is_live":false,"extractor_key":"Youtube","_type":"video","format_id":"251","acodec":"opus","ext":"webm",
"url":"https://rr1---sn-abc.googlevideo.com/videoplayback?expire=1&itag=251",
"http_headers":{"User-Agent":"Mozilla/5.0","Accept":"*/*"},
"formats":[{"format_id":"140","url":"https://rr1---sn-abc.googlevideo.com/videoplayback?itag=140"}]}`

func TestResolve(t *testing.T) {
	f := newFake(t, videoJSON, "", 0)
	r := mustNew(t, Config{Path: f.path})
	const page = "https://youtu.be/dQw4w9WgXcQ"
	info, err := r.Resolve(context.Background(), page)
	if err != nil {
		t.Fatal(err)
	}
	want := Info{
		Title: "Never Gonna Give You Up", Duration: 213 * time.Second,
		PageURL:   "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
		StreamURL: "https://rr1---sn-abc.googlevideo.com/videoplayback?expire=1&itag=251",
		Headers:   map[string]string{"User-Agent": "Mozilla/5.0", "Accept": "*/*"},
		Artwork:   "https://i.ytimg.com/vi/dQw4w9WgXcQ/maxresdefault.jpg",
		Extractor: "Youtube", AudioCodec: "opus",
	}
	if diff := cmp.Diff(want, info); diff != "" {
		t.Errorf("info (-want +got):\n%s", diff)
	}
	args, _ := f.argv(t)
	if diff := cmp.Diff(append(append([]string{}, fixedArgs...), "--", page), args); diff != "" {
		t.Errorf("argv (-want +got):\n%s", diff)
	}

}

// The artwork is yt-dlp's chosen thumbnail, else the most preferred of its
// list (which it orders from least to most), of those that can be shown.
func TestResolveArtwork(t *testing.T) {
	const stream = `"_type":"video","title":"x","url":"https://media.example.com/a.webm"`
	for _, tt := range []struct {
		name, json, want string
	}{
		{"chosen", `{` + stream + `,"thumbnail":"https://i.ytimg.com/vi/a/hq.jpg","thumbnails":[{"url":"https://i.ytimg.com/vi/a/sd.jpg"}]}`, "https://i.ytimg.com/vi/a/hq.jpg"},
		{"the list's most preferred", `{` + stream + `,"thumbnails":[{"url":"https://i.ytimg.com/vi/a/sd.jpg","preference":-10},{"url":"https://i.ytimg.com/vi/a/hq.jpg","preference":0}]}`, "https://i.ytimg.com/vi/a/hq.jpg"},
		{"past a chosen one that cannot be shown", `{` + stream + `,"thumbnail":"file:///etc/passwd","thumbnails":[{"url":"https://i.ytimg.com/vi/a/sd.jpg"},{"url":"data:image/png;base64,AA"}]}`, "https://i.ytimg.com/vi/a/sd.jpg"},
		{"none", `{` + stream + `}`, ""},
		{"none that can be shown", `{` + stream + `,"thumbnail":"//i.ytimg.com/a.jpg","thumbnails":[{"url":"ftp://i.ytimg.com/a.jpg"}]}`, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			info, err := parse([]byte(tt.json))
			if err != nil {
				t.Fatal(err)
			}
			if info.Artwork != tt.want {
				t.Errorf("Artwork = %q, want %q", info.Artwork, tt.want)
			}
		})
	}
}

func TestResolveRefusesOutput(t *testing.T) {
	tests := []struct {
		name, stdout string
	}{
		{"not JSON", "ERROR"},
		{"a playlist", `{"_type":"playlist","entries":[]}`},
		{"no format URL", `{"_type":"video","title":"x"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustNew(t, Config{Path: newFake(t, tt.stdout, "", 0).path})
			_, err := r.Resolve(context.Background(), "https://youtu.be/x")
			wantFailure(t, err, ReasonOther)
		})
	}
}

// The texts yt-dlp prints for each failure (from its YouTube and generic
// extractors).
func TestFailureClasses(t *testing.T) {
	tests := []struct {
		name, stderr string
		want         Reason
	}{
		{"bot check", "ERROR: [youtube] dQw4w9WgXcQ: Sign in to confirm you’re not a bot. Use --cookies-from-browser or --cookies for the authentication. See  https://github.com/yt-dlp/yt-dlp/wiki/FAQ#how-do-i-pass-cookies-to-yt-dlp  for how to manually pass cookies. Also see  https://github.com/yt-dlp/yt-dlp/wiki/Extractors#exporting-youtube-cookies  for tips on effectively exporting YouTube cookies\n", ReasonBotCheck},
		{"age restriction", "ERROR: [youtube] abc: Sign in to confirm your age. This video may be inappropriate for some users. Use --cookies-from-browser or --cookies for the authentication.\n", ReasonAge},
		{"private", "ERROR: [youtube] abc: Private video. Sign in if you've been granted access to this video. Use --cookies-from-browser or --cookies for the authentication.\n", ReasonPrivate},
		{"removed", "ERROR: [youtube] abc: Video unavailable. This video has been removed by the uploader\n", ReasonRemoved},
		{"unavailable", "ERROR: [youtube] abc: Video unavailable\n", ReasonRemoved},
		{"not found", "ERROR: [generic] None: Unable to download webpage: HTTP Error 404: Not Found (caused by <HTTPError 404: 'Not Found'>)\n", ReasonRemoved},
		{"region", "ERROR: [youtube] abc: Video unavailable. The uploader has not made this video available in your country\n", ReasonRegion},
		{"geo restriction", "ERROR: [vimeo] 123: This video is not available from your location due to geo restriction\n", ReasonRegion},
		{"live not started", "ERROR: [youtube] abc: This live event will begin in 3 hours.\n", ReasonNotStarted},
		{"premiere", "ERROR: [youtube] abc: Premieres in 2 hours\n", ReasonNotStarted},
		{"unsupported", "ERROR: Unsupported URL: https://example.com/\n", ReasonUnsupported},
		{"anything else", "ERROR: [youtube] abc: Requested format is not available\n", ReasonOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustNew(t, Config{Path: newFake(t, "", tt.stderr, 1).path})
			_, err := r.Resolve(context.Background(), "https://www.youtube.com/watch?v=abc")
			f := wantFailure(t, err, tt.want)
			if f.Stderr != tt.stderr {
				t.Errorf("stderr = %q, want all of it", f.Stderr)
			}
			user := music.ErrorMessage(err)
			if user != messages[tt.want].Message || strings.Contains(user, "ERROR") {
				t.Errorf("user message = %q", user)
			}
			if n := r.Failures(tt.want); n != 1 {
				t.Errorf("Failures(%s) = %d, want 1", tt.want, n)
			}
		})
	}
}

// Every reason has a message of its own.
func TestReasonsHaveMessages(t *testing.T) {
	seen := map[string]Reason{}
	for _, r := range Reasons {
		m, ok := messages[r]
		if !ok {
			t.Fatalf("no message for %s", r)
		}
		if other, dup := seen[m.Message]; dup {
			t.Errorf("%s and %s share a message", r, other)
		}
		seen[m.Message] = r
	}
}

// Hostile queries never become yt-dlp options: either Resolve refuses them
// before yt-dlp starts, or they arrive as the one word after "--".
func TestHostileQueries(t *testing.T) {
	tests := []struct {
		name, query string
		refused     bool
	}{
		{"exec", "--exec id", true},
		{"exec joined", "--exec=id", true},
		{"output", "-o /etc/x", true},
		{"config location", "--config-location /tmp/x", true},
		{"lone dash", "-", true},
		{"double dash", "--", true},
		{"unicode dash", "\u2014exec id", true},
		{"search prefix", "ytsearch99999:never gonna", true},
		{"search prefix on a URL", "ytsearch99999:https://youtu.be/x", true},
		{"6000 characters", "https://youtu.be/" + strings.Repeat("a", 6000), true},
		{"NUL byte", "https://youtu.be/x\x00--exec=id", true},
		{"leading space and dashes", " --exec id", true},
		{"right-to-left mark", "https://youtu.be/x?\u202e--exec=id", false},
		{"dashes in the path", "https://youtu.be/--exec", false},
		{"options in the query string", "https://www.youtube.com/watch?v=x&-o=/etc/x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, videoJSON, "", 0)
			r := mustNew(t, Config{Path: f.path, ExtraArgs: []string{"--proxy", "socks5://127.0.0.1:1"}})
			_, err := r.Resolve(context.Background(), tt.query)
			args, ran := f.argv(t)
			if tt.refused {
				if music.ErrorCode(err) != music.EINVALID || ran {
					t.Fatalf("err = %v, ran = %v %q; want refused before yt-dlp starts", err, ran, args)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := append(append([]string{}, fixedArgs...), "--proxy", "socks5://127.0.0.1:1", "--", tt.query)
			if diff := cmp.Diff(want, args); diff != "" {
				t.Errorf("argv (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateArgs(t *testing.T) {
	tests := []struct {
		name string
		args []string
		ok   bool
	}{
		{"none", nil, true},
		{"proxy", []string{"--proxy", "http://proxy:3128"}, true},
		{"extractor args", []string{"--extractor-args", "youtube:player_client=web"}, true},
		{"short option alone", []string{"-f", "bestaudio"}, true},
		{"source address", []string{"--source-address=192.0.2.1"}, true},
		{"exec", []string{"--exec", "id"}, false},
		{"exec abbreviated", []string{"--exe", "id"}, false},
		{"exec joined", []string{"--exec=id"}, false},
		{"output", []string{"-o", "/etc/x"}, false},
		{"output long", []string{"--output", "/etc/x"}, false},
		{"output in a cluster", []string{"-xo", "/etc/x"}, false},
		{"config location", []string{"--config-location", "/tmp/x"}, false},
		{"config locations abbreviated", []string{"--config-loc=/tmp/x"}, false},
		{"batch file", []string{"-a", "/etc/passwd"}, false},
		{"update", []string{"-U"}, false},
		{"cookies", []string{"--cookies", "/tmp/c"}, false},
		{"end of options", []string{"--"}, false},
		{"empty", []string{""}, false},
		{"NUL", []string{"--proxy\x00x"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateArgs(tt.args)
			if (err == nil) != tt.ok {
				t.Errorf("ValidateArgs(%q) = %v, want ok %v", tt.args, err, tt.ok)
			}
			if _, newErr := New(Config{ExtraArgs: tt.args}); (newErr == nil) != tt.ok {
				t.Errorf("New accepted %q: %v", tt.args, newErr)
			}
		})
	}
}

func TestHandles(t *testing.T) {
	r := mustNew(t, Config{})
	tests := []struct {
		url  string
		want bool
	}{
		{"https://www.youtube.com/watch?v=x", true},
		{"https://youtu.be/x", true},
		{"https://music.youtube.com/watch?v=x", true},
		{"https://artist.bandcamp.com/track/song", true},
		{"https://SoundCloud.com/a/b", true},
		{"https://www.youtube.com./watch?v=x", true},
		{"https://notyoutube.com/x", false},
		{"https://youtube.com.evil.example/x", false},
		{"https://audio.example/song.mp3", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			u, err := url.Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Handles(u); got != tt.want {
				t.Errorf("Handles = %v, want %v", got, tt.want)
			}
		})
	}
	custom := mustNew(t, Config{Sites: []string{"127.0.0.1"}})
	if !custom.Handles(&url.URL{Host: "127.0.0.1:8080"}) || custom.Handles(&url.URL{Host: "youtube.com"}) {
		t.Error("configured sites replace the default list")
	}
}

// yt-dlp that outlives the timeout is killed with everything it started.
func TestTimeoutKillsTheProcessGroup(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child")
	f := newFakeScript(t, "", "", 0, "sleep 30 & echo $! > '"+pidFile+"'; wait")
	// Long enough for the script to start its child on a loaded machine.
	r := mustNew(t, Config{Path: f.path, Timeout: 2 * time.Second})
	start := time.Now()
	_, err := r.Resolve(context.Background(), "https://youtu.be/x")
	wantFailure(t, err, ReasonTimeout)
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("Resolve returned after %s", took)
	}
	if music.ErrorMessage(err) != messages[ReasonTimeout].Message {
		t.Errorf("user message = %q", music.ErrorMessage(err))
	}
	pid, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	// The group was sent SIGKILL; the child dies as soon as it is scheduled.
	for deadline := time.Now().Add(5 * time.Second); alive(strings.TrimSpace(string(pid))); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("yt-dlp's child %s still runs", pid)
		}
	}
}

// alive reports whether pid runs (a zombie has ended).
func alive(pid string) bool {
	stat, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(stat), ") ")
	return !strings.HasPrefix(rest, "Z")
}

// A caller that gives up is not yt-dlp's failure: no reason, no count.
func TestCancelIsNotAFailure(t *testing.T) {
	f := newFakeScript(t, "", "", 0, "exec sleep 30")
	r := mustNew(t, Config{Path: f.path})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := r.Resolve(ctx, "https://youtu.be/x"); errc <- err }()
	waitFor(t, func() bool { _, ran := f.argv(t); return ran })
	cancel()
	err := <-errc
	var fail *Failure
	if !errors.Is(err, context.Canceled) || errors.As(err, &fail) {
		t.Fatalf("err = %v, want context.Canceled and no Failure", err)
	}
	for _, reason := range Reasons {
		if n := r.Failures(reason); n != 0 {
			t.Errorf("Failures(%s) = %d", reason, n)
		}
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// No more than MaxConcurrent yt-dlp processes run at once, whatever they
// run for: the fake fails when it finds another one running.
func TestConcurrencyLimit(t *testing.T) {
	tests := []struct {
		name, stdout string
		run          func(r *Resolver) error
	}{
		{"resolutions", videoJSON, func(r *Resolver) error {
			_, err := r.Resolve(context.Background(), "https://youtu.be/x")
			return err
		}},
		{"related tracks", mixJSON, func(r *Resolver) error {
			_, err := r.Related(context.Background(), music.Track{URL: "https://youtu.be/dQw4w9WgXcQ"}, nil)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lock := filepath.Join(t.TempDir(), "running")
			f := newFakeScript(t, tt.stdout, "", 0, "mkdir '"+lock+"' || exit 3\nsleep 0.05\nrmdir '"+lock+"'")
			r := mustNew(t, Config{Path: f.path, MaxConcurrent: 1})
			var wg sync.WaitGroup
			errs := make(chan error, 6)
			for range 6 {
				wg.Go(func() { errs <- tt.run(r) })
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// yt-dlp gets a private copy of the cookies file: what it writes back
// never reaches the operator's file, and the copy is gone afterwards.
func TestCookiesCopy(t *testing.T) {
	dir := t.TempDir()
	cookies := filepath.Join(dir, "cookies.txt")
	const jar = "# Netscape HTTP Cookie File\n.youtube.com\tTRUE\t/\tTRUE\t0\tSID\tsecret\n"
	if err := os.WriteFile(cookies, []byte(jar), 0o600); err != nil {
		t.Fatal(err)
	}
	seen := filepath.Join(dir, "seen")
	// The fake finds its cookies argument, keeps what it read, and
	// overwrites the file as yt-dlp does.
	script := `prev=; for a in "$@"; do if [ "$prev" = --cookies ]; then cp "$a" '` + seen + `'; echo rewritten > "$a"; echo "$a" > '` + seen + `.path'; fi; prev=$a; done`
	f := newFakeScript(t, videoJSON, "", 0, script)
	r := mustNew(t, Config{Path: f.path, Cookies: cookies})
	if _, err := r.Resolve(context.Background(), "https://youtu.be/x"); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(seen)
	if err != nil {
		t.Fatalf("yt-dlp got no cookies: %v", err)
	}
	if string(got) != jar {
		t.Errorf("yt-dlp read %q", got)
	}
	if orig, _ := os.ReadFile(cookies); string(orig) != jar {
		t.Errorf("the operator's file became %q", orig)
	}
	copyPath, _ := os.ReadFile(seen + ".path")
	if _, err := os.Stat(strings.TrimSpace(string(copyPath))); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the copy %s is still there: %v", copyPath, err)
	}
}

// yt-dlp inherits no secret from the bot's environment.
func TestEnvironment(t *testing.T) {
	t.Setenv("DISCORD_TOKEN", "secret-token")
	out := filepath.Join(t.TempDir(), "env")
	f := newFakeScript(t, videoJSON, "", 0, "env > '"+out+"'")
	r := mustNew(t, Config{Path: f.path})
	if _, err := r.Resolve(context.Background(), "https://youtu.be/x"); err != nil {
		t.Fatal(err)
	}
	env, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(env, []byte("secret-token")) {
		t.Error("yt-dlp saw DISCORD_TOKEN")
	}
	if !bytes.Contains(env, []byte("PATH=")) {
		t.Error("yt-dlp got no PATH, so it cannot find deno")
	}
}

func TestMissingExecutable(t *testing.T) {
	r := mustNew(t, Config{Path: filepath.Join(t.TempDir(), "yt-dlp")})
	_, err := r.Resolve(context.Background(), "https://youtu.be/x")
	wantFailure(t, err, ReasonMissing)
}

func TestJSRuntime(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("PATH", dir)
	if got := mustNew(t, Config{}).JSRuntime(); got != "" {
		t.Errorf("JSRuntime = %q with no deno in PATH", got)
	}
	deno := filepath.Join(dir, "deno")
	if err := os.WriteFile(deno, []byte("#!/bin/sh\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	if got := mustNew(t, Config{}).JSRuntime(); got != deno {
		t.Errorf("JSRuntime = %q, want %q", got, deno)
	}
}

// wantFailure fails t unless err is a Failure for reason, and returns it.
func wantFailure(t *testing.T, err error, reason Reason) *Failure {
	t.Helper()
	var f *Failure
	if !errors.As(err, &f) || f.Reason != reason {
		t.Fatalf("err = %v, want a %s failure", err, reason)
	}
	return f
}
