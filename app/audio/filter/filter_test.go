package filter

import (
	"testing"

	"github.com/iddv/timmybot/app/music"
)

func TestChain(t *testing.T) {
	tests := []struct {
		name      string
		filters   []string
		volume    int
		normalize bool
		want      string
		wantCode  string
	}{
		{name: "nothing", volume: 100, want: ""},
		{name: "half volume", volume: 50, want: "volume=0.5"},
		{name: "mute", volume: 0, want: "volume=0"},
		{name: "double volume", volume: 200, want: "volume=2"},
		{name: "odd volume", volume: 37, want: "volume=0.37"},
		{name: "normalize", volume: 100, normalize: true, want: "loudnorm=I=-16:TP=-1.5:LRA=11"},
		{name: "one filter", filters: []string{"nightcore"}, volume: 100,
			want: "aresample=48000,asetrate=48000*1.25,aresample=48000"},
		{name: "case-insensitive", filters: []string{"BassBoost"}, volume: 100, want: "bass=g=10:f=110:w=0.6"},
		{name: "filters in order then normalize then volume", filters: []string{"karaoke", "8d"}, volume: 150, normalize: true,
			want: "stereotools=mlev=0.015625,apulsator=hz=0.125,loudnorm=I=-16:TP=-1.5:LRA=11,volume=1.5"},
		{name: "unknown filter", filters: []string{"chipmunk"}, volume: 100, wantCode: music.EINVALID},
		{name: "volume too high", volume: 201, wantCode: music.EINVALID},
		{name: "volume negative", volume: -1, wantCode: music.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Chain(tt.filters, tt.volume, tt.normalize)
			if code := music.ErrorCode(err); code != tt.wantCode {
				t.Fatalf("Chain error code = %q (%v), want %q", code, err, tt.wantCode)
			}
			if got != tt.want {
				t.Errorf("Chain = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLookupUnknownNamesTheFilters(t *testing.T) {
	_, err := Lookup("chipmunk")
	want := `There is no filter called "chipmunk". Filters: bassboost, nightcore, vaporwave, treble, 8d, karaoke.`
	if got := music.ErrorMessage(err); got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
}

func TestAllIsACopy(t *testing.T) {
	all := All()
	all[0].Chain = "changed"
	if All()[0].Chain == "changed" {
		t.Error("All returned the table itself; callers could change the filters")
	}
}

func TestTableIsComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range All() {
		if f.Name == "" || f.Description == "" || f.Chain == "" {
			t.Errorf("filter %+v has an empty field", f)
		}
		if seen[f.Name] {
			t.Errorf("filter %q listed twice", f.Name)
		}
		seen[f.Name] = true
	}
}
