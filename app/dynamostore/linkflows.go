package dynamostore

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/iddv/timmybot/app/account"
	"github.com/iddv/timmybot/app/music"
)

// Link flows under way (account.PendingFlows) live in the preferences table
// beside the users' items, under keys no user ID can take (IDs are digits
// only) and that begin alike, so that an IAM policy can give the web front
// these items alone (dynamodb:LeadingKeys "flow#*"):
//
//	flow#<hex SHA-256 of the state>   one flow: user, service, sealed PKCE
//	                                  verifier, expiry; who took it
//	flow#<user>#<service>             the user's newest flow at the service:
//	                                  the hash of its state
//
// Only the state's hash is stored, so a reader of the table cannot make a
// callback URL that works. The verifier is useless without the
// authorization code and the client secret; it is sealed all the same, with
// AES-GCM under a key derived from the state (HKDF-SHA256), which only the
// authorization URL carries.
//
// Every write is safe to repeat, because the SDK repeats a request whose
// answer was lost, which may have been applied. Put writes the flow, then
// the pointer; a flow counts only while the pointer names it, so of Puts
// racing for one user and service the one whose pointer lands last wins,
// and a newer /link cancels the older URL without deleting anything. Take
// claims the flow with a conditional write of a random claim (the flow
// exists and nobody claimed it): of two racing Takes DynamoDB applies one,
// and a Take whose claim was applied but whose answer was lost reads its
// own claim back and goes on. Both items carry ttl for the table's
// time-to-live, which deletes them within days of their expiry; Take treats
// a flow past its expiry as absent meanwhile.
const (
	attrOwner    = "owner"
	attrService  = "svc"
	attrVerifier = "vf"
	attrFlow     = "flow"
	attrClaim    = "claim"
	// verifierInfo separates the verifier's sealing key from the item key,
	// both derived from the state.
	verifierInfo = "timmybot link flow: PKCE verifier"
)

// LinkFlows implements account.PendingFlows on the preferences table, so
// that the bot starts flows and the web front completes them.
type LinkFlows struct {
	s *Store
}

var _ account.PendingFlows = (*LinkFlows)(nil)

// NewLinkFlows returns the link flows on the preferences table named table;
// WithClock sets the clock that expires them.
func NewLinkFlows(api API, table string, opts ...Option) (*LinkFlows, error) {
	if table == "" {
		return nil, fmt.Errorf("dynamostore: no table name for the preferences")
	}
	return &LinkFlows{s: newStore(api, TableNames{Preferences: table}, opts)}, nil
}

// flowID is the key of the flow of state.
func flowID(state string) string {
	sum := sha256.Sum256([]byte(state))
	return attrFlow + "#" + hex.EncodeToString(sum[:])
}

func flowKey(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrUser: str(id)}
}

func flowPointerKey(user music.UserID, service account.Service) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrUser: str(fmt.Sprintf("%s#%s#%s", attrFlow, user, service))}
}

// verifierAEAD is the cipher that seals the verifier of the flow of state.
func verifierAEAD(state string) (cipher.AEAD, error) {
	key, err := hkdf.Key(sha256.New, []byte(state), nil, verifierInfo, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCMWithRandomNonce(block)
}

// Put implements account.PendingFlows. It does not bound the number of
// flows: each user has at most one that works per service, and the
// table's time-to-live removes the rest.
func (l *LinkFlows) Put(ctx context.Context, f account.Flow) error {
	if err := f.User.Validate(); err != nil {
		return err
	}
	if err := f.Service.Validate(); err != nil {
		return err
	}
	if f.State == "" {
		return errors.New("dynamostore: a link flow needs a state")
	}
	aead, err := verifierAEAD(f.State)
	if err != nil {
		return fmt.Errorf("dynamostore: sealing the verifier: %w", err)
	}
	id := flowID(f.State)
	ttl := num(f.Expires.Add(time.Second - 1).Unix())

	item := flowKey(id)
	item[attrOwner] = str(string(f.User))
	item[attrService] = str(string(f.Service))
	item[attrVerifier] = &types.AttributeValueMemberB{Value: aead.Seal(nil, nil, []byte(f.Verifier), []byte(id))}
	putTime(item, attrExpires, f.Expires)
	item[attrTTL] = ttl
	table := aws.String(l.s.tables.Preferences)
	if _, err := l.s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: table, Item: item}); err != nil {
		return fail("saving a link flow", err)
	}

	pointer := flowPointerKey(f.User, f.Service)
	pointer[attrFlow] = str(id)
	pointer[attrTTL] = ttl
	if _, err := l.s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: table, Item: pointer}); err != nil {
		return fail("saving a link flow", err)
	}
	return nil
}

// Take implements account.PendingFlows.
func (l *LinkFlows) Take(ctx context.Context, state string) (account.Flow, bool, error) {
	if state == "" {
		return account.Flow{}, false, nil
	}
	id := flowID(state)
	item, err := l.claim(ctx, id)
	if err != nil || item == nil {
		return account.Flow{}, false, err
	}
	f := account.Flow{
		State:   state,
		User:    music.UserID(getStr(item, attrOwner)),
		Service: account.Service(getStr(item, attrService)),
	}
	if f.Expires, err = getTime(item, attrExpires); err != nil {
		return account.Flow{}, false, fail("taking a link flow", err)
	}
	if !l.s.now().Before(f.Expires) {
		return account.Flow{}, false, nil
	}
	// A newer flow of the same user and service cancelled this one.
	out, err := l.s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(l.s.tables.Preferences), Key: flowPointerKey(f.User, f.Service), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return account.Flow{}, false, fail("taking a link flow", err)
	}
	if getStr(out.Item, attrFlow) != id {
		return account.Flow{}, false, nil
	}
	aead, err := verifierAEAD(state)
	if err != nil {
		return account.Flow{}, false, fmt.Errorf("dynamostore: opening the verifier: %w", err)
	}
	verifier, err := aead.Open(nil, nil, getBytes(item, attrVerifier), []byte(id))
	if err != nil {
		return account.Flow{}, false, fmt.Errorf("dynamostore: opening the verifier of a link flow: %w", err)
	}
	f.Verifier = string(verifier)
	return f, true, nil
}

// claim marks the flow id taken, once: it returns the flow's item, or nil
// when there is none or another Take claimed it first.
func (l *LinkFlows) claim(ctx context.Context, id string) (map[string]types.AttributeValue, error) {
	table := aws.String(l.s.tables.Preferences)
	read := func() (map[string]types.AttributeValue, error) {
		out, err := l.s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: table, Key: flowKey(id), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return nil, fail("taking a link flow", err)
		}
		return out.Item, nil
	}
	item, err := read()
	if err != nil || item == nil || getStr(item, attrClaim) != "" {
		return nil, err
	}
	claim := rand.Text()
	item[attrClaim] = str(claim)
	_, err = l.s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: table, Item: item,
		ConditionExpression:      aws.String("attribute_exists(#k) AND attribute_not_exists(#c)"),
		ExpressionAttributeNames: map[string]string{"#k": attrUser, "#c": attrClaim},
	})
	if isConditionFailed(err) {
		// Lost to another Take, or this claim was applied and its answer
		// lost: the item says which.
		if item, err = read(); err != nil || item == nil || getStr(item, attrClaim) != claim {
			return nil, err
		}
		return item, nil
	}
	if err != nil {
		return nil, fail("taking a link flow", err)
	}
	return item, nil
}
