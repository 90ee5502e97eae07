package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestPrometheusText(t *testing.T) {
	m := NewMetrics()
	m.ObserveInteraction(500*time.Microsecond, false)
	m.ObserveInteraction(3*time.Millisecond, true)
	m.ObserveInteraction(10*time.Second, false)
	m.SetGauge(GatewayConnected, func() float64 { return 1 })

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		"timmybot_interactions_handled_total 3\n",
		"timmybot_interaction_errors_total 1\n",
		`timmybot_interaction_latency_ms_bucket{le="1"} 1` + "\n",
		`timmybot_interaction_latency_ms_bucket{le="2"} 1` + "\n",
		`timmybot_interaction_latency_ms_bucket{le="5"} 2` + "\n",
		`timmybot_interaction_latency_ms_bucket{le="5000"} 2` + "\n",
		`timmybot_interaction_latency_ms_bucket{le="+Inf"} 3` + "\n",
		"timmybot_interaction_latency_ms_sum 10003.5\n",
		"timmybot_interaction_latency_ms_count 3\n",
		"# TYPE timmybot_gateway_connected gauge\ntimmybot_gateway_connected 1\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
}

func TestEMFRecordPerPeriod(t *testing.T) {
	m := NewMetrics()
	m.ObserveInteraction(2*time.Millisecond, false)
	m.ObserveInteraction(4*time.Millisecond, true)
	m.SetGauge(GatewayConnected, func() float64 { return 1 })
	var out bytes.Buffer
	at := time.UnixMilli(1_700_000_000_000)
	e := &EMFExporter{Metrics: m, Out: &out, now: func() time.Time { return at }}
	e.flush()
	e.flush() // a quiet period still reports zero counts and the gauges

	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 records, got %d:\n%s", len(lines), out.String())
	}
	var first, second map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(lines[1]), &second); err != nil {
		t.Fatal(err)
	}
	aws := first["_aws"].(map[string]any)
	directive := aws["CloudWatchMetrics"].([]any)[0].(map[string]any)
	if aws["Timestamp"].(float64) != 1_700_000_000_000 || directive["Namespace"] != Namespace {
		t.Errorf("metadata = %v", aws)
	}
	var names []string
	for _, d := range directive["Metrics"].([]any) {
		names = append(names, d.(map[string]any)["Name"].(string))
	}
	if diff := cmp.Diff([]string{InteractionsHandled, InteractionErrors, InteractionLatencyMs, GatewayConnected}, names); diff != "" {
		t.Errorf("declared metrics (-want +got):\n%s", diff)
	}
	if first[InteractionsHandled] != 2.0 || first[InteractionErrors] != 1.0 || first[GatewayConnected] != 1.0 {
		t.Errorf("first record values = %v", first)
	}
	if diff := cmp.Diff([]any{2.0, 4.0}, first[InteractionLatencyMs]); diff != "" {
		t.Errorf("latencies (-want +got):\n%s", diff)
	}
	if second[InteractionsHandled] != 0.0 || second[InteractionLatencyMs] != nil || second[GatewayConnected] != 1.0 {
		t.Errorf("second record = %v, want zero counts, no latencies, the gauge", second)
	}
}

func TestLatencySampleIsBounded(t *testing.T) {
	m := NewMetrics()
	for i := range 10_000 {
		m.ObserveInteraction(time.Duration(i)*time.Microsecond, false)
	}
	p := m.takePeriod()
	if len(p.latencies) != maxSamples || p.handled != 10_000 {
		t.Fatalf("sample = %d values of %d handled, want %d", len(p.latencies), p.handled, maxSamples)
	}
}

func TestEMFExporterFlushesWhenStopped(t *testing.T) {
	m := NewMetrics()
	m.ObserveInteraction(time.Millisecond, false)
	var out bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		(&EMFExporter{Metrics: m, Out: &out, Interval: time.Hour}).Run(ctx)
	}()
	cancel()
	<-done
	if !strings.Contains(out.String(), `"InteractionsHandled":1`) {
		t.Fatalf("no final flush: %q", out.String())
	}
}

func TestPromName(t *testing.T) {
	for in, want := range map[string]string{
		InteractionLatencyMs:   "timmybot_interaction_latency_ms",
		ActiveVoiceConnections: "timmybot_active_voice_connections",
	} {
		if got := promName(in); got != want {
			t.Errorf("promName(%q) = %q, want %q", in, got, want)
		}
	}
}
