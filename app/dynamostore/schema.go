package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// TableNames are the physical names of the four tables. In AWS the service
// gets them from its environment, one variable per table (named in each
// field's comment); the binary's configuration reads them.
type TableNames struct {
	Queues      string // TIMMYBOT_TABLE_QUEUES
	Preferences string // TIMMYBOT_TABLE_PREFERENCES
	TrackCache  string // TIMMYBOT_TABLE_TRACK_CACHE
	Allowlist   string // TIMMYBOT_TABLE_ALLOWLIST
}

// PrefixedTableNames returns the tables' default names behind prefix, for
// local development and tests (one prefix per test run keeps runs apart).
func PrefixedTableNames(prefix string) TableNames {
	return TableNames{
		Queues:      prefix + "queues",
		Preferences: prefix + "preferences",
		TrackCache:  prefix + "track-cache",
		Allowlist:   prefix + "allowlist",
	}
}

// Validate reports a missing table name.
func (n TableNames) Validate() error {
	for _, t := range Tables(n) {
		if t.Name == "" {
			return fmt.Errorf("dynamostore: no table name for %s", t.Role)
		}
	}
	return nil
}

// AttributeType is a DynamoDB key attribute type.
type AttributeType string

// Key attribute types.
const (
	String AttributeType = "S"
	Number AttributeType = "N"
	Binary AttributeType = "B"
)

// KeyAttribute is one attribute of a table's primary key.
type KeyAttribute struct {
	Name string
	Type AttributeType
}

// TableSpec is the shape the store expects of one table: the single source
// of truth that CreateTables applies and that infrastructure code is checked
// against. No table has a secondary index; every table is billed on demand.
type TableSpec struct {
	Role         string // "queues", "preferences", "track-cache", "allowlist"
	Name         string
	PartitionKey KeyAttribute
	SortKey      *KeyAttribute // nil: the table has a partition key only
	TTLAttribute string        // "": no time-to-live
}

// Attribute names of the keys and of the time-to-live.
const (
	attrGuild = "guild"
	attrSort  = "sk"
	attrUser  = "user"
	attrKey   = "key"
	attrTTL   = "ttl"
)

// Tables returns the specifications of the four tables under names.
func Tables(names TableNames) []TableSpec {
	return []TableSpec{
		{
			Role:         "queues",
			Name:         names.Queues,
			PartitionKey: KeyAttribute{Name: attrGuild, Type: String},
			SortKey:      &KeyAttribute{Name: attrSort, Type: String},
		},
		{
			Role:         "preferences",
			Name:         names.Preferences,
			PartitionKey: KeyAttribute{Name: attrUser, Type: String},
			TTLAttribute: attrTTL, // link flows under way (linkflows.go)
		},
		{
			Role:         "track-cache",
			Name:         names.TrackCache,
			PartitionKey: KeyAttribute{Name: attrKey, Type: String},
			TTLAttribute: attrTTL,
		},
		{
			Role:         "allowlist",
			Name:         names.Allowlist,
			PartitionKey: KeyAttribute{Name: attrGuild, Type: String},
		},
	}
}

// SchemaAPI is the part of the DynamoDB client that CreateTables uses.
type SchemaAPI interface {
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	DescribeTimeToLive(ctx context.Context, in *dynamodb.DescribeTimeToLiveInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTimeToLiveOutput, error)
	UpdateTimeToLive(ctx context.Context, in *dynamodb.UpdateTimeToLiveInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error)
}

// tableWaitMinDelay keeps waits short on local servers, which create tables
// at once; the SDK's default (20 s) would dominate every test.
const tableWaitMinDelay = 50 * time.Millisecond

// CreateTables creates the tables under names, for tests and local
// development (in AWS the Data stack owns them). Tables that exist already
// are left as they are. Time-to-live is enabled where the server supports
// it; a server without it (dynalite) is fine, because reads ignore expired
// items themselves.
func CreateTables(ctx context.Context, client SchemaAPI, names TableNames) error {
	if err := names.Validate(); err != nil {
		return err
	}
	for _, t := range Tables(names) {
		if err := createTable(ctx, client, t); err != nil {
			return fmt.Errorf("creating table %s: %w", t.Name, err)
		}
	}
	return nil
}

func createTable(ctx context.Context, client SchemaAPI, t TableSpec) error {
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(t.Name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{
			AttributeName: aws.String(t.PartitionKey.Name),
			AttributeType: types.ScalarAttributeType(t.PartitionKey.Type),
		}},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String(t.PartitionKey.Name), KeyType: types.KeyTypeHash}},
	}
	if t.SortKey != nil {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(t.SortKey.Name),
			AttributeType: types.ScalarAttributeType(t.SortKey.Type),
		})
		in.KeySchema = append(in.KeySchema, types.KeySchemaElement{AttributeName: aws.String(t.SortKey.Name), KeyType: types.KeyTypeRange})
	}
	var inUse *types.ResourceInUseException
	if _, err := client.CreateTable(ctx, in); err != nil && !errors.As(err, &inUse) {
		return err
	}
	waiter := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = tableWaitMinDelay
		o.MaxDelay = time.Second
	})
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(t.Name)}, 2*time.Minute); err != nil {
		return fmt.Errorf("waiting for the table: %w", err)
	}
	if t.TTLAttribute == "" {
		return nil
	}
	return enableTTL(ctx, client, t)
}

// enableTTL turns time-to-live on unless it is on already; a server without
// time-to-live (dynalite answers UnknownOperationException) is fine.
func enableTTL(ctx context.Context, client SchemaAPI, t TableSpec) error {
	desc, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(t.Name)})
	if err != nil {
		return fmt.Errorf("reading time-to-live: %w", err)
	}
	if d := desc.TimeToLiveDescription; d != nil && aws.ToString(d.AttributeName) == t.TTLAttribute &&
		(d.TimeToLiveStatus == types.TimeToLiveStatusEnabled || d.TimeToLiveStatus == types.TimeToLiveStatusEnabling) {
		return nil
	}
	_, err = client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(t.Name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(t.TTLAttribute),
			Enabled:       aws.Bool(true),
		},
	})
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode() == "UnknownOperationException" {
		return nil
	}
	if err != nil {
		return fmt.Errorf("enabling time-to-live: %w", err)
	}
	return nil
}
