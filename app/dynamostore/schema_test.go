package dynamostore_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/go-cmp/cmp"
	"github.com/iddv/timmybot/app/dynamostore"
	"github.com/iddv/timmybot/app/dynamostore/dynamotest"
)

// describedSpec reads back from the server what CreateTables made of spec.
func describedSpec(t *testing.T, client *dynamodb.Client, spec dynamostore.TableSpec) dynamostore.TableSpec {
	t.Helper()
	out, err := client.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(spec.Name)})
	if err != nil {
		t.Fatalf("describing %s: %v", spec.Name, err)
	}
	types := map[string]dynamostore.AttributeType{}
	for _, d := range out.Table.AttributeDefinitions {
		types[aws.ToString(d.AttributeName)] = dynamostore.AttributeType(d.AttributeType)
	}
	got := dynamostore.TableSpec{Role: spec.Role, Name: aws.ToString(out.Table.TableName), TTLAttribute: spec.TTLAttribute}
	for _, k := range out.Table.KeySchema {
		attr := dynamostore.KeyAttribute{Name: aws.ToString(k.AttributeName), Type: types[aws.ToString(k.AttributeName)]}
		if k.KeyType == "HASH" {
			got.PartitionKey = attr
		} else {
			got.SortKey = &attr
		}
	}
	if n := len(out.Table.GlobalSecondaryIndexes) + len(out.Table.LocalSecondaryIndexes); n != 0 {
		t.Errorf("%s has %d secondary indexes, want none", spec.Name, n)
	}
	return got
}

func TestCreateTablesMatchesTables(t *testing.T) {
	client := dynamotest.Client(t, dynamotest.Endpoint(t))
	names := dynamotest.NewTables(t, client)
	// A second call finds the tables and leaves them alone.
	if err := dynamostore.CreateTables(context.Background(), client, names); err != nil {
		t.Fatalf("CreateTables again: %v", err)
	}
	s, err := dynamostore.New(client, names)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(context.Background()); err != nil {
		t.Errorf("Ping with the tables in place: %v", err)
	}
	for _, spec := range dynamostore.Tables(names) {
		t.Run(spec.Role, func(t *testing.T) {
			if diff := cmp.Diff(spec, describedSpec(t, client, spec)); diff != "" {
				t.Errorf("table on the server differs from the spec (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTableNamesValidate(t *testing.T) {
	tests := []struct {
		name    string
		names   dynamostore.TableNames
		wantErr bool
	}{
		{"all set", dynamostore.PrefixedTableNames("x-"), false},
		{"none set", dynamostore.TableNames{}, true},
		{"one missing", func() dynamostore.TableNames {
			n := dynamostore.PrefixedTableNames("x-")
			n.TrackCache = ""
			return n
		}(), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.names.Validate(); (err != nil) != tt.wantErr {
				t.Errorf("Validate() = %v, want error: %v", err, tt.wantErr)
			}
		})
	}
}
