package dynamostore

import (
	"context"
	"errors"
	"fmt"
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
	statusDeclined  = "declined"
)

// unlessApproved is the condition of writes that must not touch an approved
// guild.
var unlessApproved = struct {
	expr   string
	names  map[string]string
	values map[string]types.AttributeValue
}{
	expr:   "attribute_not_exists(#g) OR #s <> :approved",
	names:  map[string]string{"#g": attrGuild, "#s": attrStatus},
	values: map[string]types.AttributeValue{":approved": str(statusApproved)},
}

func guildKey(guild music.GuildID) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrGuild: str(string(guild))}
}

// IsApproved implements music.AllowlistStore.
func (s *Store) IsApproved(ctx context.Context, guild music.GuildID) (bool, error) {
	if err := guild.Validate(); err != nil {
		return false, err
	}
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.tables.Allowlist),
		Key:            guildKey(guild),
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
	item := guildKey(a.Guild)
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
		Key:                       guildKey(guild),
		ConditionExpression:       aws.String("#s = :approved"),
		ExpressionAttributeNames:  map[string]string{"#s": attrStatus},
		ExpressionAttributeValues: map[string]types.AttributeValue{":approved": str(statusApproved)},
	})
	if isConditionFailed(err) {
		return music.NotApproved()
	}
	return fail("revoking", err)
}

// RequestAccess implements music.AllowlistStore. It reads the request,
// adds the ask with music.AccessRequest.AddAsk and writes the request back
// on condition that its version is still the one read, starting again when
// another ask landed first.
func (s *Store) RequestAccess(ctx context.Context, ask music.Ask) (music.Asked, error) {
	if err := ask.Validate(); err != nil {
		return music.Asked{}, err
	}
	for attempt := 0; ; attempt++ {
		asked, err := s.tryRequestAccess(ctx, ask, attempt > 0)
		if !errors.Is(err, errConflict) {
			return asked, fail("requesting access", err)
		}
		if attempt+1 == s.attempts {
			return music.Asked{}, music.Errorf(music.ECONFLICT, "Many members are asking at once; try again.")
		}
		if err := conflictWait(ctx, attempt); err != nil {
			return music.Asked{}, fail("requesting access", err)
		}
	}
}

// tryRequestAccess makes one attempt of RequestAccess. On a retry, an ask
// found stored already is this one if it matches to the nanosecond: the
// earlier put landed and only its answer was lost.
func (s *Store) tryRequestAccess(ctx context.Context, ask music.Ask, retrying bool) (music.Asked, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.tables.Allowlist),
		Key:            guildKey(ask.Guild),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return music.Asked{}, err
	}
	switch getStr(out.Item, attrStatus) {
	case statusApproved:
		return music.Asked{}, music.AlreadyApproved()
	case statusDeclined:
		// A declined guild asking again starts a new request; the decline
		// item has no version.
		out.Item = nil
	}
	version, err := getNum(out.Item, attrVersion)
	if err != nil {
		return music.Asked{}, err
	}
	pending, err := decodeRequest(out.Item)
	if err != nil {
		return music.Asked{}, err
	}
	asked, err := pending.AddAsk(ask)
	if music.ErrorCode(err) == music.ECONFLICT && retrying && landed(pending, ask) {
		return music.Asked{Request: pending, NotifyOwners: pending.NotifiedAt.Equal(ask.At.UTC())}, nil
	} else if err != nil {
		return music.Asked{}, err
	}
	in := &dynamodb.PutItemInput{
		TableName: aws.String(s.tables.Allowlist),
		Item:      encodeRequest(asked.Request, version+1),
	}
	if version == 0 {
		// No request, a declined one, or one stored before requests had
		// versions.
		in.ConditionExpression = aws.String("attribute_not_exists(#v) AND (attribute_not_exists(#g) OR #s IN (:requested, :declined))")
		in.ExpressionAttributeNames = map[string]string{"#v": attrVersion, "#g": attrGuild, "#s": attrStatus}
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":requested": str(statusRequested), ":declined": str(statusDeclined)}
	} else {
		in.ConditionExpression = aws.String("#v = :v")
		in.ExpressionAttributeNames = map[string]string{"#v": attrVersion}
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":v": num(version)}
	}
	_, err = s.api.PutItem(ctx, in)
	if isConditionFailed(err) {
		return music.Asked{}, errConflict
	}
	return asked, err
}

// landed reports whether r holds ask itself, not an earlier ask of the same
// member.
func landed(r music.AccessRequest, ask music.Ask) bool {
	return slices.ContainsFunc(r.Askers, func(a music.Asker) bool {
		return a.User == ask.User && a.Reason == ask.Reason && a.At.Equal(ask.At)
	})
}

// A request item holds the askers as a list of maps.
const (
	attrAskers   = "askers"
	attrAsks     = "asks"
	attrNotified = "notified"
	attrAskUser  = "u"
	attrAskText  = "r"
)

func encodeRequest(r music.AccessRequest, version int64) map[string]types.AttributeValue {
	item := guildKey(r.Guild)
	item[attrStatus] = str(statusRequested)
	item[attrVersion] = num(version)
	putOptional(item, attrName, r.GuildName)
	item[attrAsks] = num(int64(r.Asks))
	putTime(item, attrNotified, r.NotifiedAt)
	askers := make([]types.AttributeValue, len(r.Askers))
	for i, a := range r.Askers {
		m := map[string]types.AttributeValue{attrAskUser: str(string(a.User))}
		putOptional(m, attrAskText, a.Reason)
		putTime(m, attrAdded, a.At)
		askers[i] = &types.AttributeValueMemberM{Value: m}
	}
	item[attrAskers] = &types.AttributeValueMemberL{Value: askers}
	return item
}

// decodeRequest reads a request item; no item is no request.
func decodeRequest(item map[string]types.AttributeValue) (music.AccessRequest, error) {
	if len(item) == 0 {
		return music.AccessRequest{}, nil
	}
	asks, err := getNum(item, attrAsks)
	if err != nil {
		return music.AccessRequest{}, err
	}
	notified, err := getTime(item, attrNotified)
	if err != nil {
		return music.AccessRequest{}, err
	}
	r := music.AccessRequest{
		Guild:      music.GuildID(getStr(item, attrGuild)),
		GuildName:  getStr(item, attrName),
		Asks:       int(asks),
		NotifiedAt: notified,
	}
	// A request stored before askers were kept has no list: it reads as a
	// request without askers, which the next ask extends.
	list, _ := item[attrAskers].(*types.AttributeValueMemberL)
	if list == nil {
		return r, nil
	}
	for _, v := range list.Value {
		m, ok := v.(*types.AttributeValueMemberM)
		if !ok {
			return music.AccessRequest{}, fmt.Errorf("request of %s: an asker is not a map", r.Guild)
		}
		at, err := getTime(m.Value, attrAdded)
		if err != nil {
			return music.AccessRequest{}, err
		}
		r.Askers = append(r.Askers, music.Asker{User: music.UserID(getStr(m.Value, attrAskUser)), Reason: getStr(m.Value, attrAskText), At: at})
	}
	return r, nil
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

// Decline implements music.AllowlistStore: one write, on condition that a
// request is pending.
func (s *Store) Decline(ctx context.Context, d music.Decline) error {
	if err := d.Validate(); err != nil {
		return err
	}
	item := guildKey(d.Guild)
	item[attrStatus] = str(statusDeclined)
	item[attrBy] = str(string(d.DeclinedBy))
	putOptional(item, attrReason, d.Reason)
	putTime(item, attrAdded, d.DeclinedAt)
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(s.tables.Allowlist),
		Item:                      item,
		ConditionExpression:       aws.String("#s = :requested"),
		ExpressionAttributeNames:  map[string]string{"#s": attrStatus},
		ExpressionAttributeValues: map[string]types.AttributeValue{":requested": str(statusRequested)},
	})
	if isConditionFailed(err) {
		return music.NoRequest()
	}
	return fail("declining", err)
}

// Access implements music.AllowlistStore.
func (s *Store) Access(ctx context.Context, guild music.GuildID) (music.GuildAccess, error) {
	if err := guild.Validate(); err != nil {
		return music.GuildAccess{}, err
	}
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.tables.Allowlist),
		Key:            guildKey(guild),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return music.GuildAccess{}, fail("reading the allowlist", err)
	}
	return decodeAccess(out.Item)
}

// decodeAccess reads any allowlist item; no item is a guild that never
// asked.
func decodeAccess(item map[string]types.AttributeValue) (music.GuildAccess, error) {
	guild := music.GuildID(getStr(item, attrGuild))
	switch getStr(item, attrStatus) {
	case statusApproved:
		at, err := getTime(item, attrAdded)
		return music.GuildAccess{Approval: &music.Approval{Guild: guild, ApprovedBy: music.UserID(getStr(item, attrBy)), ApprovedAt: at}}, err
	case statusRequested:
		r, err := decodeRequest(item)
		return music.GuildAccess{Request: &r}, err
	case statusDeclined:
		at, err := getTime(item, attrAdded)
		return music.GuildAccess{Decline: &music.Decline{Guild: guild, DeclinedBy: music.UserID(getStr(item, attrBy)), Reason: getStr(item, attrReason), DeclinedAt: at}}, err
	}
	return music.GuildAccess{}, nil
}

// Approved implements music.AllowlistStore.
func (s *Store) Approved(ctx context.Context) ([]music.Approval, error) {
	var out []music.Approval
	err := s.scanStatus(ctx, statusApproved, func(item map[string]types.AttributeValue) error {
		a, err := decodeAccess(item)
		out = append(out, *a.Approval)
		return err
	})
	slices.SortFunc(out, music.CompareApprovals)
	return out, fail("listing approved servers", err)
}

// Requests implements music.AllowlistStore.
func (s *Store) Requests(ctx context.Context) ([]music.AccessRequest, error) {
	var out []music.AccessRequest
	err := s.scanStatus(ctx, statusRequested, func(item map[string]types.AttributeValue) error {
		r, err := decodeRequest(item)
		out = append(out, r)
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

// ForgetAsker implements music.AllowlistStore. No key leads from a user to
// the requests they joined, so it scans the pending ones, as Requests does
// (one small item per guild that asks), and changes each that names user
// with forgetAskerIn.
func (s *Store) ForgetAsker(ctx context.Context, user music.UserID) (int, error) {
	if err := user.Validate(); err != nil {
		return 0, err
	}
	var guilds []music.GuildID
	err := s.scanStatus(ctx, statusRequested, func(item map[string]types.AttributeValue) error {
		r, err := decodeRequest(item)
		if _, ok := r.WithoutAsker(user); ok {
			guilds = append(guilds, r.Guild)
		}
		return err
	})
	if err != nil {
		return 0, fail("forgetting an asker", err)
	}
	changed := 0
	for _, g := range guilds {
		ok, err := s.forgetAskerIn(ctx, g, user)
		if err != nil {
			return 0, fail("forgetting an asker", err)
		}
		if ok {
			changed++
		}
	}
	return changed, nil
}

// forgetAskerIn removes user from the guild's pending request, or deletes
// the request when it leaves abandoned, on condition that its version is
// still the one read, reading it again when an ask landed first. It
// reports false when the request no longer names user: decided, approved
// or changed meanwhile (a write whose answer was lost also reads so, and
// goes uncounted).
func (s *Store) forgetAskerIn(ctx context.Context, guild music.GuildID, user music.UserID) (bool, error) {
	for attempt := 0; ; attempt++ {
		changed, err := s.tryForgetAskerIn(ctx, guild, user)
		if !errors.Is(err, errConflict) {
			return changed, err
		}
		if attempt+1 == s.attempts {
			return false, music.Errorf(music.ECONFLICT, "Many members are asking at once; try again.")
		}
		if err := conflictWait(ctx, attempt); err != nil {
			return false, err
		}
	}
}

func (s *Store) tryForgetAskerIn(ctx context.Context, guild music.GuildID, user music.UserID) (bool, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.tables.Allowlist),
		Key:            guildKey(guild),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil || getStr(out.Item, attrStatus) != statusRequested {
		return false, err
	}
	version, err := getNum(out.Item, attrVersion)
	if err != nil {
		return false, err
	}
	pending, err := decodeRequest(out.Item)
	if err != nil {
		return false, err
	}
	left, ok := pending.WithoutAsker(user)
	if !ok {
		return false, nil
	}
	cond := "#v = :v"
	names := map[string]string{"#v": attrVersion}
	values := map[string]types.AttributeValue{":v": num(version)}
	if version == 0 { // stored before requests had versions
		cond = "attribute_not_exists(#v) AND #s = :requested"
		names["#s"] = attrStatus
		values = map[string]types.AttributeValue{":requested": str(statusRequested)}
	}
	if left.Abandoned() {
		_, err = s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName: aws.String(s.tables.Allowlist), Key: guildKey(guild),
			ConditionExpression: aws.String(cond), ExpressionAttributeNames: names, ExpressionAttributeValues: values,
		})
	} else {
		_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(s.tables.Allowlist), Item: encodeRequest(left, version+1),
			ConditionExpression: aws.String(cond), ExpressionAttributeNames: names, ExpressionAttributeValues: values,
		})
	}
	if isConditionFailed(err) {
		return false, errConflict
	}
	return err == nil, err
}
