package ytdlp

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/iddv/timmybot/app/music"
)

// Reason says why yt-dlp could not resolve a page.
type Reason string

// Reasons, each with its own message for the user and its own count.
const (
	ReasonBotCheck    Reason = "bot_check"
	ReasonAge         Reason = "age_restricted"
	ReasonPrivate     Reason = "private"
	ReasonRemoved     Reason = "removed"
	ReasonRegion      Reason = "region"
	ReasonNotStarted  Reason = "live_not_started"
	ReasonUnsupported Reason = "unsupported_url"
	ReasonTimeout     Reason = "timeout"
	ReasonMissing     Reason = "not_installed"
	ReasonOther       Reason = "other"
)

// Reasons lists every reason, for metrics that publish each one.
var Reasons = []Reason{
	ReasonBotCheck, ReasonAge, ReasonPrivate, ReasonRemoved, ReasonRegion,
	ReasonNotStarted, ReasonUnsupported, ReasonTimeout, ReasonMissing, ReasonOther,
}

// patterns map yt-dlp's error texts (lower case) to reasons, in the order
// they are tried: YouTube prefixes a region block with "Video unavailable",
// so region comes before removed.
var patterns = []struct {
	reason Reason
	texts  []string
}{
	{ReasonBotCheck, []string{"not a bot"}},
	{ReasonAge, []string{"confirm your age", "age-restricted", "age restricted", "inappropriate for some users"}},
	{ReasonPrivate, []string{"private video", "video is private"}},
	{ReasonRegion, []string{"in your country", "from your location", "geo restriction", "geo-restricted"}},
	{ReasonNotStarted, []string{"live event will begin", "premieres in", "will begin in a few moments"}},
	{ReasonUnsupported, []string{"unsupported url"}},
	{ReasonRemoved, []string{"video unavailable", "has been removed", "no longer available", "http error 404", "http error 410", "does not exist", "has been terminated"}},
}

// classify finds the reason in yt-dlp's stderr.
func classify(stderr string) Reason {
	s := strings.ToLower(strings.ReplaceAll(stderr, "’", "'"))
	for _, p := range patterns {
		for _, text := range p.texts {
			if strings.Contains(s, text) {
				return p.reason
			}
		}
	}
	return ReasonOther
}

// messages are what users see, by reason.
var messages = map[Reason]*music.Error{
	ReasonBotCheck:    music.Errorf(music.EUNAVAILABLE, "YouTube wants TimmyBot to prove it is not a bot, so it cannot play that right now. The bot's operator can fix this with a cookies file."),
	ReasonAge:         music.Errorf(music.EFORBIDDEN, "That video is age-restricted: TimmyBot cannot play it."),
	ReasonPrivate:     music.Errorf(music.EFORBIDDEN, "That video is private."),
	ReasonRemoved:     music.Errorf(music.ENOTFOUND, "That video is unavailable: it was removed or never existed."),
	ReasonRegion:      music.Errorf(music.EFORBIDDEN, "That video is not available in the country TimmyBot runs in."),
	ReasonNotStarted:  music.Errorf(music.EINVALID, "That live stream has not started yet; try again once it is live."),
	ReasonUnsupported: music.Errorf(music.EINVALID, "TimmyBot cannot play that page: it is not a track it knows how to find the audio of."),
	ReasonTimeout:     music.Errorf(music.EUNAVAILABLE, "Looking that page up took too long; try again in a moment."),
	ReasonMissing:     music.Errorf(music.EUNAVAILABLE, "TimmyBot cannot play pages from that site here: yt-dlp is not installed."),
	ReasonOther:       music.Errorf(music.EUNAVAILABLE, "TimmyBot could not find the audio on that page."),
}

// searchMessages replace messages for a failed search: what speaks of a
// page or a video means there that nothing matched the words.
var searchMessages = map[Reason]*music.Error{
	ReasonTimeout: music.Errorf(music.EUNAVAILABLE, "That search took too long; try again in a moment."),
	ReasonMissing: music.Errorf(music.EUNAVAILABLE, "TimmyBot cannot search here: yt-dlp is not installed."),
}

// Failure is a run of yt-dlp that resolved nothing. Its chain holds the
// user's message (a *music.Error); Error, for the log, adds the cause.
// Stderr is yt-dlp's (bounded) standard error, for the log only.
type Failure struct {
	Reason Reason
	Stderr string
	Cause  error
	// Words are the words of a failed search, "" when a page failed.
	Words string
}

func (f *Failure) Error() string {
	return fmt.Sprintf("yt-dlp: %s: %v", f.Reason, f.Cause)
}

// Unwrap returns the user's message and the cause.
func (f *Failure) Unwrap() []error { return []error{f.userMessage(), f.Cause} }

func (f *Failure) userMessage() *music.Error {
	if f.Words == "" || f.Reason == ReasonBotCheck {
		return messages[f.Reason]
	}
	if m, ok := searchMessages[f.Reason]; ok {
		return m
	}
	return music.Errorf(music.ENOTFOUND, "Nothing matched %q.", music.Truncate(f.Words, 100))
}

// searchFailed marks err, when it is a Failure, as the failure of a search
// for words, so that it says nothing matched them rather than speak of a
// page.
func searchFailed(err error, words string) error {
	var f *Failure
	if errors.As(err, &f) {
		f.Words = words
	}
	return err
}

// failureCounts counts failures by reason since the process started.
type failureCounts struct {
	mu sync.Mutex
	n  map[Reason]int64
}

func newFailureCounts() *failureCounts { return &failureCounts{n: make(map[Reason]int64)} }

func (c *failureCounts) add(r Reason) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[r]++
}

// Failures returns how many runs failed for reason since New.
func (r *Resolver) Failures(reason Reason) int64 {
	r.failures.mu.Lock()
	defer r.failures.mu.Unlock()
	return r.failures.n[reason]
}

// forbiddenLong are the long options extra arguments may not use, even
// abbreviated (yt-dlp accepts any unambiguous prefix): they run commands,
// write or read files, read other configuration, or replace the binary.
// Cookies have their own setting, which keeps yt-dlp off the original file.
var forbiddenLong = []string{
	"exec", "exec-before-download", "config-location", "config-locations",
	"output", "paths", "batch-file", "load-info-json", "netrc-cmd", "netrc-location",
	"update", "update-to", "plugin-dirs", "print-to-file", "download-archive", "cookies",
}

// forbiddenShort are the one-letter forms of forbidden options.
const forbiddenShort = "oaPU"

// ValidateArgs refuses extra arguments that could make yt-dlp do more than
// resolve a page. Short options must stand alone ("-f", not "-fbest").
func ValidateArgs(args []string) error {
	for _, a := range args {
		switch {
		case a == "" || a == "--" || strings.ContainsRune(a, 0):
			return fmt.Errorf("yt-dlp argument %q is not allowed", a)
		case strings.HasPrefix(a, "--"):
			name, _, _ := strings.Cut(a[2:], "=")
			for _, f := range forbiddenLong {
				if strings.HasPrefix(f, name) {
					return fmt.Errorf("yt-dlp option %q is not allowed: it could run commands, touch files or read other configuration", a)
				}
			}
		case strings.HasPrefix(a, "-") && len(a) > 1 && (a[1] < '0' || a[1] > '9'):
			if len(a) != 2 {
				return fmt.Errorf("yt-dlp option %q: give short options alone, with their value as the next word", a)
			}
			if strings.IndexByte(forbiddenShort, a[1]) >= 0 {
				return fmt.Errorf("yt-dlp option %q is not allowed: it could run commands, touch files or replace yt-dlp", a)
			}
		}
	}
	return nil
}
