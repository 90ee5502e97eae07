package main

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/iddv/timmybot/app/audio/fetch"
	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/source/spotify"
)

func TestMetadataClientKeepsOffInternalAddresses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	t.Cleanup(srv.Close)
	tests := []struct {
		name     string
		policy   fetch.Policy
		wantCode string
	}{
		{name: "loopback is refused by default", wantCode: music.EINVALID},
		{name: "an operator's allowed network is reached", policy: fetch.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := metadataClient(tt.policy, fetch.DefaultLimits())
			if client.Timeout != spotify.DefaultTimeout {
				t.Errorf("timeout %v, want %v", client.Timeout, spotify.DefaultTimeout)
			}
			resp, err := client.Get(srv.URL)
			if err == nil {
				resp.Body.Close()
			}
			if music.ErrorCode(err) != tt.wantCode {
				t.Errorf("GET %s: %v, want code %q", srv.URL, err, tt.wantCode)
			}
		})
	}
}
