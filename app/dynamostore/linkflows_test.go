package dynamostore_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/iddv/timmybot/app/account"
	"github.com/iddv/timmybot/app/account/flowstoretest"
	"github.com/iddv/timmybot/app/dynamostore"
	"github.com/iddv/timmybot/app/dynamostore/dynamotest"
)

func newLinkFlows(t *testing.T, endpoint, table string, now func() time.Time) *dynamostore.LinkFlows {
	t.Helper()
	f, err := dynamostore.NewLinkFlows(dynamotest.Client(t, endpoint), table, dynamostore.WithClock(now))
	if err != nil {
		t.Fatalf("NewLinkFlows: %v", err)
	}
	return f
}

func TestLinkFlowsConform(t *testing.T) {
	endpoint := dynamotest.Endpoint(t)
	flowstoretest.Run(t, func(t *testing.T, now func() time.Time) func() account.PendingFlows {
		names := dynamotest.NewTables(t, dynamotest.Client(t, endpoint))
		// Each call is a client of its own, as the bot and the web front
		// each have.
		return func() account.PendingFlows { return newLinkFlows(t, endpoint, names.Preferences, now) }
	})
}

// TestLinkFlowsKeepNoUsableSecret reads the table as someone with read
// access would: neither the state nor the verifier is in it.
func TestLinkFlowsKeepNoUsableSecret(t *testing.T) {
	endpoint := dynamotest.Endpoint(t)
	client := dynamotest.Client(t, endpoint)
	names := dynamotest.NewTables(t, client)
	now := func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) }
	flows := newLinkFlows(t, endpoint, names.Preferences, now)
	f := account.Flow{State: "STATE7Q2ZKX4MNB5LPW3RT6YHVC", User: flowstoretest.Ada, Service: account.Spotify,
		Verifier: "VERIFIERABCDEFGHIJKLMNOPQRSTUVWXYZ234567ABCDEFGHIJKL", Expires: now().Add(10 * time.Minute)}
	if err := flows.Put(context.Background(), f); err != nil {
		t.Fatalf("Put: %v", err)
	}
	out, err := client.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(names.Preferences), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	sum := sha256.Sum256([]byte(f.State))
	dump := strings.ToLower(stringsOf(out.Items))
	if !strings.Contains(dump, "flow#"+hex.EncodeToString(sum[:])) {
		t.Fatalf("the flow is not kept under its state's hash: %s", dump)
	}
	for _, secret := range []string{f.State, f.Verifier} {
		if strings.Contains(dump, strings.ToLower(secret)) {
			t.Errorf("the table holds %q: %s", secret, dump)
		}
	}
}

// stringsOf writes every attribute of items as text, binary values as
// their bytes.
func stringsOf(items []map[string]types.AttributeValue) string {
	var b strings.Builder
	for _, item := range items {
		for name, v := range item {
			b.WriteString(name + "=")
			switch v := v.(type) {
			case *types.AttributeValueMemberS:
				b.WriteString(v.Value)
			case *types.AttributeValueMemberN:
				b.WriteString(v.Value)
			case *types.AttributeValueMemberB:
				b.Write(v.Value)
			}
			b.WriteString(" ")
		}
		b.WriteString("\n")
	}
	return b.String()
}
