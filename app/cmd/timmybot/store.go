package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/iddv/timmybot/app/discord"
	"github.com/iddv/timmybot/app/dynamostore"
	"github.com/iddv/timmybot/app/localstore"
	"github.com/iddv/timmybot/app/music"
)

// stores is the storage the configuration selects, behind music's ports.
type stores struct {
	kind        string
	queues      music.QueueStore
	allowlist   music.AllowlistStore
	preferences music.PreferenceStore
	playlists   music.PlaylistStore
	tracks      music.TrackCache
	requesters  discord.Requesters
	// dynamo and dynamoAPI are the DynamoDB store and client in AWS mode,
	// where linked accounts keep their records and flows there too.
	dynamo    *dynamostore.Store
	dynamoAPI dynamostore.API
	ping      func(context.Context) error
	close     func()
}

// openStores opens DynamoDB when table names are configured, and the
// embedded store under the data directory otherwise.
func openStores(ctx context.Context, c config) (*stores, error) {
	if c.awsMode() {
		return openDynamo(ctx, c)
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("TIMMYBOT_DATA_DIR: creating %s: %w", c.DataDir, err)
	}
	path := filepath.Join(c.DataDir, "timmybot.db")
	db, err := localstore.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening the embedded store %s: %w", path, err)
	}
	return &stores{
		kind:        "embedded " + path,
		queues:      db,
		allowlist:   db,
		preferences: db,
		playlists:   db,
		tracks:      db,
		requesters:  db,
		ping:        db.Ping,
		close:       func() { _ = db.Close() },
	}, nil
}

func openDynamo(ctx context.Context, c config) (*stores, error) {
	client, err := dynamostore.NewClient(ctx, dynamostore.ClientConfig{Endpoint: c.DynamoEndpoint})
	if err != nil {
		return nil, fmt.Errorf("configuring DynamoDB: %w", err)
	}
	db, err := dynamostore.New(client, c.Tables)
	if err != nil {
		return nil, fmt.Errorf("configuring DynamoDB: %w", err)
	}
	return &stores{
		kind:        "dynamodb",
		queues:      db,
		allowlist:   db,
		preferences: db,
		playlists:   db,
		tracks:      db,
		requesters:  db,
		dynamo:      db,
		dynamoAPI:   client,
		ping:        db.Ping,
		close:       func() {},
	}, nil
}
