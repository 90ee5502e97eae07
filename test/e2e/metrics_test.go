package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestPrometheusMetricsCountInteractions(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.do(t, h.approved.ID, memberID, "play", opt("query", h.track("a.mp3")))
	h.do(t, h.approved.ID, memberID, "play", opt("query", "ftp://not-an-audio-url")) // refused before any search

	code, body := h.bot.fetch(t, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics = %d", code)
	}
	for _, want := range []string{
		"timmybot_interactions_handled_total 2\n",
		"timmybot_interaction_errors_total 0\n", // bad input is the user's, not a failure
		"timmybot_interaction_latency_ms_count 2\n",
		"timmybot_gateway_connected 1\n",
		"timmybot_active_voice_connections 1\n", // /play joined the member's channel
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, body)
		}
	}
}

func TestEMFMetricsOnStdout(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "TIMMYBOT_METRICS=emf", "TIMMYBOT_LOG_FORMAT=json")
	h.do(t, h.approved.ID, memberID, "queue")
	h.bot.stop(t) // the exporter flushes on shutdown

	var found bool
	for _, line := range strings.Split(strings.TrimSpace(h.bot.stdout.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("stdout line is not JSON: %q", line)
		}
		if _, ok := rec["_aws"]; ok && rec["InteractionsHandled"] == 1.0 && rec["GatewayConnected"] != nil && rec["ActiveVoiceConnections"] == 0.0 {
			found = true
		}
	}
	if !found {
		t.Fatalf("no EMF record with one interaction on stdout:\n%s", h.bot.stdout.String())
	}
	for _, line := range strings.Split(strings.TrimSpace(h.bot.logs.String()), "\n") {
		if !json.Valid([]byte(line)) {
			t.Fatalf("log line is not JSON with TIMMYBOT_LOG_FORMAT=json: %q", line)
		}
	}
}
