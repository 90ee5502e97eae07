package dynamostore_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/go-cmp/cmp"
	"github.com/iddv/timmybot/app/dynamostore"
	"github.com/iddv/timmybot/app/dynamostore/dynamotest"
	"github.com/iddv/timmybot/app/music"
)

// beforeIndexPut is an API that runs hook once, before its first put of a
// playlist index.
type beforeIndexPut struct {
	dynamostore.API
	hook func()
	done atomic.Bool
}

func (a *beforeIndexPut) PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if _, index := in.Item["pl"]; index && a.done.CompareAndSwap(false, true) {
		a.hook()
	}
	return a.API.PutItem(ctx, in, optFns...)
}

// TestPlaylistsForgottenMidSave deletes a user's playlists, and saves a new
// one, while another client's save has read the old index and is about to
// replace it: that save must not bring back the deleted index, whose
// version the new index would share if versions restarted.
func TestPlaylistsForgottenMidSave(t *testing.T) {
	ctx := context.Background()
	endpoint := dynamotest.Endpoint(t)
	names := dynamotest.NewTables(t, dynamotest.Client(t, endpoint))
	other := newStore(t, endpoint, names)
	const user music.UserID = "200000000000000001"
	save := func(s *dynamostore.Store, name string) {
		t.Helper()
		p := music.SavedPlaylist{User: user, Name: name, Tracks: []music.Track{{Title: name, URL: "https://audio.example/" + name}}}
		if err := s.SavePlaylist(ctx, p, false); err != nil {
			t.Fatalf("SavePlaylist %s: %v", name, err)
		}
	}
	save(other, "old")
	late := &beforeIndexPut{API: dynamotest.Client(t, endpoint), hook: func() {
		if _, err := other.DeletePlaylists(ctx, user); err != nil {
			t.Errorf("DeletePlaylists: %v", err)
		}
		save(other, "fresh")
	}}
	s, err := dynamostore.New(late, names)
	if err != nil {
		t.Fatal(err)
	}
	save(s, "late")
	list, err := other.Playlists(ctx, user)
	if err != nil {
		t.Fatalf("Playlists: %v", err)
	}
	var got []string
	for _, p := range list {
		got = append(got, p.Name)
		if _, err := other.Playlist(ctx, user, p.Name); err != nil {
			t.Errorf("Playlist %s: %v", p.Name, err)
		}
	}
	if diff := cmp.Diff([]string{"fresh", "late"}, got); diff != "" {
		t.Errorf("playlists (-want +got):\n%s", diff)
	}
}
