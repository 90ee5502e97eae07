package dynamostore_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"
	"github.com/iddv/timmybot/app/dynamostore"
	"github.com/iddv/timmybot/app/dynamostore/dynamotest"
	"github.com/iddv/timmybot/app/music"
)

// beforeWrite is an API that runs hook once, before its first put or
// delete of an item that match accepts (given the table and the item, or
// the key of a delete).
type beforeWrite struct {
	dynamostore.API
	match func(table string, item map[string]types.AttributeValue) bool
	hook  func()
	done  atomic.Bool
}

func (a *beforeWrite) before(table *string, item map[string]types.AttributeValue) {
	if a.match(aws.ToString(table), item) && a.done.CompareAndSwap(false, true) {
		a.hook()
	}
}

func (a *beforeWrite) PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	a.before(in.TableName, in.Item)
	return a.API.PutItem(ctx, in, optFns...)
}

func (a *beforeWrite) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	a.before(in.TableName, in.Key)
	return a.API.DeleteItem(ctx, in, optFns...)
}

// isIndex matches a playlist index.
func isIndex(_ string, item map[string]types.AttributeValue) bool {
	_, index := item["pl"]
	return index
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
	late := &beforeWrite{API: dynamotest.Client(t, endpoint), match: isIndex, hook: func() {
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

// TestForgetRequesterLeavesARemovedEntryRemoved removes the user's entry
// after ForgetRequester found it and before it puts it back without its
// requester: the put must not bring the entry's item back.
func TestForgetRequesterLeavesARemovedEntryRemoved(t *testing.T) {
	ctx := context.Background()
	endpoint := dynamotest.Endpoint(t)
	client := dynamotest.Client(t, endpoint)
	names := dynamotest.NewTables(t, client)
	other := newStore(t, endpoint, names)
	const guild music.GuildID = "100000000000000001"
	const user music.UserID = "200000000000000001"
	if _, err := other.Enqueue(ctx, guild, music.Track{Title: "t", URL: "https://audio.example/t", RequestedBy: user}); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	isEntry := func(_ string, item map[string]types.AttributeValue) bool {
		sk, _ := item["sk"].(*types.AttributeValueMemberS)
		return sk != nil && strings.HasPrefix(sk.Value, "e#")
	}
	late := &beforeWrite{API: dynamotest.Client(t, endpoint), match: isEntry, hook: func() {
		if _, err := other.Pop(ctx, guild); err != nil {
			t.Errorf("Pop: %v", err)
		}
	}}
	s, err := dynamostore.New(late, names)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.ForgetRequester(ctx, user); err != nil || n != 0 {
		t.Errorf("ForgetRequester = %d, %v; want 0: the entry was removed first", n, err)
	}
	if !late.done.Load() {
		t.Fatal("ForgetRequester put no entry back")
	}
	out, err := client.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(names.Queues)})
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	for _, item := range out.Items {
		if sk := item["sk"].(*types.AttributeValueMemberS).Value; strings.HasPrefix(sk, "e#") {
			t.Errorf("the removed entry's item %s is back", sk)
		}
	}
}

// TestForgetAskerKeepsAnAskThatLandsMeanwhile has a member ask after
// ForgetAsker read the request and before it writes the request back, or
// deletes it when the forgotten member had asked alone: that ask must
// stay, with the forgotten member's gone.
func TestForgetAskerKeepsAnAskThatLandsMeanwhile(t *testing.T) {
	const (
		guild     music.GuildID = "100000000000000001"
		forgotten music.UserID  = "200000000000000001"
		before    music.UserID  = "200000000000000002"
		meanwhile music.UserID  = "200000000000000003"
	)
	ctx := context.Background()
	endpoint := dynamotest.Endpoint(t)
	for _, tt := range []struct {
		name   string
		askers []music.UserID
		want   []music.UserID
	}{
		{"a request others asked for", []music.UserID{forgotten, before}, []music.UserID{before, meanwhile}},
		{"a request the member asked for alone", []music.UserID{forgotten}, []music.UserID{meanwhile}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			names := dynamotest.NewTables(t, dynamotest.Client(t, endpoint))
			other := newStore(t, endpoint, names)
			ask := func(user music.UserID) {
				t.Helper()
				if _, err := other.RequestAccess(ctx, music.Ask{Guild: guild, Asker: music.Asker{User: user, Reason: "why", At: time.Unix(1, 0)}}); err != nil {
					t.Fatalf("RequestAccess: %v", err)
				}
			}
			for _, u := range tt.askers {
				ask(u)
			}
			isRequest := func(table string, _ map[string]types.AttributeValue) bool { return table == names.Allowlist }
			late := &beforeWrite{API: dynamotest.Client(t, endpoint), match: isRequest, hook: func() { ask(meanwhile) }}
			s, err := dynamostore.New(late, names)
			if err != nil {
				t.Fatal(err)
			}
			if n, err := s.ForgetAsker(ctx, forgotten); err != nil || n != 1 {
				t.Errorf("ForgetAsker = %d, %v; want 1", n, err)
			}
			if !late.done.Load() {
				t.Fatal("ForgetAsker wrote no request")
			}
			got, err := other.Access(ctx, guild)
			if err != nil || got.Request == nil {
				t.Fatalf("Access = %+v, %v; want a pending request", got, err)
			}
			var users []music.UserID
			for _, a := range got.Request.Askers {
				users = append(users, a.User)
			}
			if diff := cmp.Diff(tt.want, users); diff != "" || got.Request.Asks != len(tt.want) {
				t.Errorf("askers (-want +got):\n%s; %d asks, want %d", diff, got.Request.Asks, len(tt.want))
			}
		})
	}
}
