package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/iddv/timmybot/test/audiocheck"
	"github.com/iddv/timmybot/test/audiohost"
)

// fakeYTDLP writes a yt-dlp stand-in that answers each page in pages with
// a video titled by the page's last path element whose audio is at the
// given URL, however it is asked (a video's page is a video even in a
// flat listing), and every other flat listing (a search, a mix) with list.
func fakeYTDLP(t *testing.T, pages map[string]string, list string) string {
	t.Helper()
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("list.json", list)
	script := "#!/bin/sh\nfor a; do last=$a; done\ncase \"$last\" in\n"
	i := 0
	for page, audio := range pages {
		i++
		name := fmt.Sprintf("video%d.json", i)
		write(name, fmt.Sprintf(`{"_type":"video","title":%q,"duration":3.0,"webpage_url":%q,"url":%q,"acodec":"opus","extractor_key":"Generic"}`, filepath.Base(page), page, audio))
		script += fmt.Sprintf("%q) exec cat '%s/%s';;\n", page, dir, name)
	}
	script += "esac\ncase \"$*\" in *--flat-playlist*) exec cat '" + dir + "/list.json';; esac\n"
	script += "echo 'ERROR: Unsupported URL' >&2\nexit 1\n"
	path := filepath.Join(dir, "yt-dlp")
	if err := os.WriteFile(path, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestAutoplayPlaysARelatedTrack: with autoplay on, the queue's last track
// ends and a related one the bot found (a search for its title, through
// the yt-dlp executable) follows; the listener hears both tones.
func TestAutoplayPlaysARelatedTrack(t *testing.T) {
	t.Parallel()
	host := audiohost.Start(t)
	// The pages are never fetched: the stand-in answers for them.
	site := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(site.Close)
	evening, night := site.URL+"/evening", site.URL+"/night"
	list := fmt.Sprintf(`{"_type":"playlist","entries":[{"_type":"url","url":%q,"title":"evening"},{"_type":"url","url":%q,"title":"night","duration":3.0}]}`, evening, night)
	ytdlp := fakeYTDLP(t, map[string]string{evening: host.URL(audiohost.WebM), night: host.URL(audiohost.FLAC)}, list)
	r := newRoom(t, "TIMMYBOT_YTDLP_SITES=127.0.0.1", "TIMMYBOT_YTDLP="+ytdlp)

	r.play(t, evening, "Playing **")
	r.control(t, memberID, "Autoplay on: when the queue runs out, I'll play related tracks.", "autoplay", opt("enabled", true))
	// After the related track, every track the search finds was played:
	// the bot goes quiet instead of repeating one.
	r.waitFrames(t, 300, 60*time.Second)
	r.waitQuiet(t, 30*time.Second)
	// An answer that comes after the first track ended leaves a gap of
	// silence frames: the lookup's speed is the machine's, not the bot's.
	heard := r.heard(t)
	t.Logf("longest silence: %d frames", longestSilence(heard))
	audiocheck.ExpectTones(t, listen(t, withoutSilence(heard)),
		audiocheck.Tone{Frequency: 1100, Duration: 3 * time.Second},
		audiocheck.Tone{Frequency: 660, Duration: 3 * time.Second})
}
