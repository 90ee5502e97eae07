package dynamostore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/iddv/timmybot/app/account"
	"github.com/iddv/timmybot/app/account/awstokens"
	"github.com/iddv/timmybot/app/music"
)

// Linked accounts' records (awstokens.Index) live in the preferences table
// too, under keys no user ID can take and that begin alike, so that an IAM
// policy can give the web front these items alone (dynamodb:LeadingKeys
// "link#*"):
//
//	link#<user>#<service>   one per linked account: the link as JSON, the
//	                        fingerprint and id of its tokens, when they
//	                        were written, and a version
//
// Tokens never reach this table: they are secrets in Secrets Manager, and
// app/account/awstokens owns what these fields mean. Every write is
// conditional on the version, as the playlist index's are.
const (
	attrLink        = "link"
	attrFingerprint = "fp"
	attrTokenID     = "tid"
	attrTokenAt     = "tat"
)

var _ awstokens.Index = (*Store)(nil)

func linkKey(user music.UserID, service account.Service) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrUser: str(LinkRecordKeyPrefix + string(user) + "#" + string(service))}
}

// LinkRecordKeyPrefix begins the key of every linked account's record.
const LinkRecordKeyPrefix = "link#"

// NewLinkIndex returns the index of linked accounts alone, on the
// preferences table named table: for the web front, which completes links
// and may use no other item.
func NewLinkIndex(api API, table string, opts ...Option) (*Store, error) {
	if table == "" {
		return nil, fmt.Errorf("dynamostore: no table name for the linked accounts")
	}
	return newStore(api, TableNames{Preferences: table}, opts), nil
}

// LinkRecord implements awstokens.Index.
func (s *Store) LinkRecord(ctx context.Context, user music.UserID, service account.Service) (awstokens.Record, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.tables.Preferences),
		Key:            linkKey(user, service),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return awstokens.Record{}, fail("reading a linked account", err)
	}
	if out.Item == nil {
		return awstokens.Record{}, nil
	}
	rec, err := decodeLinkRecord(out.Item)
	if err != nil {
		return awstokens.Record{}, fail("reading a linked account", fmt.Errorf("the %s link of %s: %w", service, user, err))
	}
	return rec, nil
}

func decodeLinkRecord(item map[string]types.AttributeValue) (awstokens.Record, error) {
	rec := awstokens.Record{Fingerprint: getStr(item, attrFingerprint), TokenID: getStr(item, attrTokenID)}
	if err := json.Unmarshal(getBytes(item, attrLink), &rec.Link); err != nil {
		return awstokens.Record{}, err
	}
	var err error
	if rec.TokenAt, err = getTime(item, attrTokenAt); err != nil {
		return awstokens.Record{}, err
	}
	if rec.Version, err = getNum(item, attrVersion); err != nil {
		return awstokens.Record{}, err
	}
	return rec, nil
}

// LinkRecords implements awstokens.Index.
func (s *Store) LinkRecords(ctx context.Context, user music.UserID) ([]awstokens.Record, error) {
	var recs []awstokens.Record
	for _, service := range account.Services {
		rec, err := s.LinkRecord(ctx, user, service)
		if err != nil {
			return nil, err
		}
		if rec.Version > 0 {
			recs = append(recs, rec)
		}
	}
	return recs, nil
}

// PutLinkRecord implements awstokens.Index.
func (s *Store) PutLinkRecord(ctx context.Context, rec awstokens.Record) (bool, error) {
	raw, err := json.Marshal(rec.Link)
	if err != nil {
		return false, fmt.Errorf("dynamostore: encoding the link: %w", err)
	}
	item := linkKey(rec.Link.User, rec.Link.Service)
	item[attrLink] = &types.AttributeValueMemberB{Value: raw}
	putOptional(item, attrFingerprint, rec.Fingerprint)
	putOptional(item, attrTokenID, rec.TokenID)
	putTime(item, attrTokenAt, rec.TokenAt)
	item[attrVersion] = num(rec.Version)
	in := &dynamodb.PutItemInput{TableName: aws.String(s.tables.Preferences), Item: item}
	in.ConditionExpression, in.ExpressionAttributeNames, in.ExpressionAttributeValues = versionCondition(rec.Version - 1)
	_, err = s.api.PutItem(ctx, in)
	if isConditionFailed(err) {
		return false, nil
	}
	return err == nil, fail("saving a linked account", err)
}

// DeleteLinkRecord implements awstokens.Index.
func (s *Store) DeleteLinkRecord(ctx context.Context, user music.UserID, service account.Service, version int64) (bool, error) {
	in := &dynamodb.DeleteItemInput{TableName: aws.String(s.tables.Preferences), Key: linkKey(user, service)}
	in.ConditionExpression, in.ExpressionAttributeNames, in.ExpressionAttributeValues = versionCondition(version)
	_, err := s.api.DeleteItem(ctx, in)
	if isConditionFailed(err) {
		return false, nil
	}
	return err == nil, fail("deleting a linked account", err)
}
