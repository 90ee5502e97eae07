package discord

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestMessengerSendsOverREST sends a DM through a fake Discord REST API:
// the DM channel is opened for the user, the message goes to that channel
// with no mentions allowed, and every call carries the bot token.
func TestMessengerSendsOverREST(t *testing.T) {
	var mu sync.Mutex
	var calls []string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		mu.Lock()
		calls = append(calls, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		switch r.URL.Path {
		case "/api/v9/users/@me/channels":
			if body["recipient_id"] != "100000000000000001" {
				http.Error(w, "wrong recipient", http.StatusBadRequest)
				return
			}
			json.NewEncoder(w).Encode(map[string]any{"id": "500000000000000001", "type": 1})
		case "/api/v9/channels/500000000000000001/messages":
			if body["content"] != "New access request" || body["allowed_mentions"] == nil {
				http.Error(w, "wrong message", http.StatusBadRequest)
				return
			}
			json.NewEncoder(w).Encode(map[string]any{"id": "600000000000000001", "channel_id": "500000000000000001"})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(api.Close)

	m, err := NewMessenger("bot-token", api.URL, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.DirectMessage(context.Background(), "100000000000000001", "New access request"); err != nil {
		t.Fatalf("DirectMessage: %v", err)
	}
	want := []string{
		"POST /api/v9/users/@me/channels Bot bot-token",
		"POST /api/v9/channels/500000000000000001/messages Bot bot-token",
	}
	if diff := cmp.Diff(want, calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if err := m.DirectMessage(context.Background(), "100000000000000009", "New access request"); err == nil {
		t.Error("DirectMessage reported success although Discord refused the DM channel")
	}
}
