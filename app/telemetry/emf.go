package telemetry

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"time"
)

// EMFExporter writes the metrics as CloudWatch Embedded Metric Format
// records, one JSON line per interval, to w (the container's stdout, which
// the awslogs driver ships to CloudWatch Logs, which extracts the metrics).
// Run owns its goroutine's lifetime: it returns when ctx is done, after a
// final flush.
type EMFExporter struct {
	Metrics  *Metrics
	Out      io.Writer
	Interval time.Duration // Default: one minute, the alarms' resolution
	Log      *slog.Logger
	now      func() time.Time
}

// Run flushes every Interval until ctx is done.
func (e *EMFExporter) Run(ctx context.Context) {
	interval := e.Interval
	if interval <= 0 {
		interval = time.Minute
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			e.flush()
			return
		case <-t.C:
			e.flush()
		}
	}
}

func (e *EMFExporter) flush() {
	now := time.Now
	if e.now != nil {
		now = e.now
	}
	line, err := emfRecord(e.Metrics.takePeriod(), now())
	if err == nil {
		_, err = e.Out.Write(line)
	}
	if err != nil && e.Log != nil {
		e.Log.Warn("writing metrics", slog.Any("err", err))
	}
}

type emfMetric struct {
	Name string
	Unit string
}

// emfRecord renders one period as an EMF JSON line. Metrics have no
// dimensions: one bot per deployment.
func emfRecord(p period, at time.Time) ([]byte, error) {
	values := map[string]any{
		InteractionsHandled: p.handled,
		InteractionErrors:   p.failed,
	}
	defs := []emfMetric{{InteractionsHandled, "Count"}, {InteractionErrors, "Count"}}
	if len(p.latencies) > 0 {
		values[InteractionLatencyMs] = p.latencies
		defs = append(defs, emfMetric{InteractionLatencyMs, "Milliseconds"})
	}
	names := make([]string, 0, len(p.gauges))
	for name := range p.gauges {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		values[name] = p.gauges[name]
		unit := "Count"
		if name == GatewayConnected {
			unit = "None"
		}
		defs = append(defs, emfMetric{name, unit})
	}
	values["_aws"] = map[string]any{
		"Timestamp": at.UnixMilli(),
		"CloudWatchMetrics": []any{map[string]any{
			"Namespace":  Namespace,
			"Dimensions": [][]string{{}},
			"Metrics":    defs,
		}},
	}
	line, err := json.Marshal(values)
	if err != nil {
		return nil, fmt.Errorf("encoding metrics: %w", err)
	}
	return append(line, '\n'), nil
}
