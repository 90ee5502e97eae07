package dynamostore

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
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
// only):
//
//	flow#<hex SHA-256 of the state>   one flow: user, service, sealed PKCE
//	                                  verifier, expiry
//	<user>#flow#<service>             the user's newest flow at the service:
//	                                  the hash of its state
//
// Only the state's hash is stored, so a reader of the table cannot make a
// callback URL that works. The verifier is useless without the
// authorization code and the client secret; it is sealed all the same, with
// AES-GCM under a key derived from the state (HKDF-SHA256), which only the
// authorization URL carries.
//
// Put writes the flow, then replaces the user's pointer, reading the old one
// back (ReturnValues ALL_OLD), and deletes the flow it pointed to: of Puts
// racing for one user and service, each deletes the flow the pointer named
// before its own write, so only the flow of the last pointer written stays.
// Take is a single DeleteItem on condition that the flow exists, returning
// what it deleted: DynamoDB applies one of two such deletes, so a state
// works once even when callbacks race in two processes. Both items carry
// ttl for the table's time-to-live, which deletes them within days of their
// expiry; Take treats a flow past its expiry as absent meanwhile.
const (
	attrOwner    = "owner"
	attrService  = "svc"
	attrVerifier = "vf"
	attrFlow     = "flow"
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
	return map[string]types.AttributeValue{attrUser: str(fmt.Sprintf("%s#flow#%s", user, service))}
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
// flows: each user has at most one per service, and expired ones go.
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
	out, err := l.s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: table, Item: pointer, ReturnValues: types.ReturnValueAllOld})
	if err != nil {
		return fail("saving a link flow", err)
	}
	if old := getStr(out.Attributes, attrFlow); old != "" && old != id {
		// The earlier URL must stop working before this one is handed out.
		_, err := l.s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName: table,
			Key:       flowKey(old),
		})
		if err != nil {
			return fail("cancelling the earlier link flow", err)
		}
	}
	return nil
}

// Take implements account.PendingFlows.
func (l *LinkFlows) Take(ctx context.Context, state string) (account.Flow, bool, error) {
	if state == "" {
		return account.Flow{}, false, nil
	}
	id := flowID(state)
	out, err := l.s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                aws.String(l.s.tables.Preferences),
		Key:                      flowKey(id),
		ConditionExpression:      aws.String("attribute_exists(#k)"),
		ExpressionAttributeNames: map[string]string{"#k": attrUser},
		ReturnValues:             types.ReturnValueAllOld,
	})
	if isConditionFailed(err) {
		return account.Flow{}, false, nil
	}
	if err != nil {
		return account.Flow{}, false, fail("taking a link flow", err)
	}
	f := account.Flow{
		State:   state,
		User:    music.UserID(getStr(out.Attributes, attrOwner)),
		Service: account.Service(getStr(out.Attributes, attrService)),
	}
	if f.Expires, err = getTime(out.Attributes, attrExpires); err != nil {
		return account.Flow{}, false, fail("taking a link flow", err)
	}
	if !l.s.now().Before(f.Expires) {
		return account.Flow{}, false, nil
	}
	aead, err := verifierAEAD(state)
	if err != nil {
		return account.Flow{}, false, fmt.Errorf("dynamostore: opening the verifier: %w", err)
	}
	verifier, err := aead.Open(nil, nil, getBytes(out.Attributes, attrVerifier), []byte(id))
	if err != nil {
		return account.Flow{}, false, fmt.Errorf("dynamostore: opening the verifier of a link flow: %w", err)
	}
	f.Verifier = string(verifier)
	return f, true, nil
}
