package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/iddv/timmybot/app/audio"
	"github.com/iddv/timmybot/app/audio/ffmpeg"
	"github.com/iddv/timmybot/app/localstore"
	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/player"
	"github.com/iddv/timmybot/app/voice"
	"github.com/iddv/timmybot/app/voice/dave"
	"github.com/iddv/timmybot/app/voice/dave/davetest"
	"github.com/iddv/timmybot/app/voice/transport"
)

// Run lengths: each configuration warms up, then is measured over window.
const (
	warmUp        = time.Second
	window        = 5 * time.Second
	passthroughOf = 30 * time.Second // the Ogg Opus track: longer than any run
	transcodeOf   = 10 * time.Second // the MP3 track, played to its end
	frame         = 20 * time.Millisecond
)

var (
	passthroughNs = []int{1, 100, 500, 1000}
	transcodeNs   = []int{1, 4}
)

// BenchmarkPlayers prints the table described in the package doc and
// reports each row's figures as metrics of a sub-benchmark.
func BenchmarkPlayers(b *testing.B) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		b.Fatalf("ffmpeg is needed to make the test audio: %v", err)
	}
	idleRSS := rssBytes(b)
	files := map[string][]byte{
		"/tone.ogg": encode(b, passthroughOf, "-c:a", "libopus", "-b:a", "96k", "-frame_duration", "20", "-f", "ogg"),
		"/tone.mp3": encode(b, transcodeOf, "-c:a", "libmp3lame", "-b:a", "128k", "-f", "mp3"),
	}
	sink := startSink(b)
	store, err := localstore.Open(filepath.Join(b.TempDir(), "queues.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	env := &env{files: files, sink: sink, store: store}

	var rows []row
	run := func(name string, f func(b *testing.B) row) {
		b.Run(name, func(b *testing.B) {
			var r row
			for b.Loop() {
				r = f(b)
			}
			r.report(b)
			rows = append(rows, r)
		})
	}
	for _, n := range passthroughNs {
		run(fmt.Sprintf("bare-ticker/n=%d", n), func(b *testing.B) row { return env.bare(b, "bare-ticker", n, perStreamTicker) })
		run(fmt.Sprintf("bare-clock/n=%d", n), func(b *testing.B) row { return env.bare(b, "bare-clock", n, voice.NewClock().Pacer) })
		run(fmt.Sprintf("voice-clock/n=%d", n), func(b *testing.B) row { return env.voices(b, n) })
		run(fmt.Sprintf("player-ticker/n=%d", n), func(b *testing.B) row { return env.players(b, "player-ticker", n, "/tone.ogg", nil) })
		run(fmt.Sprintf("player-clock/n=%d", n), func(b *testing.B) row { return env.players(b, "player-clock", n, "/tone.ogg", voice.NewClock().Pacer) })
	}
	for _, n := range transcodeNs {
		run(fmt.Sprintf("ffmpeg/n=%d", n), func(b *testing.B) row { return env.bareFFmpeg(b, n, files["/tone.mp3"]) })
		run(fmt.Sprintf("player-transcode/n=%d", n), func(b *testing.B) row { return env.players(b, "player-transcode", n, "/tone.mp3", nil) })
	}
	pairs := []pair{first(rows, pairsAt)}
	for i := 2; i <= ratioPairs; i++ {
		var p pair
		b.Run(fmt.Sprintf("pair%d-bare-clock/n=%d", i, pairsAt), func(b *testing.B) {
			for b.Loop() {
				p.bare = env.bare(b, "bare-clock", pairsAt, voice.NewClock().Pacer)
			}
			p.bare.report(b)
		})
		b.Run(fmt.Sprintf("pair%d-player-clock/n=%d", i, pairsAt), func(b *testing.B) {
			for b.Loop() {
				p.player = env.players(b, "player-clock", pairsAt, "/tone.ogg", voice.NewClock().Pacer)
			}
			p.player.report(b)
		})
		pairs = append(pairs, p)
	}
	printTable(rows, idleRSS)
	printPairs(pairs)
}

// The bare sender's cost varies by ±15% from one run to the next on a
// shared machine, and the player's with it, so the player's ratio to it
// at pairsAt streams, and its own cost there, are also taken as medians of
// ratioPairs pairs, each measured back to back.
const (
	pairsAt    = 1000
	ratioPairs = 3
)

// pair is bare-clock and player-clock measured back to back.
type pair struct{ bare, player row }

func (p pair) ratio() float64 { return p.player.cpuPerAudio / p.bare.cpuPerAudio }

// first is the pair of the table's own rows at n streams.
func first(rows []row, n int) pair {
	var p pair
	for _, r := range rows {
		switch {
		case r.n == n && r.name == "bare-clock":
			p.bare = r
		case r.n == n && r.name == "player-clock":
			p.player = r
		}
	}
	return p
}

// printPairs prints the medians of the pairs' ratios and of the player's
// own cost, each with the values it is the median of.
func printPairs(pairs []pair) {
	median := func(what string, f func(pair) float64, format string) {
		var vs []string
		var sorted []float64
		for _, p := range pairs {
			vs = append(vs, fmt.Sprintf(format, f(p)))
			sorted = append(sorted, f(p))
		}
		slices.Sort(sorted)
		fmt.Printf("N=%-5d %s, median of %d pairs: "+format+" (%s)\n", pairsAt, what, len(pairs), sorted[len(sorted)/2], strings.Join(vs, ", "))
	}
	median("player/bare, shared clock", pair.ratio, "%.2fx")
	median("player-clock CPU-s/audio-s", func(p pair) float64 { return p.player.cpuPerAudio }, "%.5f")
}

// env is what every configuration shares.
type env struct {
	files map[string][]byte
	sink  *sink
	store *localstore.Store
	guild atomic.Int64 // players get fresh guilds, so queues never mix
}

// row is one configuration's measurements.
type row struct {
	name         string
	n            int
	cpuPerAudio  float64 // CPU-s of the whole process (and children) per audio-s, per stream
	childPerAud  float64 // the children's part (ffmpeg)
	p50, p99     time.Duration
	heapPerPlay  int64 // Go heap per player, -1 when not measured
	bufferPerPlY int64 // of which the read-ahead audio buffer
	rss          int64
	delivered    float64 // packets the sink received per packet expected
}

func (r row) report(b *testing.B) {
	b.ReportMetric(r.cpuPerAudio, "cpu-s/audio-s")
	b.ReportMetric(float64(r.p50.Microseconds())/1000, "p50-late-ms")
	b.ReportMetric(float64(r.p99.Microseconds())/1000, "p99-late-ms")
	if r.heapPerPlay >= 0 {
		b.ReportMetric(float64(r.heapPerPlay)/1024, "heap-KiB/player")
	}
	b.ReportMetric(float64(r.rss)/(1<<20), "rss-MiB")
}

func printTable(rows []row, idleRSS int64) {
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "\nconfiguration\tN\tCPU-s/audio-s\t%% core/stream\tffmpeg part\tp50 late\tp99 late\theap/player\tof it buffer\tRSS MiB\tdelivered\t\n")
	for _, r := range rows {
		heap, buf := "-", "-"
		if r.heapPerPlay >= 0 {
			heap, buf = fmt.Sprintf("%d KiB", r.heapPerPlay/1024), fmt.Sprintf("%d KiB", r.bufferPerPlY/1024)
		}
		fmt.Fprintf(w, "%s\t%d\t%.5f\t%.3f\t%.5f\t%.2f ms\t%.2f ms\t%s\t%s\t%.0f\t%.3f\t\n",
			r.name, r.n, r.cpuPerAudio, 100*r.cpuPerAudio, r.childPerAud,
			ms(r.p50), ms(r.p99), heap, buf, float64(r.rss)/(1<<20), r.delivered)
	}
	w.Flush()
	byName := map[string]row{}
	for _, r := range rows {
		byName[fmt.Sprintf("%s/n=%d", r.name, r.n)] = r
	}
	fmt.Printf("idle RSS of the benchmark process: %.0f MiB\n", float64(idleRSS)/(1<<20))
	for _, n := range passthroughNs {
		bare, pl := byName[fmt.Sprintf("bare-clock/n=%d", n)], byName[fmt.Sprintf("player-clock/n=%d", n)]
		bt, pt := byName[fmt.Sprintf("bare-ticker/n=%d", n)], byName[fmt.Sprintf("player-ticker/n=%d", n)]
		vc := byName[fmt.Sprintf("voice-clock/n=%d", n)]
		fmt.Printf("N=%-5d player/bare, shared clock %.2fx (voice client alone / bare %.2fx, player / voice client alone %.2fx); ticker each %.2fx; player shared clock / bare ticker each %.2fx\n",
			n, pl.cpuPerAudio/bare.cpuPerAudio, vc.cpuPerAudio/bare.cpuPerAudio, pl.cpuPerAudio/vc.cpuPerAudio, pt.cpuPerAudio/bt.cpuPerAudio, pl.cpuPerAudio/bt.cpuPerAudio)
	}
	for _, n := range transcodeNs {
		ff, pl := byName[fmt.Sprintf("ffmpeg/n=%d", n)], byName[fmt.Sprintf("player-transcode/n=%d", n)]
		bare := byName[fmt.Sprintf("bare-clock/n=%d", n)]
		fmt.Printf("N=%-5d transcoding: pipeline's ffmpeg / bare ffmpeg %.2fx; whole player / (bare ffmpeg + bare sender) %.2fx; whole player / bare ffmpeg %.2fx\n",
			n, pl.childPerAud/ff.childPerAud, pl.cpuPerAudio/(ff.cpuPerAudio+bare.cpuPerAudio), pl.cpuPerAudio/ff.cpuPerAudio)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// encode makes a stereo 48 kHz tone of length d with ffmpeg.
func encode(b *testing.B, d time.Duration, codec ...string) []byte {
	b.Helper()
	ctx, cancel := context.WithTimeout(b.Context(), time.Minute)
	defer cancel()
	args := append([]string{"-hide_banner", "-loglevel", "error", "-f", "lavfi",
		"-i", "sine=frequency=440:sample_rate=48000:duration=" + strconv.FormatFloat(d.Seconds(), 'f', 3, 64),
		"-ac", "2"}, codec...)
	out, err := exec.CommandContext(ctx, "ffmpeg", append(args, "pipe:1")...).Output()
	if err != nil {
		b.Fatalf("making test audio: %v", err)
	}
	return out
}

// memTransport answers GETs from memory: the pipeline's fetch without a
// network, so the server's work is not counted as the player's.
type memTransport map[string][]byte

func (m memTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	body, ok := m[req.URL.Path]
	if !ok {
		return &http.Response{StatusCode: http.StatusNotFound, Body: http.NoBody, Request: req}, nil
	}
	return &http.Response{
		StatusCode:    http.StatusOK,
		ContentLength: int64(len(body)),
		Header:        http.Header{"Content-Type": {"application/octet-stream"}},
		Body:          io.NopCloser(bytes.NewReader(body)),
		Request:       req,
	}, nil
}

// sink receives every stream's packets on one loopback socket and counts
// them, as a voice server would.
type sink struct {
	conn    *net.UDPConn
	packets atomic.Int64
}

func startSink(b *testing.B) *sink {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	if err := conn.SetReadBuffer(8 << 20); err != nil {
		b.Fatal(err)
	}
	s := &sink{conn: conn}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			if _, err := conn.Read(buf); err != nil {
				return
			}
			s.packets.Add(1)
		}
	}()
	b.Cleanup(func() { conn.Close(); <-done })
	return s
}

func (s *sink) dial(b *testing.B) *net.UDPConn {
	c, err := net.DialUDP("udp", nil, s.conn.LocalAddr().(*net.UDPAddr))
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// lateness is a histogram of send lateness in 25 µs buckets, safe for
// concurrent use; it records only while on.
type lateness struct {
	on      atomic.Bool
	buckets [1200]atomic.Int64 // up to 30 ms; the last bucket takes the rest
}

const bucketWidth = 25 * time.Microsecond

func (l *lateness) record(d time.Duration) {
	if !l.on.Load() {
		return
	}
	i := min(int(d/bucketWidth), len(l.buckets)-1)
	l.buckets[max(i, 0)].Add(1)
}

// quantile returns the upper edge of the bucket holding quantile q.
func (l *lateness) quantile(q float64) time.Duration {
	var total int64
	for i := range l.buckets {
		total += l.buckets[i].Load()
	}
	need := int64(q*float64(total)) + 1
	var seen int64
	for i := range l.buckets {
		seen += l.buckets[i].Load()
		if seen >= need {
			return time.Duration(i+1) * bucketWidth
		}
	}
	return 0
}

func perStreamTicker() (<-chan time.Time, func()) {
	t := time.NewTicker(frame)
	return t.C, t.Stop
}

// measure runs the configuration started before it: it waits out the
// warm-up, then measures CPU and lateness over the window.
func (e *env) measure(b *testing.B, name string, n int, late *lateness) row {
	time.Sleep(warmUp)
	return e.measureFor(b, name, n, late, window, window)
}

// measureTrack measures a transcoded track from its start to a second after
// its end, so that every ffmpeg has exited and counts in RUSAGE_CHILDREN.
func (e *env) measureTrack(b *testing.B, name string, n int, late *lateness) row {
	return e.measureFor(b, name, n, late, transcodeOf+time.Second, transcodeOf)
}

// measureFor measures for d wall-clock time, during which each of the n
// streams plays audioEach.
func (e *env) measureFor(b *testing.B, name string, n int, late *lateness, d, audioEach time.Duration) row {
	before, packets := cpu(b), e.sink.packets.Load()
	late.on.Store(true)
	time.Sleep(d)
	late.on.Store(false)
	after := cpu(b)
	audio := float64(n) * audioEach.Seconds()
	return row{
		name: name, n: n,
		cpuPerAudio: (after.total() - before.total()) / audio,
		childPerAud: (after.children - before.children) / audio,
		p50:         late.quantile(0.50), p99: late.quantile(0.99),
		heapPerPlay: -1,
		rss:         rssBytes(b),
		delivered:   float64(e.sink.packets.Load()-packets) / (audio / frame.Seconds()),
	}
}

// bare runs n bare senders: a goroutine each, writing a 160-byte packet to
// its own socket per tick of pacer.
func (e *env) bare(b *testing.B, name string, n int, pacer func() (<-chan time.Time, func())) row {
	late := &lateness{}
	ctx, cancel := context.WithCancel(b.Context())
	var wg sync.WaitGroup
	for range n {
		c := e.sink.dial(b)
		wg.Go(func() {
			defer c.Close()
			ticks, stop := pacer()
			defer stop()
			pkt := make([]byte, 160)
			for {
				select {
				case <-ctx.Done():
					return
				case due := <-ticks:
					if _, err := c.Write(pkt); err == nil {
						late.record(time.Since(due))
					}
				}
			}
		})
	}
	r := e.measure(b, name, n, late)
	cancel()
	wg.Wait()
	return r
}

// players runs n players of the track at path, each into a voice connection
// paced by pacer (nil: the default, a ticker of each connection's own). An MP3
// track is transcoded and measured to its end.
func (e *env) players(b *testing.B, name string, n int, path string, pacer func() (<-chan time.Time, func())) row {
	pipeline := audio.New(audio.Config{Client: &http.Client{Transport: memTransport(e.files)}})
	late := &lateness{}
	ctx, cancel := context.WithCancel(b.Context())
	heapBefore := heap()
	type stream struct {
		p      *player.Player
		conn   *voice.Conn
		played chan error
	}
	streams := make([]stream, n)
	for i := range streams {
		guild := music.GuildID(strconv.FormatInt(e.guild.Add(1), 10))
		p := player.New(player.Config{Guild: guild, Queue: e.store, Opener: pipeline})
		if _, err := e.store.Enqueue(ctx, guild, music.Track{Title: "tone", URL: "http://audio.test" + path, Source: "http"}); err != nil {
			b.Fatal(err)
		}
		conn := e.openConn(b, i, pacer, late)
		s := stream{p: p, conn: conn, played: make(chan error, 1)}
		go func() { s.played <- conn.Play(ctx, p.Output()) }()
		if err := p.Start(ctx); err != nil {
			b.Fatal(err)
		}
		streams[i] = s
	}
	var r row
	if strings.HasSuffix(path, ".mp3") {
		r = e.measureTrack(b, name, n, late)
	} else {
		r = e.measure(b, name, n, late)
	}
	r.heapPerPlay = (heap() - heapBefore) / int64(n)
	r.bufferPerPlY = bufferBytes()
	cancel()
	for _, s := range streams {
		<-s.played
		s.conn.Close()
		s.p.Close()
	}
	return r
}

// openConn opens stream i's voice connection to the sink: a DAVE session
// in an epoch with a send key, and AES-GCM transport sealing.
func (e *env) openConn(b *testing.B, i int, pacer func() (<-chan time.Time, func()), late *lateness) *voice.Conn {
	conn, err := voice.OpenMedia(voice.Config{E2EE: daveSession(b, uint64(i+1)), Pacer: pacer, OnFrameSent: late.record}, voice.Media{
		UDP: e.sink.dial(b), SSRC: uint32(i + 1), Mode: transport.ModeAES256GCM, Key: bytes.Repeat([]byte{byte(i)}, transport.KeySize),
	})
	if err != nil {
		b.Fatal(err)
	}
	return conn
}

// voices runs n voice connections as players does, on one clock, each
// sending one fixed 240-byte frame (what 96 kbit/s Opus makes) without a
// player: between the bare sender and the player, it tells the voice
// client's part (DAVE, RTP, transport sealing, the bigger packet) from the
// player's (buffering, demuxing, handing frames over).
func (e *env) voices(b *testing.B, n int) row {
	late := &lateness{}
	ctx, cancel := context.WithCancel(b.Context())
	pacer := voice.NewClock().Pacer
	conns := make([]*voice.Conn, n)
	played := make(chan error, n)
	for i := range conns {
		conns[i] = e.openConn(b, i, pacer, late)
		src := &fixedFrame{frame: append([]byte{0x78}, make([]byte, 239)...)}
		go func() { played <- conns[i].Play(ctx, src) }()
	}
	r := e.measure(b, "voice-clock", n, late)
	cancel()
	for _, c := range conns {
		<-played
		c.Close()
	}
	return r
}

// fixedFrame is a voice.FrameProvider that sends one frame forever.
type fixedFrame struct{ frame []byte }

func (f *fixedFrame) ProvideOpusFrame() ([]byte, error) { return f.frame, nil }
func (f *fixedFrame) Close() error                      { return nil }

// bareFFmpeg runs n ffmpeg processes with the pipeline's arguments on the
// file piped in, reading their input at real time (-re) as the player's
// demand paces the pipeline's.
func (e *env) bareFFmpeg(b *testing.B, n int, file []byte) row {
	args, err := ffmpeg.Args(ffmpeg.Input{Reader: bytes.NewReader(nil)}, ffmpeg.Options{Volume: 100})
	if err != nil {
		b.Fatal(err)
	}
	i := slices.Index(args, "-i")
	args = slices.Insert(args, i, "-re")
	before := cpu(b)
	start := time.Now()
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			cmd := exec.CommandContext(b.Context(), "ffmpeg", args...)
			cmd.Stdin = bytes.NewReader(file)
			var stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = io.Discard, &stderr
			if err := cmd.Run(); err != nil {
				b.Errorf("ffmpeg: %v: %s", err, stderr.Bytes())
			}
		})
	}
	wg.Wait()
	after := cpu(b)
	if took := time.Since(start); took < transcodeOf {
		b.Fatalf("ffmpeg -re took %v for %v of audio", took, transcodeOf)
	}
	audio := float64(n) * transcodeOf.Seconds()
	return row{
		name: "ffmpeg", n: n,
		cpuPerAudio: (after.total() - before.total()) / audio,
		childPerAud: (after.children - before.children) / audio,
		heapPerPlay: -1, rss: rssBytes(b), delivered: 1,
	}
}

// daveSession returns a DAVE session in an epoch with a send key, in a
// channel with one listener, as a voice gateway would leave it.
func daveSession(b *testing.B, channel uint64) *dave.Session {
	gw, err := davetest.NewGateway(channel)
	if err != nil {
		b.Fatal(err)
	}
	network := davetest.NewNetwork(gw)
	bot, err := dave.NewSession(dave.Config{UserID: 1, ChannelID: channel})
	if err != nil {
		b.Fatal(err)
	}
	listener, err := dave.NewSession(dave.Config{UserID: 2, ChannelID: channel})
	if err != nil {
		b.Fatal(err)
	}
	for _, m := range []davetest.Local{{ID: 2, Session: listener}, {ID: 1, Session: bot}} {
		if err := network.Connect(m); err != nil {
			b.Fatal(err)
		}
	}
	if bot.ProtocolVersion() != dave.ProtocolVersion || bot.LatestEpoch() == nil || !bot.Ready() {
		b.Fatal("the bot's DAVE session has no send key")
	}
	return bot
}

// usage is CPU time in seconds.
type usage struct{ self, children float64 }

func (u usage) total() float64 { return u.self + u.children }

func cpu(b *testing.B) usage {
	var self, children syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &self); err != nil {
		b.Fatal(err)
	}
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children); err != nil {
		b.Fatal(err)
	}
	sec := func(r syscall.Rusage) float64 {
		return time.Duration(r.Utime.Nano() + r.Stime.Nano()).Seconds()
	}
	return usage{self: sec(self), children: sec(children)}
}

func heap() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

func rssBytes(b *testing.B) int64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.Lines(string(status)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Fatal("no VmRSS in /proc/self/status")
	return 0
}

// bufferBytes is the player's read-ahead buffer: its ring for the default
// frame count, and where each frame lies in it.
func bufferBytes() int64 {
	const perFrame = 3 * 8
	return int64(player.DefaultBuffer) * (player.BufferBytesPerFrame + perFrame)
}
