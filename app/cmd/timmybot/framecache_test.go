package main

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/iddv/timmybot/app/audio/framecache"
	"github.com/iddv/timmybot/app/telemetry"
)

func TestFrameCacheConfig(t *testing.T) {
	tests := []struct {
		name    string
		value   string // TIMMYBOT_FRAME_CACHE_MB; "" is unset
		want    int
		wantErr bool
	}{
		{name: "default", want: defaultFrameCacheMB},
		{name: "set", value: "64", want: 64},
		{name: "off", value: "0", want: 0},
		{name: "negative", value: "-1", wantErr: true},
		{name: "not a number", value: "lots", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := loadConfig(env("DISCORD_TOKEN", "t", "TIMMYBOT_FRAME_CACHE_MB", tt.value), true)
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), "TIMMYBOT_FRAME_CACHE_MB") {
					t.Fatalf("err %v, want one naming TIMMYBOT_FRAME_CACHE_MB", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.FrameCacheMB != tt.want {
				t.Errorf("FrameCacheMB %d, want %d", c.FrameCacheMB, tt.want)
			}
			c.DataDir = t.TempDir()
			cache, err := openFrameCache(c, nil)
			if err != nil {
				t.Fatal(err)
			}
			if (cache != nil) != (tt.want > 0) {
				t.Errorf("cache %v with %d MB", cache, tt.want)
			}
		})
	}
}

// TestFrameCacheMetrics: /metrics shows the cache's counters.
func TestFrameCacheMetrics(t *testing.T) {
	cache, err := framecache.Open(framecache.Config{Dir: t.TempDir(), MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	w, err := cache.Writer("k")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteFrame([]byte{0xf8, 0xff, 0xfe}); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if r, err := cache.Reader("k", 0); err != nil {
		t.Fatal(err)
	} else {
		r.Close()
	}
	_, _ = cache.Reader("other", 0)
	m := telemetry.NewMetrics()
	frameCacheGauges(m, cache)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{
		"timmybot_frame_cache_hits 1\n",
		"timmybot_frame_cache_misses 1\n",
		"timmybot_frame_cache_evictions 0\n",
		fmt.Sprintf("timmybot_frame_cache_bytes %g\n", float64(cache.Stats().Bytes)),
	} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metrics lack %q:\n%s", want, rec.Body.String())
		}
	}
}
