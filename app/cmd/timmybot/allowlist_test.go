package main

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/iddv/timmybot/app/music"
)

func TestWriteRequests(t *testing.T) {
	at := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		list []music.AccessRequest
		want string
	}{
		{"none", nil, "GUILD  NAME  ASKED BY  ASKED AT  REASON\n"},
		{"one row per asker", []music.AccessRequest{{
			Guild: "100000000000000001", GuildName: "Band", Asks: 2,
			Askers: []music.Asker{
				{User: "200000000000000001", Reason: "gigs", At: at},
				{User: "200000000000000002", At: at.Add(time.Hour)},
			},
		}}, `
GUILD               NAME  ASKED BY            ASKED AT              REASON
100000000000000001  Band  200000000000000001  2026-03-02T12:00:00Z  "gigs"
100000000000000001  Band  200000000000000002  2026-03-02T13:00:00Z  ""
`},
		{"askers past the bound are counted", []music.AccessRequest{{
			Guild: "100000000000000001", GuildName: "Band", Asks: 8,
			Askers: []music.Asker{{User: "200000000000000001", Reason: "gigs", At: at}},
		}}, `
GUILD               NAME  ASKED BY            ASKED AT              REASON
100000000000000001  Band  200000000000000001  2026-03-02T12:00:00Z  "gigs"
100000000000000001  Band  (7 more)                                  
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if err := writeRequests(&b, tt.list); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(strings.TrimPrefix(tt.want, "\n"), b.String()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
