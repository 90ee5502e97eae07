package dynamostore_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
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
