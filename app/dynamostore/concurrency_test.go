package dynamostore_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"
	"github.com/iddv/timmybot/app/dynamostore"
	"github.com/iddv/timmybot/app/dynamostore/dynamotest"
	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/storetest"
)

// conflictCounter counts the conditional writes that lost to another writer.
type conflictCounter struct {
	dynamostore.API
	lost *atomic.Int64
}

func (c conflictCounter) PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	out, err := c.API.PutItem(ctx, in, optFns...)
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		c.lost.Add(1)
	}
	return out, err
}

// TestManyClientsLoseNothing runs the conformance suite's concurrency check
// with eight clients, as eight bot tasks would: optimistic commits then
// really collide, and the queue must still match what succeeded.
func TestManyClientsLoseNothing(t *testing.T) {
	endpoint := dynamotest.Endpoint(t)
	names := dynamotest.NewTables(t, dynamotest.Client(t, endpoint))
	var lost atomic.Int64
	var clients []music.QueueStore
	for range 8 {
		s, err := dynamostore.New(conflictCounter{API: dynamotest.Client(t, endpoint), lost: &lost}, names)
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, s)
	}
	storetest.QueueConcurrency(t, clients)
	if lost.Load() == 0 {
		t.Error("no commit ever lost to another client: the test proved nothing about conflicts")
	}
	t.Logf("%d commits lost to another client and were retried", lost.Load())
}

// interloper lets another writer commit just before the first commit it
// forwards, as a second bot task might.
type interloper struct {
	dynamostore.API
	once   sync.Once
	commit func()
}

func (i *interloper) PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if sk, ok := in.Item["sk"].(*types.AttributeValueMemberS); ok && sk.Value == "meta" {
		i.once.Do(i.commit)
	}
	return i.API.PutItem(ctx, in, optFns...)
}

func TestLosingWriterRetriesOrGivesUp(t *testing.T) {
	endpoint := dynamotest.Endpoint(t)
	tests := []struct {
		name     string
		attempts int
		wantCode string
		want     []string
	}{
		{"retries and lands after the other", 2, "", []string{"other", "mine"}},
		{"gives up with one attempt", 1, music.ECONFLICT, []string{"other"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			direct := dynamotest.Client(t, endpoint)
			names := dynamotest.NewTables(t, direct)
			other := newStore(t, endpoint, names)
			ctx := context.Background()
			api := &interloper{API: dynamotest.Client(t, endpoint), commit: func() {
				if _, err := other.Enqueue(ctx, faultGuild, music.Track{Title: "other", URL: "https://audio.example/o"}); err != nil {
					t.Errorf("the other writer: %v", err)
				}
			}}
			s, err := dynamostore.New(api, names, dynamostore.WithConflictAttempts(tt.attempts))
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Enqueue(ctx, faultGuild, music.Track{Title: "mine", URL: "https://audio.example/m"})
			if code := music.ErrorCode(err); code != tt.wantCode {
				t.Fatalf("Enqueue = %v, want code %q", err, tt.wantCode)
			}
			page, err := s.Page(ctx, faultGuild, 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range page.Entries {
				got = append(got, e.Track.Title)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("queue (-want +got):\n%s", diff)
			}
			// meta, one page, the entries: nothing the loser wrote is left.
			if items := partitionItems(t, direct, names.Queues); len(items) != 2+len(tt.want) {
				t.Errorf("items under the guild: %v, want meta, one page and %d entries", items, len(tt.want))
			}
		})
	}
}
