package dynamostore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/iddv/timmybot/app/music"
)

// attrExpires is the exact expiry (Unix ns) that reads check; attrTTL is
// the same instant rounded up to a second, for DynamoDB's lazy deletion.
const attrExpires = "expires"

// cacheKey hashes a lookup: keys stay short and evenly spread whatever the
// URL or query.
func (s *Store) cacheKey(lookup string) map[string]types.AttributeValue {
	sum := sha256.Sum256([]byte(lookup))
	return map[string]types.AttributeValue{attrKey: str(hex.EncodeToString(sum[:]))}
}

// CachedTrack implements music.TrackCache.
func (s *Store) CachedTrack(ctx context.Context, key string) (music.Track, error) {
	if err := music.ValidateCacheKey(key); err != nil {
		return music.Track{}, err
	}
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.tables.TrackCache),
		Key:            s.cacheKey(key),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return music.Track{}, fail("reading the track cache", err)
	}
	if out.Item == nil {
		return music.Track{}, music.CacheMiss()
	}
	expires, err := getTime(out.Item, attrExpires)
	if err != nil {
		return music.Track{}, fail("reading the track cache", err)
	}
	if !s.now().Before(expires) {
		return music.Track{}, music.CacheMiss()
	}
	t, err := getTrack(out.Item)
	return t, fail("reading the track cache", err)
}

// CacheTrack implements music.TrackCache.
func (s *Store) CacheTrack(ctx context.Context, key string, t music.Track, expiresAt time.Time) error {
	if err := music.ValidateCacheKey(key); err != nil {
		return err
	}
	if err := t.Validate(); err != nil {
		return err
	}
	item := s.cacheKey(key)
	putTrack(item, t)
	putTime(item, attrExpires, expiresAt)
	item[attrTTL] = num(expiresAt.Add(time.Second - 1).Unix())
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.tables.TrackCache), Item: item})
	return fail("caching a track", err)
}
