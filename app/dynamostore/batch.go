package dynamostore

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/iddv/timmybot/app/music"
)

// DynamoDB's limits per batch request.
const (
	maxBatchWrite = 25
	maxBatchGet   = 100
)

// unprocessedAttempts bounds the re-sending of the part of a batch that
// DynamoDB left unprocessed (it does so when throttled).
const unprocessedAttempts = 8

func errUnprocessed(n int) error {
	return fmt.Errorf("%d items still unprocessed after %d attempts: %w", n, unprocessedAttempts,
		music.Errorf(music.EUNAVAILABLE, "The music database is too busy right now; try again in a moment."))
}

func (s *Store) putItems(ctx context.Context, table string, items []map[string]types.AttributeValue) error {
	reqs := make([]types.WriteRequest, len(items))
	for i, item := range items {
		reqs[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: item}}
	}
	return s.batchWrite(ctx, table, reqs)
}

func (s *Store) deleteItems(ctx context.Context, table string, keys []map[string]types.AttributeValue) error {
	reqs := make([]types.WriteRequest, len(keys))
	for i, key := range keys {
		reqs[i] = types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: key}}
	}
	return s.batchWrite(ctx, table, reqs)
}

func (s *Store) batchWrite(ctx context.Context, table string, reqs []types.WriteRequest) error {
	batches := (len(reqs) + maxBatchWrite - 1) / maxBatchWrite
	return inParallel(ctx, batches, func(ctx context.Context, i int) error {
		batch := reqs[i*maxBatchWrite : min((i+1)*maxBatchWrite, len(reqs))]
		return s.writeBatch(ctx, table, batch)
	})
}

func (s *Store) writeBatch(ctx context.Context, table string, batch []types.WriteRequest) error {
	pending := map[string][]types.WriteRequest{table: batch}
	for attempt := 0; len(pending[table]) > 0; attempt++ {
		if attempt == unprocessedAttempts {
			return errUnprocessed(len(pending[table]))
		}
		if attempt > 0 {
			if err := conflictWait(ctx, attempt); err != nil {
				return err
			}
		}
		out, err := s.api.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
		if err != nil {
			return err
		}
		pending = out.UnprocessedItems
	}
	return nil
}

// batchWorkers bounds the requests one operation has in flight: enough to
// write a 500-track playlist or clear a full queue in a few round trips,
// few enough not to be throttled for it.
const batchWorkers = 8

// inParallel calls fn for 0..n-1 on up to batchWorkers goroutines, stops
// handing out work at the first error, and returns it once all calls have
// returned. Calls in flight are not cancelled: a request cut off may still
// be applied by the server after the caller has cleaned up behind it, so
// cleanup waits for every answer.
func inParallel(ctx context.Context, n int, fn func(ctx context.Context, i int) error) error {
	var (
		next    atomic.Int64
		stopped atomic.Bool
		once    sync.Once
		first   error
		wg      sync.WaitGroup
	)
	for range min(n, batchWorkers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n && !stopped.Load() && ctx.Err() == nil; i = int(next.Add(1)) - 1 {
				if err := fn(ctx, i); err != nil {
					once.Do(func() { first = err })
					stopped.Store(true)
					return
				}
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

// getQueueItems reads items of the queues table by key, consistently, and
// returns those that exist by sort key.
func (s *Store) getQueueItems(ctx context.Context, keys []map[string]types.AttributeValue) (map[string]map[string]types.AttributeValue, error) {
	found := make(map[string]map[string]types.AttributeValue, len(keys))
	table := s.tables.Queues
	for len(keys) > 0 {
		k := min(maxBatchGet, len(keys))
		pending := map[string]types.KeysAndAttributes{table: {Keys: keys[:k], ConsistentRead: aws.Bool(true)}}
		keys = keys[k:]
		for attempt := 0; len(pending[table].Keys) > 0; attempt++ {
			if attempt == unprocessedAttempts {
				return nil, errUnprocessed(len(pending[table].Keys))
			}
			if attempt > 0 {
				if err := conflictWait(ctx, attempt); err != nil {
					return nil, err
				}
			}
			out, err := s.api.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: pending})
			if err != nil {
				return nil, err
			}
			for _, item := range out.Responses[table] {
				found[getStr(item, attrSort)] = item
			}
			pending = out.UnprocessedKeys
		}
	}
	return found, nil
}
