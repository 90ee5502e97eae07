package e2e

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/iddv/timmybot/app/account/accounttest"
	"github.com/iddv/timmybot/app/account/awstokens/secretsmanagertest"
	"github.com/iddv/timmybot/app/dynamostore/dynamotest"
)

// TestDynamoDBMode runs the bot as it runs in AWS: tables named by
// TIMMYBOT_TABLE_*, on a DynamoDB-compatible server, EMF metrics.
func TestDynamoDBMode(t *testing.T) {
	t.Parallel()
	endpoint := dynamotest.Endpoint(t)
	names := dynamotest.NewTables(t, dynamotest.Client(t, endpoint))
	h := newHarness(t,
		"TIMMYBOT_TABLE_QUEUES="+names.Queues,
		"TIMMYBOT_TABLE_PREFERENCES="+names.Preferences,
		"TIMMYBOT_TABLE_TRACK_CACHE="+names.TrackCache,
		"TIMMYBOT_TABLE_ALLOWLIST="+names.Allowlist,
		"TIMMYBOT_DYNAMODB_ENDPOINT="+endpoint,
		"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local",
	)
	if !strings.Contains(h.bot.logs.String(), "store=dynamodb") {
		t.Fatalf("the bot did not select DynamoDB:\n%s", h.bot.logs)
	}
	g := h.approved.ID // approved through the CLI, against the same tables
	if msg := h.do(t, g, memberID, "play", opt("query", h.track("cloud.mp3"))); msg.Content != "Playing **cloud.mp3**." {
		t.Fatalf("/play answered %q", msg.Content)
	}
	if q := h.do(t, g, memberID, "queue"); !strings.Contains(q.Embeds[0].Description, "cloud.mp3") {
		t.Fatalf("/queue = %+v", q)
	}
	if code := h.bot.get(t, "/readyz"); code != http.StatusOK {
		t.Errorf("/readyz = %d", code)
	}
	if code, body := h.bot.fetch(t, "/metrics"); code != http.StatusOK || !strings.Contains(body, "timmybot_interactions_handled_total 2") {
		t.Errorf("/metrics = %d\n%s", code, body)
	}
}

// TestLinkInAWSMode links an account through the real binary as it runs in
// AWS: the tokens become a secret under the link prefix, encrypted with the
// link key, in a local stand-in of Secrets Manager; the link's record (no
// token) and the flow under way are items of the preferences table; and
// /forget-me leaves neither secret nor record behind.
func TestLinkInAWSMode(t *testing.T) {
	t.Parallel()
	const key = "arn:aws:kms:us-east-1:111111111111:key/links"
	endpoint := dynamotest.Endpoint(t)
	client := dynamotest.Client(t, endpoint)
	names := dynamotest.NewTables(t, client)
	secrets := secretsmanagertest.New(t, key)
	provider := accounttest.New(t)
	h := newHarness(t,
		"TIMMYBOT_TABLE_QUEUES="+names.Queues,
		"TIMMYBOT_TABLE_PREFERENCES="+names.Preferences,
		"TIMMYBOT_TABLE_TRACK_CACHE="+names.TrackCache,
		"TIMMYBOT_TABLE_ALLOWLIST="+names.Allowlist,
		"TIMMYBOT_DYNAMODB_ENDPOINT="+endpoint,
		"TIMMYBOT_SECRETSMANAGER_ENDPOINT="+secrets.URL(),
		"TIMMYBOT_LINK_SECRET_PREFIX=timmybot/links", "TIMMYBOT_LINK_KMS_KEY_ID="+key,
		"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local",
		"TIMMYBOT_LINK_PROVIDER_URL="+provider.URL().String(),
		"TIMMYBOT_LINK_CLIENTS="+`{"spotify":{"client_id":"`+accounttest.ClientID+`","client_secret":"`+accounttest.ClientSecret+`"}}`,
	)
	linkThroughBrowser(t, h, "spotify")
	if got := h.do(t, h.approved.ID, memberID, "account").Content; !strings.Contains(got, "**Spotify**: Ada's music") {
		t.Fatalf("/account = %q\n%s", got, h.bot.logs)
	}
	stored := secrets.Secrets()
	name := "timmybot/links/" + string(memberID) + "/spotify"
	issued := func(value string) bool {
		return slices.ContainsFunc(provider.Issued(), func(s string) bool { return strings.Contains(value, `"access_token":"`+s+`"`) })
	}
	if len(stored) != 1 || stored[name].KMSKeyID != key || !issued(stored[name].Value) {
		t.Fatalf("secrets = %+v, want %s alone, under the link key, holding the access token", stored, name)
	}
	items := scanKeys(t, client, names.Preferences)
	if !slices.Contains(items, "link#"+string(memberID)+"#spotify") {
		t.Errorf("preferences items %q, want the link's record", items)
	}
	raw := scanRaw(t, client, names.Preferences)
	for _, secret := range provider.Issued() {
		if strings.Contains(raw, secret) {
			t.Errorf("the table holds a token or code")
		}
	}
	if got := h.do(t, h.approved.ID, memberID, "forget-me").Content; !strings.Contains(got, "• 1 account link and its tokens: Spotify (Ada's music)\n") {
		t.Errorf("/forget-me = %q", got)
	}
	if left := secrets.Secrets(); len(left) != 0 {
		t.Errorf("secrets after /forget-me: %+v", left)
	}
	for _, k := range scanKeys(t, client, names.Preferences) {
		if strings.HasPrefix(k, "link#") {
			t.Errorf("the record %q is left after /forget-me", k)
		}
	}
	for _, secret := range append(provider.Issued(), accounttest.ClientSecret) {
		if strings.Contains(h.bot.logs.String(), secret) {
			t.Errorf("the log holds a token, code or the client secret")
		}
	}
}

// scanKeys lists the partition keys ("user") of every item in table.
func scanKeys(t *testing.T, client *dynamodb.Client, table string) []string {
	t.Helper()
	out, err := client.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatalf("scanning %s: %v", table, err)
	}
	var keys []string
	for _, item := range out.Items {
		if v, ok := item["user"].(*types.AttributeValueMemberS); ok {
			keys = append(keys, v.Value)
		}
	}
	return keys
}

// scanRaw is every item of table as text, for leak checks.
func scanRaw(t *testing.T, client *dynamodb.Client, table string) string {
	t.Helper()
	out, err := client.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatalf("scanning %s: %v", table, err)
	}
	var b strings.Builder
	for _, item := range out.Items {
		for _, v := range item {
			switch v := v.(type) {
			case *types.AttributeValueMemberS:
				b.WriteString(v.Value + "\n")
			case *types.AttributeValueMemberB:
				b.Write(append(v.Value, '\n'))
			}
		}
	}
	return b.String()
}
