package telemetry

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// Handler serves the metrics in the Prometheus text exposition format, for
// local runs (/metrics).
func (m *Metrics) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		fmt.Fprint(w, m.prometheusText())
	})
}

func (m *Metrics) prometheusText() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	counter := func(name, help string, v int64) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s counter\n%s %d\n", name, help, name, name, v)
	}
	counter(promName(InteractionsHandled)+"_total", "Interactions answered.", m.handled)
	counter(promName(InteractionErrors)+"_total", "Interactions that failed on the bot's side.", m.failed)

	h := promName(InteractionLatencyMs)
	fmt.Fprintf(&b, "# HELP %s Time from receiving an interaction to its first answer, in milliseconds.\n# TYPE %s histogram\n", h, h)
	var cum int64
	for i, le := range latencyBuckets {
		cum += m.buckets[i]
		fmt.Fprintf(&b, "%s_bucket{le=%q} %d\n", h, strconv.FormatFloat(le, 'g', -1, 64), cum)
	}
	cum += m.buckets[len(latencyBuckets)]
	fmt.Fprintf(&b, "%s_bucket{le=\"+Inf\"} %d\n%s_sum %g\n%s_count %d\n", h, cum, h, m.latencySum, h, cum)

	gauges := m.readGaugesLocked()
	names := make([]string, 0, len(gauges))
	for name := range gauges {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p := promName(name)
		fmt.Fprintf(&b, "# TYPE %s gauge\n%s %g\n", p, p, gauges[name])
	}
	return b.String()
}

// promName turns "InteractionLatencyMs" into "timmybot_interaction_latency_ms".
func promName(metric string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(Namespace))
	for i, r := range metric {
		if r >= 'A' && r <= 'Z' {
			if i == 0 || !(metric[i-1] >= 'A' && metric[i-1] <= 'Z') {
				b.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
