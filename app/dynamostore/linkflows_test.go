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
	"github.com/iddv/timmybot/app/storetest"
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
	now := storetest.NewClockNow().Now
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

// repeatedWrites plays the SDK repeating a write whose answer was lost: each
// PutItem is applied, then sent again, and the caller gets the second
// answer.
type repeatedWrites struct{ *dynamodb.Client }

func (r repeatedWrites) PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if _, err := r.Client.PutItem(ctx, in, optFns...); err != nil {
		return nil, err
	}
	return r.Client.PutItem(ctx, in, optFns...)
}

// TestLinkFlowsSurviveRepeatedWrites: a Take whose claim was applied but
// whose answer was lost still takes the flow, once; a repeated pointer
// write keeps the newest flow the one that works.
func TestLinkFlowsSurviveRepeatedWrites(t *testing.T) {
	endpoint := dynamotest.Endpoint(t)
	client := dynamotest.Client(t, endpoint)
	names := dynamotest.NewTables(t, client)
	now := storetest.NewClockNow().Now
	flows, err := dynamostore.NewLinkFlows(repeatedWrites{client}, names.Preferences, dynamostore.WithClock(now))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	older := account.Flow{State: "OLDERSTATE", User: flowstoretest.Ada, Service: account.Spotify, Verifier: "v1", Expires: now().Add(time.Minute)}
	newer := account.Flow{State: "NEWERSTATE", User: flowstoretest.Ada, Service: account.Spotify, Verifier: "v2", Expires: now().Add(time.Minute)}
	for _, f := range []account.Flow{older, newer} {
		if err := flows.Put(ctx, f); err != nil {
			t.Fatalf("Put: %v", err)
		}
	}
	if _, ok, err := flows.Take(ctx, older.State); ok || err != nil {
		t.Fatalf("Take of the older flow = %v, %v; want it cancelled", ok, err)
	}
	got, ok, err := flows.Take(ctx, newer.State)
	if !ok || err != nil || got.Verifier != "v2" {
		t.Fatalf("Take with its claim repeated = %+v, %v, %v; want the newer flow", got, ok, err)
	}
	if _, ok, err := flows.Take(ctx, newer.State); ok || err != nil {
		t.Fatalf("a second Take = %v, %v; want the flow used already", ok, err)
	}
}
