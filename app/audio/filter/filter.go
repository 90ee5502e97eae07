// Package filter is the table of audio effects users can turn on, as data:
// each effect's name, the description users see, and the ffmpeg filter chain
// that makes it. It also builds the whole -af chain for a track from the
// chosen effects, the volume and loudness normalisation.
//
// It runs nothing: the ffmpeg package passes the chain to the transcoder, and
// the command layer lists All to users. Every chain here works on ffmpeg 5.1.
package filter

import (
	"strconv"
	"strings"

	"github.com/iddv/timmybot/app/music"
)

// Filter is one effect a user can switch on.
type Filter struct {
	Name        string // what users type, lower case
	Description string // one line for users
	Chain       string // ffmpeg -af filter chain
}

// The pitch effects resample to 48 kHz first so that asetrate's factor is
// relative to a known rate, whatever the source's rate is.
var filters = []Filter{
	{"bassboost", "Boosts the bass by 10 dB.", "bass=g=10:f=110:w=0.6"},
	{"nightcore", "Plays 25% faster and higher.", "aresample=48000,asetrate=48000*1.25,aresample=48000"},
	{"vaporwave", "Plays 20% slower and lower.", "aresample=48000,asetrate=48000*0.8,aresample=48000"},
	{"treble", "Boosts the treble by 6 dB.", "treble=g=6:f=3000:w=0.6"},
	{"8d", "Sweeps the sound around your head, once every 8 seconds.", "apulsator=hz=0.125"},
	{"karaoke", "Removes what is mixed to the centre, usually the vocals.", "stereotools=mlev=0.015625"},
}

// Volume limits, in percent; 100 leaves the level as it is.
const (
	MinVolume   = 0
	MaxVolume   = 200
	UnityVolume = 100
)

// Normalize is EBU R128 loudness normalisation to -16 LUFS, single pass. It
// works on a sliding window, so it delays the output by about 3 seconds of
// audio before the first sample, and ffmpeg outputs it at 192 kHz (the
// transcoder resamples to 48 kHz afterwards).
const Normalize = "loudnorm=I=-16:TP=-1.5:LRA=11"

// All returns every filter, in the order users see them.
func All() []Filter {
	return append([]Filter(nil), filters...)
}

// Lookup returns the filter called name (case-insensitive), or an EINVALID
// error listing the names that exist.
func Lookup(name string) (Filter, error) {
	for _, f := range filters {
		if strings.EqualFold(f.Name, name) {
			return f, nil
		}
	}
	return Filter{}, music.Errorf(music.EINVALID, "There is no filter called %q. Filters: %s.", name, names())
}

func names() string {
	var b strings.Builder
	for i, f := range filters {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(f.Name)
	}
	return b.String()
}

// Chain returns the -af chain for the given effects, in order, then
// normalisation, then volume; "" when nothing changes the audio. Volume is
// applied last so that it stays relative to the normalised level.
func Chain(names []string, volume int, normalize bool) (string, error) {
	if volume < MinVolume || volume > MaxVolume {
		return "", music.Errorf(music.EINVALID, "Volume must be between %d and %d%%, not %d.", MinVolume, MaxVolume, volume)
	}
	var parts []string
	for _, name := range names {
		f, err := Lookup(name)
		if err != nil {
			return "", err
		}
		parts = append(parts, f.Chain)
	}
	if normalize {
		parts = append(parts, Normalize)
	}
	if volume != UnityVolume {
		parts = append(parts, "volume="+strconv.FormatFloat(float64(volume)/100, 'f', -1, 64))
	}
	return strings.Join(parts, ","), nil
}
