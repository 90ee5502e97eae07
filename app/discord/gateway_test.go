package discord

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"
)

func TestRetryDelayDoublesUpToTheCap(t *testing.T) {
	tests := []struct {
		failures int
		want     time.Duration
	}{
		{1, time.Second},
		{2, 2 * time.Second},
		{3, 4 * time.Second},
		{7, 64 * time.Second},
		{8, 2 * time.Minute},
		{100, 2 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.failures), func(t *testing.T) {
			if got := retryDelay(tt.failures); got != tt.want {
				t.Errorf("retryDelay(%d) = %v, want %v", tt.failures, got, tt.want)
			}
		})
	}
}

func TestRefusalTellsFinalErrorsFromPassingOnes(t *testing.T) {
	restError := func(status int) error {
		req, _ := http.NewRequest(http.MethodGet, "https://discord.com/api/v9/gateway", nil)
		return &discordgo.RESTError{Request: req, Response: &http.Response{StatusCode: status, Status: http.StatusText(status)}}
	}
	closeError := func(code int) error {
		return fmt.Errorf("reading: %w", &websocket.CloseError{Code: code, Text: "why"})
	}
	tests := []struct {
		name string
		err  error
		want error // nil: retry
	}{
		{"token refused at identify", closeError(4004), ErrTokenRefused},
		{"token refused over REST", restError(http.StatusUnauthorized), ErrTokenRefused},
		{"invalid intents", closeError(4013), ErrIntentsRefused},
		{"disallowed intents", closeError(4014), ErrIntentsRefused},
		{"invalid API version", closeError(4012), ErrGatewayRefused},
		{"sharding required", closeError(4011), ErrGatewayRefused},
		{"unknown error close", closeError(4000), nil},
		{"rate limited close", closeError(4008), nil},
		{"abnormal close", closeError(websocket.CloseAbnormalClosure), nil},
		{"server error", restError(http.StatusBadGateway), nil},
		{"network down", errors.New("dial tcp: connection refused"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := refusal(tt.err)
			if tt.want == nil {
				if got != nil {
					t.Errorf("refusal(%v) = %v, want a retry", tt.err, got)
				}
				return
			}
			if !errors.Is(got, tt.want) {
				t.Errorf("refusal(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestTheTokenIsRedacted(t *testing.T) {
	const token = "MTIz.secret-part.xyz"
	t.Run("errors", func(t *testing.T) {
		err := redact(&url.Error{Op: "Get", URL: "https://discord.com/?t=" + token, Err: errors.New("refused")}, token)
		if strings.Contains(err.Error(), token) || !strings.Contains(err.Error(), "[redacted]") {
			t.Errorf("redact = %q", err)
		}
		if plain := errors.New("no secret"); redact(plain, token) != plain {
			t.Errorf("an error without the token was rewritten")
		}
	})
	t.Run("discordgo log", func(t *testing.T) {
		var out bytes.Buffer
		logf := discordgoLogger(slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug})), token)
		logf(discordgo.LogDebug, 0, "Identify Packet: \n%#v", struct{ Token string }{"Bot " + token})
		if strings.Contains(out.String(), token) || !strings.Contains(out.String(), "[redacted]") || !strings.Contains(out.String(), "level=DEBUG") {
			t.Errorf("logged %q", out.String())
		}
	})
}
