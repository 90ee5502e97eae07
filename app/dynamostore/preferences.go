package dynamostore

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/iddv/timmybot/app/music"
)

const (
	attrVolume = "volume"
	attrQuiet  = "quiet"
)

func (s *Store) userKey(user music.UserID) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrUser: str(string(user))}
}

// Preferences implements music.PreferenceStore.
func (s *Store) Preferences(ctx context.Context, user music.UserID) (music.Preferences, error) {
	if err := user.Validate(); err != nil {
		return music.Preferences{}, err
	}
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.tables.Preferences),
		Key:            s.userKey(user),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return music.Preferences{}, fail("reading preferences", err)
	}
	p := music.Preferences{User: user, Source: getStr(out.Item, attrSource)}
	volume, err := getNum(out.Item, attrVolume)
	if err != nil {
		return music.Preferences{}, fail("reading preferences", err)
	}
	p.Volume = int(volume)
	if q, ok := out.Item[attrQuiet].(*types.AttributeValueMemberBOOL); ok {
		p.Quiet = q.Value
	}
	if p.UpdatedAt, err = getTime(out.Item, attrAdded); err != nil {
		return music.Preferences{}, fail("reading preferences", err)
	}
	return p, nil
}

// SetPreferences implements music.PreferenceStore.
func (s *Store) SetPreferences(ctx context.Context, p music.Preferences) error {
	if err := p.Validate(); err != nil {
		return err
	}
	item := s.userKey(p.User)
	item[attrVolume] = num(int64(p.Volume))
	putOptional(item, attrSource, p.Source)
	item[attrQuiet] = &types.AttributeValueMemberBOOL{Value: p.Quiet}
	putTime(item, attrAdded, s.now())
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.tables.Preferences), Item: item})
	return fail("saving preferences", err)
}

// DeletePreferences implements music.PreferenceStore.
func (s *Store) DeletePreferences(ctx context.Context, user music.UserID) (bool, error) {
	if err := user.Validate(); err != nil {
		return false, err
	}
	out, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:    aws.String(s.tables.Preferences),
		Key:          s.userKey(user),
		ReturnValues: types.ReturnValueAllOld,
	})
	if err != nil {
		return false, fail("deleting preferences", err)
	}
	return len(out.Attributes) > 0, nil
}
