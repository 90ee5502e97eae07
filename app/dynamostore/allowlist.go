package dynamostore

import (
	"context"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/iddv/timmybot/app/music"
)

// An allowlist item is one guild in one state; a single item per guild makes
// every transition one conditional write.
const (
	attrStatus = "status"
	attrName   = "name"
	attrReason = "reason"

	statusApproved  = "approved"
	statusRequested = "requested"
)

// unlessApproved is the condition of writes that must not touch an approved
// guild.
var unlessApproved = struct {
	expr   string
	names  map[string]string
	values map[string]types.AttributeValue
}{
	expr:   "attribute_not_exists(#g) OR #s = :requested",
	names:  map[string]string{"#g": attrGuild, "#s": attrStatus},
	values: map[string]types.AttributeValue{":requested": str(statusRequested)},
}

func (s *Store) guildKey(guild music.GuildID) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrGuild: str(string(guild))}
}

// IsApproved implements music.AllowlistStore.
func (s *Store) IsApproved(ctx context.Context, guild music.GuildID) (bool, error) {
	if err := guild.Validate(); err != nil {
		return false, err
	}
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.tables.Allowlist),
		Key:            s.guildKey(guild),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return false, fail("reading the allowlist", err)
	}
	return getStr(out.Item, attrStatus) == statusApproved, nil
}

// Approve implements music.AllowlistStore. A guild approved already keeps
// its first approval.
func (s *Store) Approve(ctx context.Context, a music.Approval) error {
	if err := a.Guild.Validate(); err != nil {
		return err
	}
	if err := a.ApprovedBy.Validate(); err != nil {
		return err
	}
	item := s.guildKey(a.Guild)
	item[attrStatus] = str(statusApproved)
	item[attrBy] = str(string(a.ApprovedBy))
	putTime(item, attrAdded, a.ApprovedAt)
	err := s.putUnlessApproved(ctx, item)
	if isConditionFailed(err) {
		return nil
	}
	return fail("approving", err)
}

// Revoke implements music.AllowlistStore.
func (s *Store) Revoke(ctx context.Context, guild music.GuildID) error {
	if err := guild.Validate(); err != nil {
		return err
	}
	_, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(s.tables.Allowlist),
		Key:                       s.guildKey(guild),
		ConditionExpression:       aws.String("#s = :approved"),
		ExpressionAttributeNames:  map[string]string{"#s": attrStatus},
		ExpressionAttributeValues: map[string]types.AttributeValue{":approved": str(statusApproved)},
	})
	if isConditionFailed(err) {
		return music.NotApproved()
	}
	return fail("revoking", err)
}

// RequestAccess implements music.AllowlistStore.
func (s *Store) RequestAccess(ctx context.Context, r music.AccessRequest) error {
	if err := r.Validate(); err != nil {
		return err
	}
	item := s.guildKey(r.Guild)
	item[attrStatus] = str(statusRequested)
	item[attrBy] = str(string(r.RequestedBy))
	putTime(item, attrAdded, r.RequestedAt)
	putOptional(item, attrName, r.GuildName)
	putOptional(item, attrReason, r.Reason)
	err := s.putUnlessApproved(ctx, item)
	if isConditionFailed(err) {
		return music.AlreadyApproved()
	}
	return fail("requesting access", err)
}

func (s *Store) putUnlessApproved(ctx context.Context, item map[string]types.AttributeValue) error {
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(s.tables.Allowlist),
		Item:                      item,
		ConditionExpression:       aws.String(unlessApproved.expr),
		ExpressionAttributeNames:  unlessApproved.names,
		ExpressionAttributeValues: unlessApproved.values,
	})
	return err
}

// Approved implements music.AllowlistStore.
func (s *Store) Approved(ctx context.Context) ([]music.Approval, error) {
	var out []music.Approval
	err := s.scanStatus(ctx, statusApproved, func(item map[string]types.AttributeValue) error {
		at, err := getTime(item, attrAdded)
		out = append(out, music.Approval{
			Guild:      music.GuildID(getStr(item, attrGuild)),
			ApprovedBy: music.UserID(getStr(item, attrBy)),
			ApprovedAt: at,
		})
		return err
	})
	slices.SortFunc(out, music.CompareApprovals)
	return out, fail("listing approved servers", err)
}

// Requests implements music.AllowlistStore.
func (s *Store) Requests(ctx context.Context) ([]music.AccessRequest, error) {
	var out []music.AccessRequest
	err := s.scanStatus(ctx, statusRequested, func(item map[string]types.AttributeValue) error {
		at, err := getTime(item, attrAdded)
		out = append(out, music.AccessRequest{
			Guild:       music.GuildID(getStr(item, attrGuild)),
			GuildName:   getStr(item, attrName),
			RequestedBy: music.UserID(getStr(item, attrBy)),
			Reason:      getStr(item, attrReason),
			RequestedAt: at,
		})
		return err
	})
	slices.SortFunc(out, music.CompareRequests)
	return out, fail("listing access requests", err)
}

// scanStatus calls fn for every guild in status. The table has one small
// item per guild that ever asked, and only owners list it.
func (s *Store) scanStatus(ctx context.Context, status string, fn func(map[string]types.AttributeValue) error) error {
	p := dynamodb.NewScanPaginator(s.api, &dynamodb.ScanInput{
		TableName:                 aws.String(s.tables.Allowlist),
		ConsistentRead:            aws.Bool(true),
		FilterExpression:          aws.String("#s = :status"),
		ExpressionAttributeNames:  map[string]string{"#s": attrStatus},
		ExpressionAttributeValues: map[string]types.AttributeValue{":status": str(status)},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, item := range page.Items {
			if err := fn(item); err != nil {
				return err
			}
		}
	}
	return nil
}
