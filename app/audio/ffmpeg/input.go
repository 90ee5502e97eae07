package ffmpeg

import (
	"bytes"
	"regexp"
	"strconv"
	"sync"
	"time"
)

// InputInfo is what ffmpeg printed about its input before transcoding it:
// the line "  Duration: 00:03:12.34, start: 0.000000, bitrate: 128 kb/s".
type InputInfo struct {
	Duration time.Duration // zero when ffmpeg says N/A (a pipe it cannot size)
	BitRate  int64         // bits per second, zero when not said
}

// maxInfoLine bounds the line the scanner keeps while it waits for its
// end: input dumps are short, and other output is not kept at all.
const maxInfoLine = 1 << 10

// maxDuration bounds a believable input length: a week of audio.
const maxDuration = 7 * 24 * time.Hour

var (
	durationField = regexp.MustCompile(`^\s*Duration: (?:(\d{2,}):(\d{2}):(\d{2})\.(\d{2})|N/A)`)
	bitRateField  = regexp.MustCompile(`, bitrate: (\d{1,9}) kb/s`)
)

// inputScanner reads ffmpeg's stderr line by line until the input's
// Duration line, and keeps what that line says. ffmpeg writes it from its
// own goroutine of exec; readers ask from theirs.
type inputScanner struct {
	mu   sync.Mutex
	line []byte
	done bool
	info InputInfo
}

func (s *inputScanner) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for rest := b; !s.done && len(rest) > 0; {
		end := bytes.IndexByte(rest, '\n')
		if end < 0 {
			if len(s.line)+len(rest) <= maxInfoLine {
				s.line = append(s.line, rest...)
			}
			break
		}
		if len(s.line)+end <= maxInfoLine {
			s.scan(append(s.line, rest[:end]...))
		}
		s.line, rest = s.line[:0], rest[end+1:]
	}
	return len(b), nil
}

// scan reads one line; the first Duration line ends the scan, and so does
// the output's dump, which follows the input's.
func (s *inputScanner) scan(line []byte) {
	if bytes.HasPrefix(line, []byte("Output #")) {
		s.done = true
		return
	}
	m := durationField.FindSubmatch(line)
	if m == nil {
		return
	}
	s.done = true
	if m[1] != nil {
		h, _ := strconv.ParseInt(string(m[1]), 10, 64)
		mi, _ := strconv.ParseInt(string(m[2]), 10, 64)
		sec, _ := strconv.ParseInt(string(m[3]), 10, 64)
		cs, _ := strconv.ParseInt(string(m[4]), 10, 64)
		if h < int64(maxDuration/time.Hour) {
			s.info.Duration = time.Duration(h)*time.Hour + time.Duration(mi)*time.Minute + time.Duration(sec)*time.Second + time.Duration(cs)*10*time.Millisecond
		}
	}
	if b := bitRateField.FindSubmatch(line); b != nil {
		kbps, _ := strconv.ParseInt(string(b[1]), 10, 64)
		s.info.BitRate = kbps * 1000
	}
}

func (s *inputScanner) get() InputInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.info
}
