package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"

	"github.com/iddv/timmybot/constructs/timmybot"
)

// Tables are the bot's tables; the key schema is the store's, checked by a
// test that compares the synthesized Data stack with it.
var Tables = []timmybot.TableSpec{
	{ID: "queues", PartitionKey: timmybot.Key{Name: "guild", Type: "S"}, SortKey: &timmybot.Key{Name: "sk", Type: "S"}},
	{ID: "preferences", PartitionKey: timmybot.Key{Name: "user", Type: "S"}, TTLAttribute: "ttl"},
	{ID: "track-cache", PartitionKey: timmybot.Key{Name: "key", Type: "S"}, TTLAttribute: "ttl"},
	{ID: "allowlist", PartitionKey: timmybot.Key{Name: "guild", Type: "S"}},
}

// TableEnv maps each table ID to the environment variable that gives the
// bot the table's name.
var TableEnv = map[string]string{
	"queues":      "TIMMYBOT_TABLE_QUEUES",
	"preferences": "TIMMYBOT_TABLE_PREFERENCES",
	"track-cache": "TIMMYBOT_TABLE_TRACK_CACHE",
	"allowlist":   "TIMMYBOT_TABLE_ALLOWLIST",
}

// Environment variables the service sets besides the table names.
const (
	// EnvDiscordToken carries the bot token, injected from Secrets Manager.
	EnvDiscordToken = "DISCORD_TOKEN"
	// EnvLogFormat selects JSON logs, which CloudWatch Logs parses.
	EnvLogFormat = "TIMMYBOT_LOG_FORMAT"
	// EnvOwnerIDs lists the bot owners' Discord user IDs.
	EnvOwnerIDs = "TIMMYBOT_OWNER_IDS"
	// EnvApplicationID is the Discord application ID.
	EnvApplicationID = "DISCORD_APPLICATION_ID"
	// EnvHTTPAddr is where the bot serves /healthz and /readyz; the
	// container health check calls it on loopback.
	EnvHTTPAddr = "TIMMYBOT_HTTP_ADDR"
	// EnvPublicURL is the web front's Function URL, where providers send
	// users back after /link (its /link/callback).
	EnvPublicURL = "TIMMYBOT_PUBLIC_URL"
	// EnvLinkClients carries the link providers' OAuth clients (JSON),
	// injected from Secrets Manager.
	EnvLinkClients = "TIMMYBOT_LINK_CLIENTS"
)

// Account linking: the bot and the web front both keep users' linked
// accounts as secrets under a prefix, encrypted with the Secrets stack's key.
const (
	EnvLinkSecretPrefix = "TIMMYBOT_LINK_SECRET_PREFIX"
	EnvLinkKMSKeyID     = "TIMMYBOT_LINK_KMS_KEY_ID"
	// EnvLinkFlowsTable names the preferences table to the web front, which
	// may only take the link flows in it: the items whose key starts with
	// LinkFlowKeyPrefix, with LinkFlowActions.
	EnvLinkFlowsTable = "TIMMYBOT_LINK_FLOWS_TABLE"
	LinkFlowKeyPrefix = "flow#"
	// EnvLinkRecordsTable names the preferences table to the web front
	// again, for the records of linked accounts (no tokens: those are the
	// secrets) that it writes when it completes a link: the items whose key
	// starts with LinkRecordKeyPrefix, with LinkRecordActions.
	EnvLinkRecordsTable = "TIMMYBOT_LINK_RECORDS_TABLE"
	LinkRecordKeyPrefix = "link#"
)

// LinkFlowActions are what the web front may do with link flows: read a
// flow and the user's pointer to their newest, and claim the flow.
var LinkFlowActions = []string{"dynamodb:GetItem", "dynamodb:PutItem"}

// LinkRecordActions are what the web front may do with linked accounts'
// records: read one, write it, and take it back when its secret could not
// be written.
var LinkRecordActions = []string{"dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem"}

// The web front's function: its command, and the variables that carry its
// secrets' ARNs (it reads the values itself at cold start).
const (
	WebCommand         = "./app/cmd/timmybot-web"
	EnvClientSecretARN = "DISCORD_CLIENT_SECRET_ARN"
	EnvWebSecretARN    = "TIMMYBOT_WEB_SECRET_ARN"
	EnvDiscordTokenARN = "DISCORD_TOKEN_ARN"
	EnvLinkClientsARN  = "TIMMYBOT_LINK_CLIENTS_ARN"
)

// Metrics are the names the bot publishes its metrics under; a test checks
// them against the bot's own definitions.
var Metrics = timmybot.MetricNames{
	Namespace:              "TimmyBot",
	InteractionsHandled:    "InteractionsHandled",
	InteractionErrors:      "InteractionErrors",
	InteractionLatency:     "InteractionLatencyMs",
	GatewayConnected:       "GatewayConnected",
	ActiveVoiceConnections: "ActiveVoiceConnections",
}

// linkEnv is the account-linking configuration the bot and the web front
// share.
func linkEnv(s *timmybot.BotSecrets, env map[string]string) map[string]string {
	env[EnvLinkSecretPrefix] = s.LinkSecretPrefix
	env[EnvLinkKMSKeyID] = *s.Key.KeyArn()
	return env
}

func tableEnv(data *timmybot.DataTables) map[string]awsdynamodb.ITable {
	env := make(map[string]awsdynamodb.ITable, len(data.Tables))
	for id, t := range data.Tables {
		env[TableEnv[id]] = t
	}
	return env
}

func secretEnv(s *timmybot.BotSecrets) map[string]timmybot.SecretField {
	return map[string]timmybot.SecretField{EnvDiscordToken: {Secret: s.DiscordToken}, EnvLinkClients: {Secret: s.LinkClients}}
}

func webSecretEnv(s *timmybot.BotSecrets) map[string]awssecretsmanager.ISecret {
	return map[string]awssecretsmanager.ISecret{
		EnvClientSecretARN: s.ClientSecret, EnvWebSecretARN: s.WebSecret, EnvDiscordTokenARN: s.DiscordToken,
		EnvLinkClientsARN: s.LinkClients,
	}
}
