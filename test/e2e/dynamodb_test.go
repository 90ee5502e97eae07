package e2e

import (
	"net/http"
	"strings"
	"testing"

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
