// Package awstokens is the account.TokenStore of AWS mode: each linked
// account's OAuth tokens are one secret in AWS Secrets Manager, encrypted
// with the Secrets stack's KMS key and named <Prefix>/<user>/<service>;
// what may be known about the link (account name, scopes, broken) is a
// record in an Index (DynamoDB: app/dynamostore), which never holds a token.
// It owns the secrets' names and contents and the order of the writes; it
// does not own the secrets' key, the table, the clients or reading
// configuration (the binary does).
//
// # Two stores, no transaction
//
// A record holds, besides the link, the SHA-256 fingerprint of the refresh
// token its secret holds, a random id of the last token write (kept in the
// secret too), when that write began, and a version. Every change of a
// record is a conditional put on its version, so the record is the one
// commit point, as a queue's meta item is in dynamostore.
//
//   - Save and UpdateToken put the record first, then the secret. A crash
//     between the two leaves a record whose secret is missing or older,
//     never a secret no record names: Delete and DeleteAll always find what
//     to delete.
//   - UpdateToken's compare-and-swap is the record's: it reads the record,
//     answers account.ErrTokenChanged unless the fingerprint is that of
//     prevRefresh, and puts the new fingerprint on condition that the
//     version is still the one it read. Of racing updates, in one process
//     or many, exactly one commits; only that one writes the secret.
//   - Delete removes the secret first, then the record (on condition of the
//     version it read), for the same reason.
//   - A failed secret write is undone: the secret is read back, and if it
//     holds the write's id the write landed (its answer was lost); if not,
//     the record is put back as it was (or deleted, for a new link, after
//     deleting the secret should it exist). When even that read fails, the
//     record is left ahead of its secret, which readers handle:
//   - Load reads the record, then the secret, and returns them only when
//     both carry the same token id. Otherwise it read between the two
//     writes of a change, and reads again after a short wait. A mismatch
//     that outlasts the retries is a writer still at work if the record's
//     write began less than settleTime ago (ECONFLICT: try again), or one
//     that died between its writes: the new tokens are lost, so the link is
//     returned Broken (with whatever tokens the secret still holds, for
//     revocation) and the user is asked to link again.
//
// One race is not prevented: a Save (relinking) that commits while a
// refresh's UpdateToken is between its two writes can have its secret
// overwritten by the refresh's. Load then sees the mismatch and, once it
// has settled, reports the link broken: the user links again. Secrets
// Manager has no conditional write that would close it.
//
// No token value is written to an error or a log line: errors name the
// operation, the user and the service, never the secret's value.
package awstokens

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/iddv/timmybot/app/account"
	"github.com/iddv/timmybot/app/backoff"
	"github.com/iddv/timmybot/app/music"
)

// SecretsAPI is the part of the Secrets Manager client the store uses. A
// method added here needs its action in IAMActions.
type SecretsAPI interface {
	CreateSecret(ctx context.Context, in *secretsmanager.CreateSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error)
	PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	DeleteSecret(ctx context.Context, in *secretsmanager.DeleteSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.DeleteSecretOutput, error)
}

// IAMActions are the Secrets Manager actions the store needs, on the
// secrets named <Prefix>/*: one per method of SecretsAPI.
var IAMActions = []string{
	"secretsmanager:CreateSecret",
	"secretsmanager:DeleteSecret",
	"secretsmanager:GetSecretValue",
	"secretsmanager:PutSecretValue",
}

// KMSActions are what Secrets Manager needs on the key, on the store's
// behalf: a data key to encrypt a new value, decryption to read one.
var KMSActions = []string{"kms:Decrypt", "kms:GenerateDataKey"}

// Record is what the index keeps of one link. It never holds a token.
type Record struct {
	Link account.Link
	// Fingerprint is the hex SHA-256 of the refresh token the secret holds
	// (or is about to): what UpdateToken compares.
	Fingerprint string
	// TokenID is a random id of the last token write, kept in the secret
	// too: when the two differ, a write is between its two halves.
	TokenID string
	// TokenAt is when the last token write began.
	TokenAt time.Time
	// Version counts the record's writes; 0 means there is no record.
	Version int64
}

// Index keeps the records, one per user and service, with conditional
// writes on their version. app/dynamostore implements it.
type Index interface {
	// LinkRecord returns the record of the user's link to service, with
	// Version 0 when there is none.
	LinkRecord(ctx context.Context, user music.UserID, service account.Service) (Record, error)
	// LinkRecords returns the user's records in account.Services order.
	LinkRecords(ctx context.Context, user music.UserID) ([]Record, error)
	// PutLinkRecord stores rec on condition that the stored record's
	// version is rec.Version-1 (no record when rec.Version is 1); stored
	// is false when the condition failed.
	PutLinkRecord(ctx context.Context, rec Record) (stored bool, err error)
	// DeleteLinkRecord deletes the record on condition that its version is
	// version; deleted is false when the condition failed.
	DeleteLinkRecord(ctx context.Context, user music.UserID, service account.Service, version int64) (deleted bool, err error)
}

// Config configures a Store.
type Config struct {
	// Secrets is the Secrets Manager client.
	Secrets SecretsAPI
	// Index keeps the links' records.
	Index Index
	// Prefix starts every secret's name: <Prefix>/<user>/<service>. The
	// Secrets stack's prefix and "/links", such as "timmybot/links": what
	// the task role's policy allows.
	Prefix string
	// KMSKeyID is the key new secrets are encrypted with (id, ARN or
	// alias): the Secrets stack's key.
	KMSKeyID string
	// Now is the clock that stamps token writes. Default: time.Now.
	Now func() time.Time
}

// Store implements account.TokenStore on Secrets Manager and an Index. It
// is safe for concurrent use, also by several processes.
type Store struct {
	secrets  SecretsAPI
	index    Index
	prefix   string
	kmsKeyID string
	now      func() time.Time
}

var _ account.TokenStore = (*Store)(nil)

// secretPrefix is what Secrets Manager allows in a name, one path segment
// after another.
var secretPrefix = regexp.MustCompile(`^[A-Za-z0-9_+=.@-]+(/[A-Za-z0-9_+=.@-]+)*$`)

// New returns a store with cfg.
func New(cfg Config) (*Store, error) {
	switch {
	case cfg.Secrets == nil:
		return nil, errors.New("awstokens: no Secrets Manager client")
	case cfg.Index == nil:
		return nil, errors.New("awstokens: no link index")
	case !secretPrefix.MatchString(cfg.Prefix):
		return nil, fmt.Errorf("awstokens: the secret prefix %q is not a Secrets Manager name (letters, digits, _+=.@- and / between them)", cfg.Prefix)
	case cfg.KMSKeyID == "":
		return nil, errors.New("awstokens: no KMS key for the secrets")
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Store{secrets: cfg.Secrets, index: cfg.Index, prefix: cfg.Prefix, kmsKeyID: cfg.KMSKeyID, now: now}, nil
}

// SecretName is the name of the secret that holds the tokens of the user's
// link to service.
func (s *Store) SecretName(user music.UserID, service account.Service) string {
	return s.prefix + "/" + string(user) + "/" + string(service)
}

// Retry bounds.
const (
	// conflictAttempts bounds the tries of a change that other writers of
	// the same record keep beating.
	conflictAttempts = 20
	// readAttempts bounds the reads of a record and secret that disagree.
	readAttempts = 5
	// settleTime is how long after a token write began a disagreement is
	// taken for that write still at work rather than dead.
	settleTime = time.Minute
	// cleanupTimeout bounds undoing a failed write, which runs even when
	// the caller's context is done.
	cleanupTimeout = 5 * time.Second
)

// fingerprint is what the index keeps of a refresh token: enough to compare,
// nothing to use.
func fingerprint(refresh string) string {
	sum := sha256.Sum256([]byte(refresh))
	return hex.EncodeToString(sum[:])
}

func newTokenID() string { return rand.Text() }

func checkKey(user music.UserID, service account.Service) error {
	if err := user.Validate(); err != nil {
		return err
	}
	return service.Validate()
}

func notLinked(service account.Service) error {
	return music.Errorf(music.ENOTFOUND, "No %s account is linked.", service.Title())
}

func tooBusy() error {
	return music.Errorf(music.ECONFLICT, "Your linked account is changing too fast right now; try again in a moment.")
}

// fail wraps an error of the Secrets Manager client: with EUNAVAILABLE for
// the user when it is transient, always with what was being done.
func fail(what string, err error) error {
	var domain *music.Error
	if errors.As(err, &domain) {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) || retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary {
		return fmt.Errorf("awstokens: %s: %w: %w", what,
			music.Errorf(music.EUNAVAILABLE, "Linked accounts cannot be reached right now; try again in a moment."), err)
	}
	return fmt.Errorf("awstokens: %s: %w", what, err)
}

// wait waits before try attempt+1 of a change or read.
func wait(ctx context.Context, attempt int) error {
	return backoff.Wait(ctx, attempt, 10*time.Millisecond, 200*time.Millisecond)
}

// onRecord reads the link's record and hands it to step, again after a
// wait until step is done, at most attempts times; then the change is
// given up as too busy.
func (s *Store) onRecord(ctx context.Context, user music.UserID, service account.Service, what string, attempts int, step func(attempt int, rec Record) (done bool, err error)) error {
	for attempt := 0; attempt < attempts; attempt++ {
		if attempt > 0 {
			if err := wait(ctx, attempt); err != nil {
				return fail(what, err)
			}
		}
		rec, err := s.index.LinkRecord(ctx, user, service)
		if err != nil {
			return wrapIndex(what, err)
		}
		if done, err := step(attempt, rec); done || err != nil {
			return err
		}
	}
	return tooBusy()
}

func cleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
}
