package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
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
			h := httpHandler(tt.gw, &stores{ping: tt.ping}, telemetry.NewMetrics(), nil)
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

// /readyz says whether yt-dlp has the JavaScript runtime YouTube needs.
func TestReadyzReportsTheJSRuntime(t *testing.T) {
	up := func(context.Context) error { return nil }
	tests := []struct {
		name, path, want string
	}{
		{"missing", "", "yt-dlp JavaScript runtime (deno): missing, YouTube will not play"},
		{"found", "deno", "yt-dlp JavaScript runtime (deno): "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Setenv("PATH", dir)
			if tt.path != "" {
				if err := os.WriteFile(filepath.Join(dir, tt.path), []byte("#!/bin/sh\n"), 0o700); err != nil {
					t.Fatal(err)
				}
			}
			pages, err := newPageResolver(config{YTDLP: "yt-dlp"}, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			h := httpHandler(gateway(true), &stores{ping: up}, telemetry.NewMetrics(), readyDetails(pages))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), tt.want) {
				t.Errorf("GET /readyz = %d %q, want 200 containing %q", rec.Code, rec.Body.String(), tt.want)
			}
		})
	}
}
