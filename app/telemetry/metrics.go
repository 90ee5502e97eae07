package telemetry

import (
	"math/rand/v2"
	"sync"
	"time"
)

// latencyBuckets are the upper bounds (ms) of the Prometheus latency
// histogram: an interaction must be answered within 3 s.
var latencyBuckets = []float64{1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000}

// maxSamples bounds the latency values one EMF record carries (CloudWatch
// accepts at most 100 values per metric in a record).
const maxSamples = 100

// Metrics accumulates the bot's metrics in memory. Prometheus reads the
// cumulative totals; the EMF exporter takes what accrued since its last
// flush. It is safe for concurrent use.
type Metrics struct {
	mu sync.Mutex

	// cumulative, for Prometheus
	handled, failed int64
	buckets         []int64 // counts per latencyBuckets bound, plus +Inf
	latencySum      float64

	// since the last EMF flush
	periodHandled, periodFailed int64
	samples                     []float64
	seen                        int // latencies observed this period, for reservoir sampling

	gauges map[string]func() float64
}

// NewMetrics returns empty metrics.
func NewMetrics() *Metrics {
	return &Metrics{
		buckets: make([]int64, len(latencyBuckets)+1),
		gauges:  make(map[string]func() float64),
	}
}

// ObserveInteraction records one answered interaction: how long the first
// answer took and whether it failed on the bot's side.
func (m *Metrics) ObserveInteraction(latency time.Duration, failed bool) {
	ms := float64(latency) / float64(time.Millisecond)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.handled++
	m.periodHandled++
	if failed {
		m.failed++
		m.periodFailed++
	}
	i := 0
	for i < len(latencyBuckets) && ms > latencyBuckets[i] {
		i++
	}
	m.buckets[i]++
	m.latencySum += ms

	// Reservoir sampling keeps a uniform sample of the period's latencies.
	m.seen++
	if len(m.samples) < maxSamples {
		m.samples = append(m.samples, ms)
	} else if j := rand.IntN(m.seen); j < maxSamples {
		m.samples[j] = ms
	}
}

// SetGauge registers a function read at export time, e.g. whether the
// gateway is connected. name is one of this package's metric names.
func (m *Metrics) SetGauge(name string, read func() float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gauges[name] = read
}

// period is what accrued since the previous flush.
type period struct {
	handled, failed int64
	latencies       []float64
	gauges          map[string]float64
}

// takePeriod returns the period's values and starts a new period.
func (m *Metrics) takePeriod() period {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := period{handled: m.periodHandled, failed: m.periodFailed, latencies: m.samples, gauges: m.readGaugesLocked()}
	m.periodHandled, m.periodFailed, m.samples, m.seen = 0, 0, nil, 0
	return p
}

func (m *Metrics) readGaugesLocked() map[string]float64 {
	g := make(map[string]float64, len(m.gauges))
	for name, read := range m.gauges {
		g[name] = read()
	}
	return g
}
