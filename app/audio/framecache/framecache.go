// Package framecache keeps the 20 ms Opus frames of tracks played in full
// on disk, so that playing one again (a loop, /replay, /previous, a seek)
// needs no download and no ffmpeg.
//
// Each entry is one file in DCA format (jonas747/dca): the "DCA1" magic, a
// JSON metadata block (dca.Metadata, whose origin URL is the entry's key),
// then each frame as an int16 little-endian length and the Opus packet.
// dca's Decoder reads an entry's header back (and can read a whole entry;
// the frames themselves are read here, see Reader). A Writer fills a
// temporary file and Commit renames it into place, so an entry exists only
// for a track written to its end. A file's name is the SHA-256 of its key and the
// CRC-32 of its bytes, never the key itself; every Reader checks the CRC
// before it hands out a frame, so a file that a crash or the disk damaged is
// dropped and counted as a miss instead of being played.
//
// The cache is bounded: committed entries together stay within MaxBytes,
// the least recently used going first, and one entry may be at most
// MaxEntryBytes. Entries survive a restart: Open indexes the files it finds
// (their modification time is their last use) and removes temporary files
// left by a crash. One process uses a directory at a time.
//
// It owns the directory and its files. It does not decide what is worth
// caching or what a key is (the audio pipeline does), and it does not decode
// or check Opus.
package framecache

import (
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config configures a Cache.
type Config struct {
	// Dir holds the entries; Open creates it.
	Dir string
	// MaxBytes bounds the committed entries' total size. It must be > 0.
	MaxBytes int64
	// MaxEntryBytes bounds one entry; a Writer that would pass it fails.
	// Default: MaxBytes / 8.
	MaxEntryBytes int64
	// Logger receives the files Open and Reader throw away. Default:
	// discard.
	Logger *slog.Logger
}

// Errors a Reader or Writer returns.
var (
	// ErrMiss: the cache has no usable entry for the key.
	ErrMiss = errors.New("no cached frames")
	// ErrPastEnd: the entry has fewer frames than the position asked for.
	ErrPastEnd = errors.New("position past the end of the cached frames")
	// ErrTooLarge: the entry would pass MaxEntryBytes.
	ErrTooLarge = errors.New("track too large to cache")
)

// Stats are the cache's counters since Open.
type Stats struct {
	Hits, Misses, Evictions int64
	Bytes                   int64 // committed entries' total size
	Entries                 int
}

// Cache is a bounded directory of entries. It is safe for concurrent use.
type Cache struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex
	entries map[string]*list.Element // by key hash; values are *entry
	lru     *list.List               // front: most recently used
	bytes   int64

	hits, misses, evictions atomic.Int64
}

// entry is one committed file.
type entry struct {
	hash string // hex SHA-256 of the key
	crc  uint32 // CRC-32 (IEEE) of the whole file
	size int64
}

func (e *entry) name() string { return fmt.Sprintf("%s-%08x%s", e.hash, e.crc, entryExt) }

const (
	entryExt = ".dca"
	tempExt  = ".tmp"
)

// Open indexes the entries in cfg.Dir, removing what is not one, and evicts
// down to the bound.
func Open(cfg Config) (*Cache, error) {
	if cfg.MaxBytes <= 0 {
		return nil, fmt.Errorf("frame cache: MaxBytes must be positive, not %d", cfg.MaxBytes)
	}
	if cfg.MaxEntryBytes <= 0 || cfg.MaxEntryBytes > cfg.MaxBytes {
		cfg.MaxEntryBytes = max(cfg.MaxBytes/8, 1)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("frame cache: creating %s: %w", cfg.Dir, err)
	}
	c := &Cache{cfg: cfg, log: log, entries: map[string]*list.Element{}, lru: list.New()}
	if err := c.index(); err != nil {
		return nil, err
	}
	return c, nil
}

// index loads the directory's entries in order of last use, removes what
// is not an entry (a crash's temporary files above all), and evicts down to
// the bound.
func (c *Cache) index() error {
	des, err := os.ReadDir(c.cfg.Dir)
	if err != nil {
		return fmt.Errorf("frame cache: reading %s: %w", c.cfg.Dir, err)
	}
	type found struct {
		e    *entry
		used time.Time
	}
	var all []found
	seen := map[string]bool{}
	for _, de := range des {
		e, ok := parseName(de.Name())
		info, err := de.Info()
		if !ok || err != nil || !info.Mode().IsRegular() || seen[e.hash] {
			c.log.Debug("frame cache: removing a file that is not an entry", slog.String("file", de.Name()))
			_ = os.RemoveAll(filepath.Join(c.cfg.Dir, de.Name()))
			continue
		}
		seen[e.hash] = true
		e.size = info.Size()
		all = append(all, found{e, info.ModTime()})
	}
	slices.SortFunc(all, func(a, b found) int { return b.used.Compare(a.used) })
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, f := range all {
		c.entries[f.e.hash] = c.lru.PushBack(f.e)
		c.bytes += f.e.size
	}
	c.evictLocked()
	return nil
}

// parseName reads an entry's hash and CRC from its file name.
func parseName(name string) (*entry, bool) {
	stem, ok := strings.CutSuffix(name, entryExt)
	if !ok {
		return nil, false
	}
	hash, crcHex, ok := strings.Cut(stem, "-")
	if !ok || len(hash) != 2*sha256.Size || len(crcHex) != 8 {
		return nil, false
	}
	if _, err := hex.DecodeString(hash); err != nil || strings.ToLower(hash) != hash {
		return nil, false
	}
	crc, err := strconv.ParseUint(crcHex, 16, 32)
	if err != nil || fmt.Sprintf("%08x", crc) != crcHex {
		return nil, false
	}
	return &entry{hash: hash, crc: uint32(crc)}, true
}

// hashKey names a key's entry: the file name never contains the key.
func hashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// evictLocked removes least recently used entries until the total fits.
func (c *Cache) evictLocked() {
	for c.bytes > c.cfg.MaxBytes {
		back := c.lru.Back()
		if back == nil {
			return
		}
		c.removeLocked(back)
		c.evictions.Add(1)
	}
}

// removeLocked forgets an entry and deletes its file. A Reader that has the
// file open keeps reading it.
func (c *Cache) removeLocked(el *list.Element) {
	e := el.Value.(*entry)
	c.lru.Remove(el)
	delete(c.entries, e.hash)
	c.bytes -= e.size
	if err := os.Remove(filepath.Join(c.cfg.Dir, e.name())); err != nil && !errors.Is(err, os.ErrNotExist) {
		c.log.Warn("frame cache: removing an entry", slog.Any("err", err))
	}
}

// drop removes e if it is still the key's entry: a file found damaged.
func (c *Cache) drop(e *entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[e.hash]; ok && el.Value.(*entry) == e {
		c.removeLocked(el)
	}
}

// Stats returns the counters.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Stats{Hits: c.hits.Load(), Misses: c.misses.Load(), Evictions: c.evictions.Load(), Bytes: c.bytes, Entries: c.lru.Len()}
}

// lookup returns the key's entry and marks it used.
func (c *Cache) lookup(key string) (*entry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[hashKey(key)]
	if !ok {
		return nil, false
	}
	c.lru.MoveToFront(el)
	return el.Value.(*entry), true
}

// commit adds a written file as the key's entry, unless the key has one
// already (another guild played the same track meanwhile).
func (c *Cache) commit(tmp string, e *entry) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[e.hash]; ok {
		_ = os.Remove(tmp)
		return nil
	}
	if err := os.Rename(tmp, filepath.Join(c.cfg.Dir, e.name())); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("frame cache: committing an entry: %w", err)
	}
	// The write's own time comes from the kernel's coarse clock, which may
	// lag a use touched just before: both must come from one clock.
	c.touch(e)
	c.entries[e.hash] = c.lru.PushFront(e)
	c.bytes += e.size
	c.evictLocked()
	return nil
}

// touch records a use (or a commit) in the file's modification time,
// which orders the entries after a restart.
func (c *Cache) touch(e *entry) {
	now := time.Now()
	_ = os.Chtimes(filepath.Join(c.cfg.Dir, e.name()), now, now)
}
