// Command timmybot-web serves TimmyBot's web front (package web) as an AWS
// Lambda function behind a Function URL. It is its own binary rather than a
// subcommand of timmybot: the provided.al2023 runtime starts the bootstrap
// executable without arguments, and the web front needs none of the bot's
// voice, audio or gateway code, which keeps the function small and its cold
// start short.
//
// Configuration comes from the environment (the Service stack sets it):
//
//	TIMMYBOT_TABLE_ALLOWLIST    the allowlist table (access requests live there too)
//	DISCORD_APPLICATION_ID      the Discord application
//	TIMMYBOT_OWNER_IDS          owners' user IDs, comma-separated
//	DISCORD_CLIENT_SECRET_ARN   secret: the OAuth client secret
//	TIMMYBOT_WEB_SECRET_ARN     secret: seals the session cookies
//	DISCORD_TOKEN_ARN           secret: the bot token, to DM owners about requests
//	TIMMYBOT_PUBLIC_URL         optional; default https://<the Function URL's domain>
//	TIMMYBOT_LINK_CLIENTS_ARN   optional secret: the link providers' OAuth clients (JSON)
//	TIMMYBOT_LINK_SECRET_PREFIX optional: linked accounts are secrets under this prefix,
//	TIMMYBOT_LINK_KMS_KEY_ID      encrypted with this key (both or neither)
//	TIMMYBOT_LINK_FLOWS_TABLE   optional: the preferences table, whose link flows the
//	                            callback takes
//	TIMMYBOT_LINK_RECORDS_TABLE optional: the preferences table again, for linked
//	                            accounts' records (needed, like the three above,
//	                            when TIMMYBOT_LINK_CLIENTS_ARN is set)
//
// With TIMMYBOT_LINK_CLIENTS_ARN the function also serves /link/callback:
// it completes a link that /link started in the bot (the flow is in the
// table), stores the tokens as a secret and DMs the user.
//
// Secret values are read once, at cold start, with GetSecretValue, and are
// never logged. Owners hear of access requests by a direct message sent over
// Discord's REST API with the bot token (discord.Messenger): the function has
// no gateway session, and leaving the message to the bot would need the bot
// to watch the table.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/iddv/timmybot/app/account/awstokens"
	"github.com/iddv/timmybot/app/dynamostore"
	"github.com/iddv/timmybot/app/music"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	fn, err := start(ctx, os.LookupEnv, awsDeps, log)
	cancel()
	if err != nil {
		log.Error("web front not started", slog.Any("err", err))
		os.Exit(1)
	}
	lambda.Start(fn.handle)
}

// awsDeps reads secrets from Secrets Manager and opens the allowlist on
// DynamoDB, with the credentials and region of the function.
func awsDeps(ctx context.Context, c config) (deps, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return deps{}, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	sm := secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) {
		if c.SecretsEndpoint != "" {
			o.BaseEndpoint = aws.String(c.SecretsEndpoint)
		}
	})
	client, err := dynamostore.NewClient(ctx, dynamostore.ClientConfig{Endpoint: c.DynamoEndpoint})
	if err != nil {
		return deps{}, fmt.Errorf("configuring DynamoDB: %w", err)
	}
	allowlist, err := dynamostore.NewAllowlist(client, c.AllowlistTable)
	if err != nil {
		return deps{}, err
	}
	return deps{
		allowlist: allowlist,
		secret: func(ctx context.Context, arn string) (string, error) {
			out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
			if err != nil {
				return "", err
			}
			return aws.ToString(out.SecretString), nil
		},
		linking: func(_ context.Context, c config) (linkStores, error) {
			flows, err := dynamostore.NewLinkFlows(client, c.LinkFlowsTable)
			if err != nil {
				return linkStores{}, err
			}
			index, err := dynamostore.NewLinkIndex(client, c.LinkRecordsTable)
			if err != nil {
				return linkStores{}, err
			}
			tokens, err := awstokens.New(awstokens.Config{Secrets: sm, Index: index, Prefix: c.LinkSecretPrefix, KMSKeyID: c.LinkKMSKeyID})
			if err != nil {
				return linkStores{}, err
			}
			return linkStores{tokens: tokens, flows: flows}, nil
		},
	}, nil
}

// deps are what the function needs from AWS.
type deps struct {
	allowlist music.AllowlistStore
	// secret returns the string value of the secret with this ARN.
	secret func(ctx context.Context, arn string) (string, error)
	// linking opens the stores account linking completes links in.
	linking func(ctx context.Context, c config) (linkStores, error)
}
