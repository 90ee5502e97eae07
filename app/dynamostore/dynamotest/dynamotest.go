// Package dynamotest gives tests a DynamoDB-compatible endpoint and fresh
// tables on it. It owns finding the endpoint, not the store's behaviour.
//
// The endpoint is, in this order: DYNAMODB_ENDPOINT when set; otherwise
// DynamoDB Local started through testcontainers when a Docker engine is
// healthy; otherwise the test fails when CI=true and is skipped, loudly,
// elsewhere.
package dynamotest

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/iddv/timmybot/app/dynamostore"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
)

// Image is the DynamoDB Local image the tests start, pinned.
const Image = "amazon/dynamodb-local:2.5.2"

// EnvEndpoint names the variable that points the tests at a running server.
const EnvEndpoint = "DYNAMODB_ENDPOINT"

var (
	containerOnce     sync.Once
	containerEndpoint string
	containerErr      error
)

// Endpoint returns the URL of a DynamoDB-compatible server, or ends the
// test (fails under CI=true, skips elsewhere) when none can be had.
func Endpoint(tb testing.TB) string {
	tb.Helper()
	if ep := os.Getenv(EnvEndpoint); ep != "" {
		return ep
	}
	if why := dockerUnhealthy(); why != "" {
		unavailable(tb, fmt.Sprintf("%s is not set and no Docker engine is healthy (%s)", EnvEndpoint, why))
	}
	containerOnce.Do(func() { containerEndpoint, containerErr = startDynamoDBLocal() })
	if containerErr != nil {
		unavailable(tb, fmt.Sprintf("starting %s: %v", Image, containerErr))
	}
	return containerEndpoint
}

func unavailable(tb testing.TB, why string) {
	tb.Helper()
	msg := fmt.Sprintf("no DynamoDB endpoint: %s; run the tests under scripts/with-dynalite (make test does) or set %s", why, EnvEndpoint)
	if os.Getenv("CI") == "true" {
		tb.Fatal(msg)
	} else {
		tb.Skipf("\n*** SKIPPED: %s ***", msg)
	}
}

// dockerUnhealthy returns why no Docker provider is usable, or "".
func dockerUnhealthy() (why string) {
	defer func() {
		// The provider lookup panics on some broken Docker setups.
		if r := recover(); r != nil {
			why = fmt.Sprint(r)
		}
	}()
	provider, err := testcontainers.ProviderDefault.GetProvider()
	if err != nil {
		return err.Error()
	}
	defer provider.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := provider.Health(ctx); err != nil {
		return err.Error()
	}
	return ""
}

// startDynamoDBLocal starts one container for the whole test binary; the
// testcontainers reaper removes it when the binary exits.
func startDynamoDBLocal() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ctr, err := testcontainers.Run(ctx, Image,
		testcontainers.WithExposedPorts("8000/tcp"),
		testcontainers.WithCmd("-jar", "DynamoDBLocal.jar", "-inMemory", "-sharedDb"),
		testcontainers.WithWaitStrategy(wait.ForListeningPort("8000/tcp")),
	)
	if err != nil {
		return "", err
	}
	ep, err := ctr.PortEndpoint(ctx, "8000/tcp", "http")
	if err != nil {
		return "", err
	}
	return ep, nil
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
