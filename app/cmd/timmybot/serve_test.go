package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/iddv/timmybot/app/telemetry"
)

type gateway bool

func (g gateway) Connected() bool { return bool(g) }

func TestHealthEndpoints(t *testing.T) {
	up := func(context.Context) error { return nil }
	down := func(context.Context) error { return errors.New("table missing") }
	tests := []struct {
		name     string
		gw       gateway
		ping     func(context.Context) error
		path     string
		wantCode int
		wantBody string
	}{
		{"alive even when not ready", false, down, "/healthz", http.StatusOK, "ok"},
		{"ready", true, up, "/readyz", http.StatusOK, "ready"},
		{"gateway down", false, up, "/readyz", http.StatusServiceUnavailable, "gateway not connected"},
		{"store down", true, down, "/readyz", http.StatusServiceUnavailable, "store unreachable"},
		{"metrics", true, up, "/metrics", http.StatusOK, "timmybot_interactions_handled_total 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := httpHandler(tt.gw, &stores{ping: tt.ping}, telemetry.NewMetrics())
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tt.path, nil))
			if rec.Code != tt.wantCode || !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Errorf("GET %s = %d %q, want %d containing %q", tt.path, rec.Code, rec.Body.String(), tt.wantCode, tt.wantBody)
			}
			if strings.Contains(rec.Body.String(), "table missing") {
				t.Errorf("the store's error leaked into the answer: %q", rec.Body.String())
			}
		})
	}
}
