package dynamostore

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// pingKey cannot collide with a guild: guild keys are snowflakes.
const pingKey = "#ping"

// Ping reports whether the allowlist table answers a read, for readiness
// checks. It needs only the GetItem permission the bot has anyway.
func (s *Store) Ping(ctx context.Context) error {
	_, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.tables.Allowlist),
		Key:       map[string]types.AttributeValue{attrGuild: str(pingKey)},
	})
	if err != nil {
		return fail("pinging the allowlist table", err)
	}
	return nil
}
