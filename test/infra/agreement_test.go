// Package infra checks that the infrastructure and the bot agree on what
// they share: the metrics the bot publishes and the alarms watch, the key
// schema the store expects and the Data stack creates, the DynamoDB actions
// the store calls and the task role allows, and the variables the service
// sets and the bot reads. It also checks the deploy workflow.
package infra

import (
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/google/go-cmp/cmp"

	"github.com/iddv/timmybot/app/dynamostore"
	"github.com/iddv/timmybot/app/telemetry"
	"github.com/iddv/timmybot/constructs/cdktest"
	"github.com/iddv/timmybot/constructs/timmybot"
	"github.com/iddv/timmybot/infra/stacks"
)

func TestMonitoringUsesTheBotsMetricNames(t *testing.T) {
	// GIVEN the metric names the bot publishes
	want := timmybot.MetricNames{
		Namespace:              telemetry.Namespace,
		InteractionsHandled:    telemetry.InteractionsHandled,
		InteractionErrors:      telemetry.InteractionErrors,
		InteractionLatency:     telemetry.InteractionLatencyMs,
		GatewayConnected:       telemetry.GatewayConnected,
		ActiveVoiceConnections: telemetry.ActiveVoiceConnections,
	}
	// THEN the infrastructure passes exactly those to Monitoring
	if diff := cmp.Diff(want, stacks.Metrics); diff != "" {
		t.Errorf("metric names (-bot +infra):\n%s", diff)
	}
}

var (
	deploymentOnce sync.Once
	theDeployment  *stacks.Stacks
)

// deployment is the default deployment, running an image from a registry,
// synthesized once per test binary.
func deployment(t *testing.T) *stacks.Stacks {
	t.Helper()
	cdktest.Check(t, func() {
		deploymentOnce.Do(func() {
			cfg, err := stacks.LoadConfig(func(string) any { return nil }, func(k string) string {
				return map[string]string{"TIMMYBOT_IMAGE_URI": "example.com/timmybot:1", "TIMMYBOT_SOURCE_DIRECTORY": "../.."}[k]
			})
			if err != nil {
				panic(err)
			}
			theDeployment = stacks.New(awscdk.NewApp(nil), cfg)
		})
	})
	if theDeployment == nil {
		t.Fatal("app failed to build")
	}
	return theDeployment
}

// table is what both sides say about one table.
type table struct {
	PartitionKey, SortKey string // "name:type"
	TTL                   string
	Indexes               int
}

func TestDataStackMatchesTheStoresKeySchema(t *testing.T) {
	// GIVEN the Data stack of the default deployment
	dataStack := deployment(t).Data
	// WHEN it is synthesized
	tpl := cdktest.FromStack(t, dataStack)
	got := map[string]table{}
	for id, res := range tpl.Resources("AWS::DynamoDB::Table") {
		got[roleOf(t, dataStack, id)] = fromTemplate(t, cdktest.Props(res))
	}

	// THEN every table has the key schema, TTL and (no) indexes the store
	// expects, and there is no other table
	want := map[string]table{}
	for _, spec := range dynamostore.Tables(dynamostore.PrefixedTableNames("")) {
		tb := table{PartitionKey: spec.PartitionKey.Name + ":" + string(spec.PartitionKey.Type), TTL: spec.TTLAttribute}
		if spec.SortKey != nil {
			tb.SortKey = spec.SortKey.Name + ":" + string(spec.SortKey.Type)
		}
		want[spec.Role] = tb
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tables (-store +stack):\n%s", diff)
	}
	// AND each table reaches the bot under the variable the store documents
	wantEnv := map[string]string{
		"queues": "TIMMYBOT_TABLE_QUEUES", "preferences": "TIMMYBOT_TABLE_PREFERENCES",
		"track-cache": "TIMMYBOT_TABLE_TRACK_CACHE", "allowlist": "TIMMYBOT_TABLE_ALLOWLIST",
	}
	if diff := cmp.Diff(wantEnv, stacks.TableEnv); diff != "" {
		t.Errorf("table variables (-store +infra):\n%s", diff)
	}
}

// roleOf maps a table's logical ID back to its role: the Data stack names
// each table construct after the store's role.
func roleOf(t *testing.T, dataStack awscdk.Stack, logicalID string) string {
	t.Helper()
	tables := dataStack.Node().FindChild(jsii.String("Tables"))
	for _, spec := range stacks.Tables {
		cfn := tables.Node().FindChild(jsii.String(spec.ID)).Node().DefaultChild().(awscdk.CfnElement)
		if *dataStack.GetLogicalId(cfn) == logicalID {
			return spec.ID
		}
	}
	t.Fatalf("table %s is not one of the Data stack's specs", logicalID)
	return ""
}

func fromTemplate(t *testing.T, p map[string]any) table {
	t.Helper()
	types := map[string]string{}
	for _, a := range p["AttributeDefinitions"].([]any) {
		m := a.(map[string]any)
		types[m["AttributeName"].(string)] = m["AttributeType"].(string)
	}
	var tb table
	for _, k := range p["KeySchema"].([]any) {
		m := k.(map[string]any)
		name := m["AttributeName"].(string)
		switch m["KeyType"] {
		case "HASH":
			tb.PartitionKey = name + ":" + types[name]
		case "RANGE":
			tb.SortKey = name + ":" + types[name]
		}
	}
	if ttl, ok := p["TimeToLiveSpecification"].(map[string]any); ok && ttl["Enabled"] == true {
		tb.TTL = ttl["AttributeName"].(string)
	}
	if gsis, ok := p["GlobalSecondaryIndexes"].([]any); ok {
		tb.Indexes = len(gsis)
	}
	return tb
}
