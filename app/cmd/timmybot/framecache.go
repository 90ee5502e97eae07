package main

import (
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/iddv/timmybot/app/audio/framecache"
	"github.com/iddv/timmybot/app/telemetry"
)

// defaultFrameCacheMB bounds the frame cache unless configured: about four
// and a half hours of 128 kbit/s Opus.
const defaultFrameCacheMB = 256

// openFrameCache opens the frame cache in the data directory, or returns
// nil when it is off. Its entries survive a restart: a redeploy should not
// download every favourite again, and each entry is checked before it is
// played.
func openFrameCache(c config, log *slog.Logger) (*framecache.Cache, error) {
	if c.FrameCacheMB == 0 {
		return nil, nil
	}
	cache, err := framecache.Open(framecache.Config{
		Dir:      filepath.Join(c.DataDir, "frames"),
		MaxBytes: int64(c.FrameCacheMB) << 20,
		Logger:   log,
	})
	if err != nil {
		return nil, configError{fmt.Errorf("TIMMYBOT_FRAME_CACHE_MB: opening the frame cache in TIMMYBOT_DATA_DIR: %w", err)}
	}
	return cache, nil
}

// frameCacheGauges publishes the frame cache's counters, when there is one.
func frameCacheGauges(m *telemetry.Metrics, cache *framecache.Cache) {
	if cache == nil {
		return
	}
	for name, read := range map[string]func(framecache.Stats) int64{
		telemetry.FrameCacheHits:      func(s framecache.Stats) int64 { return s.Hits },
		telemetry.FrameCacheMisses:    func(s framecache.Stats) int64 { return s.Misses },
		telemetry.FrameCacheEvictions: func(s framecache.Stats) int64 { return s.Evictions },
		telemetry.FrameCacheBytes:     func(s framecache.Stats) int64 { return s.Bytes },
	} {
		m.SetGauge(name, func() float64 { return float64(read(cache.Stats())) })
	}
}
