package dynamostore_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/iddv/timmybot/app/account"
	"github.com/iddv/timmybot/app/account/awstokens"
	"github.com/iddv/timmybot/app/dynamostore/dynamotest"
	"github.com/iddv/timmybot/app/music"
)

// TestLinkRecordVersions checks that every write of a link record is
// conditional on the version the writer read, and that records round-trip.
func TestLinkRecordVersions(t *testing.T) {
	endpoint := dynamotest.Endpoint(t)
	s := newStore(t, endpoint, dynamotest.NewTables(t, dynamotest.Client(t, endpoint)))
	ctx := context.Background()
	const ada music.UserID = "100000000000000001"
	rec := func(version int64, name string) awstokens.Record {
		return awstokens.Record{
			Link:        account.Link{User: ada, Service: account.Spotify, AccountName: name, Scopes: []string{"a"}, LinkedAt: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)},
			Fingerprint: "fp-" + name, TokenID: "tid-" + name, TokenAt: time.Date(2026, 12, 1, 0, 0, 0, 5, time.UTC), Version: version,
		}
	}
	steps := []struct {
		name string
		run  func() (bool, error)
		want bool
	}{
		{"create", func() (bool, error) { return s.PutLinkRecord(ctx, rec(1, "one")) }, true},
		{"create again", func() (bool, error) { return s.PutLinkRecord(ctx, rec(1, "other")) }, false},
		{"replace version 1", func() (bool, error) { return s.PutLinkRecord(ctx, rec(2, "two")) }, true},
		{"replace version 1 again", func() (bool, error) { return s.PutLinkRecord(ctx, rec(2, "other")) }, false},
		{"delete an old version", func() (bool, error) { return s.DeleteLinkRecord(ctx, ada, account.Spotify, 1) }, false},
	}
	for _, st := range steps {
		got, err := st.run()
		if err != nil || got != st.want {
			t.Fatalf("%s = %v, %v; want %v", st.name, got, err, st.want)
		}
	}
	got, err := s.LinkRecord(ctx, ada, account.Spotify)
	if diff := cmp.Diff(rec(2, "two"), got); err != nil || diff != "" {
		t.Fatalf("LinkRecord: %v (-want +got):\n%s", err, diff)
	}
	if all, err := s.LinkRecords(ctx, ada); err != nil || len(all) != 1 {
		t.Fatalf("LinkRecords = %v, %v; want the one record", all, err)
	}
	if deleted, err := s.DeleteLinkRecord(ctx, ada, account.Spotify, 2); err != nil || !deleted {
		t.Fatalf("delete version 2 = %v, %v; want deleted", deleted, err)
	}
	if got, err := s.LinkRecord(ctx, ada, account.Spotify); err != nil || got.Version != 0 {
		t.Fatalf("LinkRecord after the delete = %+v, %v; want none", got, err)
	}
}

// TestLinkRecordsBesidePreferences checks that link records share the
// preferences table without touching the user's preferences or playlists.
func TestLinkRecordsBesidePreferences(t *testing.T) {
	endpoint := dynamotest.Endpoint(t)
	s := newStore(t, endpoint, dynamotest.NewTables(t, dynamotest.Client(t, endpoint)))
	ctx := context.Background()
	const ada music.UserID = "100000000000000001"
	prefs := music.Preferences{User: ada, Volume: 40, Quiet: true}
	if err := s.SetPreferences(ctx, prefs); err != nil {
		t.Fatalf("SetPreferences: %v", err)
	}
	for _, service := range account.Services {
		if ok, err := s.PutLinkRecord(ctx, awstokens.Record{Link: account.Link{User: ada, Service: service}, Version: 1}); err != nil || !ok {
			t.Fatalf("PutLinkRecord %s = %v, %v", service, ok, err)
		}
	}
	got, err := s.Preferences(ctx, ada)
	if err != nil || got.Volume != prefs.Volume || !got.Quiet {
		t.Fatalf("Preferences = %+v, %v; want %+v", got, err, prefs)
	}
	if lists, err := s.Playlists(ctx, ada); err != nil || len(lists) != 0 {
		t.Fatalf("Playlists = %v, %v; want none", lists, err)
	}
	recs, err := s.LinkRecords(ctx, ada)
	if err != nil || len(recs) != len(account.Services) {
		t.Fatalf("LinkRecords = %v, %v", recs, err)
	}
	for i, r := range recs {
		if r.Link.Service != account.Services[i] {
			t.Errorf("record %d is %s, want %s (service order)", i, r.Link.Service, account.Services[i])
		}
	}
}
