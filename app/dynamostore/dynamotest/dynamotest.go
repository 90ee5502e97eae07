// Package dynamotest gives tests the DynamoDB server their run provides,
// and fresh tables on it. It owns reading the endpoint, not starting
// servers, nor the store's behaviour.
//
// The endpoint is DYNAMODB_ENDPOINT. Without it a test fails under CI=true
// and is skipped, loudly, elsewhere (package servertest). Starting a server
// belongs to the command that runs the tests: make unit runs them under
// test/cmd/dynamodblocal, which starts DynamoDB Local (through
// testcontainers, or its jar on java) and sets DYNAMODB_ENDPOINT. That
// code lives in the test module so that the app module requires no
// container libraries, and one server serves every test binary of a run.
package dynamotest

import (
	"context"
	"crypto/rand"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/iddv/timmybot/app/dynamostore"
	"github.com/iddv/timmybot/app/servertest"
)

// EnvEndpoint names the variable that points the tests at a running server.
const EnvEndpoint = "DYNAMODB_ENDPOINT"

// Endpoint returns the URL of the DynamoDB server in EnvEndpoint, or ends
// the test when it is not set.
func Endpoint(tb testing.TB) string {
	tb.Helper()
	ep := os.Getenv(EnvEndpoint)
	if ep == "" {
		servertest.Unavailable(tb, "DynamoDB", EnvEndpoint+" is not set; run the tests with make unit, or under go run ./test/cmd/dynamodblocal, or set it to a server of your own")
	}
	return ep
}

// Client returns a client for endpoint with placeholder credentials (local
// servers do not check them) and the store's retry policy.
func Client(tb testing.TB, endpoint string) *dynamodb.Client {
	tb.Helper()
	client, err := dynamostore.NewClient(context.Background(), dynamostore.ClientConfig{
		Endpoint:    endpoint,
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
	if err != nil {
		tb.Fatalf("creating the DynamoDB client: %v", err)
	}
	return client
}

// NewTables creates the store's tables under a prefix unique to this call,
// so that test runs and tests sharing a server never see each other's data,
// and deletes them when the test ends.
func NewTables(tb testing.TB, client *dynamodb.Client) dynamostore.TableNames {
	tb.Helper()
	names := dynamostore.PrefixedTableNames("t" + rand.Text()[:12] + "-")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for _, t := range dynamostore.Tables(names) {
			// A table that was never created is fine to miss.
			_, _ = client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(t.Name)})
		}
	})
	if err := dynamostore.CreateTables(ctx, client, names); err != nil {
		tb.Fatalf("creating tables: %v", err)
	}
	return names
}
