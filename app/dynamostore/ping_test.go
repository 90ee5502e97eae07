package dynamostore_test

import (
	"context"
	"testing"

	"github.com/iddv/timmybot/app/dynamostore"
	"github.com/iddv/timmybot/app/dynamostore/dynamotest"
	"github.com/iddv/timmybot/app/music"
)

func TestPing(t *testing.T) {
	client := dynamotest.Client(t, dynamotest.Endpoint(t))
	names := dynamotest.NewTables(t, client)
	s, err := dynamostore.New(client, names)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("ping with the tables in place: %v", err)
	}

	missing := names
	missing.Allowlist = names.Allowlist + "-missing"
	s, err = dynamostore.New(client, missing)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(context.Background()); music.ErrorCode(err) == "" {
		t.Fatal("ping without the allowlist table succeeded")
	}
}
