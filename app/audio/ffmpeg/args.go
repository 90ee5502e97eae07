// Package ffmpeg runs the transcoder: one ffmpeg subprocess per track that
// reads one input the bot owns (a pipe fed from an io.Reader, or a loopback
// URL from the relay) and writes Ogg Opus (48 kHz, stereo, 20 ms frames) to
// its stdout, with the track's seek, length limit and filters applied.
//
// It owns the subprocess and its whole process group: Close kills both and
// waits. It does not fetch audio (the relay does), choose effects (the
// filter package's table does) or parse its own output (the Ogg demuxer
// does). Passthrough tells callers when no transcoding is needed at all.
//
// ffmpeg is confined to what the input needs: -protocol_whitelist allows only
// the pipe, or only http and tcp for the relay, and -format_whitelist allows
// only audio demuxers, so playlist formats (HLS, DASH, concat) that would make
// ffmpeg open further URLs are refused.
package ffmpeg

import (
	"io"
	"strconv"
	"time"

	"github.com/iddv/timmybot/app/audio/filter"
	"github.com/iddv/timmybot/app/music"
)

// Formats is the -format_whitelist: the demuxers of the audio containers we
// accept (mov covers mp4, m4a and fMP4 HLS segments; matroska covers webm;
// aac reads ADTS; mpegts reads the MPEG-TS segments the bot's own HLS
// client hands over). Never hls, dash or concat, which open further URLs.
// ffmpeg matches any of a demuxer's names against it.
const Formats = "mp3,aac,mov,flac,wav,ogg,matroska,mpegts"

// Input is what ffmpeg reads: exactly one of Reader and URL.
type Input struct {
	// Reader is piped to ffmpeg's stdin. A pipe cannot seek, so Start is
	// applied by decoding and dropping audio up to it. The Reader should
	// end when the Start context does (an HTTP body does).
	Reader io.Reader
	// URL is a loopback http URL from the relay, which supports Range, so
	// ffmpeg seeks in it before reading.
	URL string
}

// Options says how to transcode a track.
type Options struct {
	Start       time.Duration // where to begin; 0 from the start
	Volume      int           // percent, 0 to 200; 100 unchanged (the zero value mutes)
	Filters     []string      // names from the filter table, applied in order
	Normalize   bool          // EBU R128 loudness normalisation (adds ~3 s of latency)
	MaxDuration time.Duration // stop after this much output audio; 0 no limit
}

// Passthrough reports whether opts leave the audio as it is, so an Opus
// source can be sent without running ffmpeg.
func Passthrough(opts Options) bool {
	return opts.Volume == filter.UnityVolume && len(opts.Filters) == 0 && !opts.Normalize
}

// Args returns ffmpeg's arguments, without the program name, for in and opts.
func Args(in Input, opts Options) ([]string, error) {
	if (in.Reader == nil) == (in.URL == "") {
		return nil, music.Errorf(music.EINTERNAL, "ffmpeg needs exactly one input, a reader or a URL")
	}
	if opts.Start < 0 || opts.MaxDuration < 0 {
		return nil, music.Errorf(music.EINVALID, "A start time or length cannot be negative.")
	}
	chain, err := filter.Chain(opts.Filters, opts.Volume, opts.Normalize)
	if err != nil {
		return nil, err
	}
	// Info, not error: the input's dump says its length (Input). No
	// progress lines.
	args := []string{"-hide_banner", "-loglevel", "info", "-nostats"}
	source, protocols := "pipe:0", "pipe"
	if in.URL != "" {
		source, protocols = in.URL, "http,tcp"
		args = append(args, "-nostdin")
	}
	args = append(args, "-protocol_whitelist", protocols, "-format_whitelist", Formats)
	if in.URL != "" && opts.Start > 0 {
		args = append(args, "-ss", seconds(opts.Start))
	}
	args = append(args, "-i", source, "-map", "0:a:0")
	if in.URL == "" && opts.Start > 0 {
		args = append(args, "-ss", seconds(opts.Start))
	}
	if opts.MaxDuration > 0 {
		args = append(args, "-t", seconds(opts.MaxDuration))
	}
	if chain != "" {
		args = append(args, "-af", chain)
	}
	// One Ogg page per 20 ms packet, flushed at once, so the first audio
	// leaves ffmpeg as soon as it is encoded.
	return append(args,
		"-c:a", "libopus", "-b:a", "128k", "-vbr", "on", "-frame_duration", "20", "-application", "audio",
		"-ar", "48000", "-ac", "2",
		"-f", "ogg", "-page_duration", "20000", "-flush_packets", "1", "pipe:1"), nil
}

func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 3, 64)
}
