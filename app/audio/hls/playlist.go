package hls

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/iddv/timmybot/app/music"
)

// maxSegments bounds the segments of one media playlist: a day of 10 s
// segments, or three hours of 1 s ones, is under it.
const maxSegments = 10000

// playlist is a parsed playlist: a master (variants, renditions) or a
// media playlist (segments), never both (RFC 8216 section 4.1).
type playlist struct {
	master bool

	// A master playlist's choices.
	variants []variant
	audio    []rendition

	// A media playlist's segments.
	targetDuration time.Duration
	sequence       int64 // EXT-X-MEDIA-SEQUENCE: the first segment's number
	ended          bool  // EXT-X-ENDLIST, or EXT-X-PLAYLIST-TYPE:VOD
	segments       []segment
}

// variant is an EXT-X-STREAM-INF and the URI on the line after it.
type variant struct {
	uri       *url.URL
	bandwidth int64
	audioOnly bool // its CODECS name only audio codecs
}

// rendition is an EXT-X-MEDIA of TYPE=AUDIO with a URI.
type rendition struct {
	uri   *url.URL
	isDef bool // DEFAULT=YES
}

// segment is one media segment: its resource, its EXTINF duration, and
// the EXT-X-MAP init section in force for it (none when its uri is "").
type segment struct {
	media    part
	duration time.Duration
	init     part
}

// part is what one request fetches: a whole resource, or length bytes of
// it from offset on (EXT-X-BYTERANGE, EXT-X-MAP's BYTERANGE).
type part struct {
	uri            string
	length, offset int64 // length 0: the whole resource
}

var errEncrypted = music.Errorf(music.EINVALID, "That stream is encrypted; TimmyBot cannot play it.")

// notPlaylist is the refusal of a playlist that breaks RFC 8216.
func notPlaylist(format string, args ...any) error {
	return fmt.Errorf("%w: %s", music.Errorf(music.EINVALID, "That stream's playlist could not be read."), fmt.Sprintf(format, args...))
}

// parse reads a playlist whose URIs resolve against base.
func parse(data []byte, base *url.URL) (*playlist, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), len(data)+1)
	p := &playlist{}
	var (
		first      = true
		pending    *variant // an EXT-X-STREAM-INF waiting for its URI
		duration   time.Duration
		hasInf     bool
		byteRange  part // an EXT-X-BYTERANGE waiting for its URI; length 0 for none
		init       part
		mediaLines bool
	)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if first {
			if strings.TrimPrefix(line, "\ufeff") != "#EXTM3U" {
				return nil, notPlaylist("the first line is not #EXTM3U")
			}
			first = false
			continue
		}
		if line == "" || (strings.HasPrefix(line, "#") && !strings.HasPrefix(line, "#EXT")) {
			continue // blank lines and comments
		}
		if !strings.HasPrefix(line, "#") {
			uri, err := base.Parse(line)
			if err != nil {
				return nil, notPlaylist("URI %q: %v", line, err)
			}
			switch {
			case pending != nil:
				pending.uri = uri
				p.variants = append(p.variants, *pending)
				pending = nil
			case hasInf:
				if len(p.segments) == maxSegments {
					return nil, fmt.Errorf("%w: more than %d segments", music.Errorf(music.EINVALID, "That stream's playlist is too long."), maxSegments)
				}
				media, err := segmentPart(uri.String(), byteRange, p.segments)
				if err != nil {
					return nil, err
				}
				p.segments = append(p.segments, segment{media: media, duration: duration, init: init})
				hasInf, byteRange = false, part{}
			default:
				return nil, notPlaylist("URI %q without #EXTINF or #EXT-X-STREAM-INF", line)
			}
			continue
		}
		name, value, _ := strings.Cut(line[1:], ":")
		switch name {
		case "EXT-X-STREAM-INF":
			attrs, err := attributes(value)
			if err != nil {
				return nil, err
			}
			v := variant{audioOnly: audioCodecs(attrs["CODECS"])}
			if v.bandwidth, err = strconv.ParseInt(attrs["BANDWIDTH"], 10, 64); err != nil {
				return nil, notPlaylist("EXT-X-STREAM-INF without a BANDWIDTH")
			}
			pending, p.master = &v, true
		case "EXT-X-MEDIA":
			attrs, err := attributes(value)
			if err != nil {
				return nil, err
			}
			if attrs["TYPE"] == "AUDIO" && attrs["URI"] != "" {
				uri, err := base.Parse(attrs["URI"])
				if err != nil {
					return nil, notPlaylist("EXT-X-MEDIA URI: %v", err)
				}
				p.audio = append(p.audio, rendition{uri: uri, isDef: attrs["DEFAULT"] == "YES"})
			}
			p.master = true
		case "EXT-X-KEY", "EXT-X-SESSION-KEY":
			attrs, err := attributes(value)
			if err != nil {
				return nil, err
			}
			if attrs["METHOD"] != "NONE" {
				return nil, errEncrypted
			}
		case "EXT-X-BYTERANGE":
			length, offset, err := parseByteRange(value)
			if err != nil {
				return nil, notPlaylist("EXT-X-BYTERANGE %q: %v", value, err)
			}
			byteRange, mediaLines = part{length: length, offset: offset}, true
		case "EXTINF":
			d, _, _ := strings.Cut(value, ",")
			seconds, err := strconv.ParseFloat(strings.TrimSpace(d), 64)
			if err != nil || seconds < 0 || seconds > maxSegmentSeconds {
				return nil, notPlaylist("EXTINF %q", d)
			}
			duration, hasInf, mediaLines = time.Duration(seconds*float64(time.Second)), true, true
		case "EXT-X-TARGETDURATION":
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil || n < 0 || n > maxSegmentSeconds {
				return nil, notPlaylist("EXT-X-TARGETDURATION %q", value)
			}
			p.targetDuration, mediaLines = time.Duration(n)*time.Second, true
		case "EXT-X-MEDIA-SEQUENCE":
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil || n < 0 {
				return nil, notPlaylist("EXT-X-MEDIA-SEQUENCE %q", value)
			}
			p.sequence = n
		case "EXT-X-MAP":
			attrs, err := attributes(value)
			if err != nil {
				return nil, err
			}
			uri, err := base.Parse(attrs["URI"])
			if err != nil || attrs["URI"] == "" {
				return nil, notPlaylist("EXT-X-MAP without a URI")
			}
			if init, err = mapPart(uri.String(), attrs); err != nil {
				return nil, err
			}
		case "EXT-X-ENDLIST":
			p.ended = true
		case "EXT-X-PLAYLIST-TYPE":
			p.ended = p.ended || value == "VOD"
		}
	}
	if err := sc.Err(); err != nil {
		return nil, notPlaylist("%v", err)
	}
	switch {
	case first:
		return nil, notPlaylist("it is empty")
	case p.master && mediaLines:
		return nil, notPlaylist("it is both a master and a media playlist")
	case p.master && len(p.variants) == 0 && len(p.audio) == 0:
		return nil, notPlaylist("a master playlist without variants")
	case !p.master && p.targetDuration == 0:
		return nil, notPlaylist("a media playlist without EXT-X-TARGETDURATION")
	}
	return p, nil
}

// maxSegmentSeconds bounds a believable segment or target duration.
const maxSegmentSeconds = 3600

// segmentPart is the part a media segment at uri fetches: the whole
// resource, or the sub-range r of its EXT-X-BYTERANGE. A sub-range without
// an offset (-1) starts where the previous segment's ends, which must then
// be a sub-range of the same resource (RFC 8216 section 4.3.2.2).
func segmentPart(uri string, r part, before []segment) (part, error) {
	r.uri = uri
	if r.length == 0 || r.offset >= 0 {
		return r, nil
	}
	if len(before) == 0 {
		return part{}, notPlaylist("the first segment's EXT-X-BYTERANGE of %d bytes has no offset", r.length)
	}
	prev := before[len(before)-1].media
	if prev.uri != uri || prev.length == 0 {
		return part{}, notPlaylist("an EXT-X-BYTERANGE of %d bytes without an offset follows a segment that is not a sub-range of %s", r.length, uri)
	}
	if r.offset = prev.offset + prev.length; r.offset > math.MaxInt64-r.length {
		return part{}, notPlaylist("an EXT-X-BYTERANGE of %d bytes ends past any file's end", r.length)
	}
	return r, nil
}

// mapPart is the part an EXT-X-MAP whose attributes are attrs fetches: the
// whole resource at uri, or the sub-range its BYTERANGE names, whose offset
// is required.
func mapPart(uri string, attrs map[string]string) (part, error) {
	value, ok := attrs["BYTERANGE"]
	if !ok {
		return part{uri: uri}, nil
	}
	length, offset, err := parseByteRange(value)
	if err == nil && offset < 0 {
		err = errors.New("no offset")
	}
	if err != nil {
		return part{}, notPlaylist("EXT-X-MAP BYTERANGE %q: %v", value, err)
	}
	return part{uri: uri, length: length, offset: offset}, nil
}

// parseByteRange parses <n>[@<o>] (RFC 8216 section 4.3.2.2): a length of
// at least one byte, and the offset of the first, -1 when there is none.
func parseByteRange(s string) (length, offset int64, err error) {
	n, o, hasOffset := strings.Cut(s, "@")
	if length, err = strconv.ParseInt(n, 10, 64); err != nil || length <= 0 {
		return 0, 0, errors.New("not a length in bytes")
	}
	if !hasOffset {
		return length, -1, nil
	}
	if offset, err = strconv.ParseInt(o, 10, 64); err != nil || offset < 0 {
		return 0, 0, errors.New("not an offset in bytes")
	}
	if offset > math.MaxInt64-length {
		return 0, 0, errors.New("it ends past any file's end")
	}
	return length, offset, nil
}

// choose picks the media playlist of a master playlist: an audio-only
// rendition (the default one first), else the audio-only variant of
// highest bandwidth, else the variant of lowest bandwidth, whose video
// costs least to download.
func (p *playlist) choose() *url.URL {
	for _, r := range p.audio {
		if r.isDef {
			return r.uri
		}
	}
	if len(p.audio) > 0 {
		return p.audio[0].uri
	}
	var best *variant
	for i := range p.variants {
		v := &p.variants[i]
		switch {
		case best == nil,
			v.audioOnly && !best.audioOnly,
			v.audioOnly && best.audioOnly && v.bandwidth > best.bandwidth,
			!v.audioOnly && !best.audioOnly && v.bandwidth < best.bandwidth:
			best = v
		}
	}
	return best.uri
}

// audioCodecs reports whether a CODECS attribute names only audio codecs
// (RFC 6381 names: mp4a, opus, mp3, ac-3, ec-3, flac).
func audioCodecs(codecs string) bool {
	if codecs == "" {
		return false
	}
	for _, c := range strings.Split(codecs, ",") {
		name, _, _ := strings.Cut(strings.TrimSpace(c), ".")
		switch strings.ToLower(name) {
		case "mp4a", "opus", "mp3", "ac-3", "ec-3", "flac", "vorbis":
		default:
			return false
		}
	}
	return true
}

// attributes parses an attribute list (RFC 8216 section 4.2): NAME=value
// pairs separated by commas, where a quoted string may hold commas. Quoted
// values are returned without their quotes.
func attributes(s string) (map[string]string, error) {
	attrs := map[string]string{}
	for s != "" {
		name, rest, ok := strings.Cut(s, "=")
		if !ok || name == "" {
			return nil, notPlaylist("attribute list %q", s)
		}
		var value string
		if strings.HasPrefix(rest, `"`) {
			end := strings.IndexByte(rest[1:], '"')
			if end < 0 {
				return nil, notPlaylist("unterminated quoted string in %q", s)
			}
			value, rest = rest[1:end+1], rest[end+2:]
		} else {
			end := strings.IndexByte(rest, ',')
			if end < 0 {
				end = len(rest)
			}
			value, rest = rest[:end], rest[end:]
		}
		attrs[strings.TrimSpace(name)] = value
		if rest != "" {
			if rest[0] != ',' {
				return nil, notPlaylist("attribute list %q", s)
			}
			rest = rest[1:]
		}
		s = rest
	}
	return attrs, nil
}
