package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/iddv/timmybot/app/backoff"
	"github.com/iddv/timmybot/app/music"
)

// IAMActions are the DynamoDB actions the store needs on its tables: one per
// method of API, the only way the store reaches DynamoDB. The task role in
// AWS grants exactly these (CreateTables' SchemaAPI is for local servers and
// tests, never run in AWS).
var IAMActions = []string{
	"dynamodb:BatchGetItem",
	"dynamodb:BatchWriteItem",
	"dynamodb:DeleteItem",
	"dynamodb:GetItem",
	"dynamodb:PutItem",
	"dynamodb:Scan",
}

// API is the part of the DynamoDB client the store uses. A method added here
// needs its action in IAMActions.
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// Store implements the music ports on DynamoDB. It is safe for concurrent
// use, also by several processes sharing the tables.
type Store struct {
	api      API
	tables   TableNames
	now      func() time.Time
	attempts int

	// guildLocks serialise this process's changes to one guild's queue
	// (striped by guild), so that optimistic retries are spent only on
	// writers in other processes.
	guildLocks [64]chan struct{}
}

// Interface guards.
var (
	_ music.QueueStore      = (*Store)(nil)
	_ music.AllowlistStore  = (*Store)(nil)
	_ music.PreferenceStore = (*Store)(nil)
	_ music.PlaylistStore   = (*Store)(nil)
	_ music.TrackCache      = (*Store)(nil)
)

// Option configures a Store.
type Option func(*Store)

// WithClock sets the clock that stamps entries and expires cached tracks.
// Default: time.Now.
func WithClock(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// WithConflictAttempts sets how many times a queue change is tried when
// other writers keep changing the queue first. Default: 40.
func WithConflictAttempts(n int) Option {
	return func(s *Store) { s.attempts = max(n, 1) }
}

// New returns a store on the tables under names. Build api with NewClient
// for the retry policy the store expects.
func New(api API, names TableNames, opts ...Option) (*Store, error) {
	if err := names.Validate(); err != nil {
		return nil, err
	}
	return newStore(api, names, opts), nil
}

// NewAllowlist returns the allowlist alone, on the table named table: for
// the web front, which may use no other table.
func NewAllowlist(api API, table string, opts ...Option) (music.AllowlistStore, error) {
	if table == "" {
		return nil, fmt.Errorf("dynamostore: no table name for the allowlist")
	}
	return newStore(api, TableNames{Allowlist: table}, opts), nil
}

func newStore(api API, names TableNames, opts []Option) *Store {
	s := &Store{api: api, tables: names, now: time.Now, attempts: 40}
	for i := range s.guildLocks {
		s.guildLocks[i] = make(chan struct{}, 1)
	}
	for _, opt := range opts {
		opt(s)
	}
	return s
}

var lockSeed = maphash.MakeSeed()

// lockGuild waits for the guild's lock, or for ctx to end, and returns the
// function that releases it.
func (s *Store) lockGuild(ctx context.Context, guild music.GuildID) (unlock func(), err error) {
	lock := s.guildLocks[maphash.String(lockSeed, string(guild))%uint64(len(s.guildLocks))]
	select {
	case lock <- struct{}{}:
		return func() { <-lock }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// errStale means a read found an item gone that the meta item it had read
// still referenced: a writer committed meanwhile. errConflict means a
// conditional write lost to another writer. Both are retried from a fresh
// read of the meta item.
var (
	errStale    = errors.New("read an item a newer version removed")
	errConflict = errors.New("another writer changed the queue first")
)

// fail turns an error into what the caller of a port sees: domain errors as
// they are, transient failures (network, throttling and 5xx after the SDK's
// retries, deadlines) as EUNAVAILABLE, anything else as internal, all with
// the cause attached for the log.
func fail(what string, err error) error {
	var domain *music.Error
	if err == nil || errors.As(err, &domain) {
		return err
	}
	if transient(err) {
		return fmt.Errorf("dynamostore: %s: %w: %w", what,
			music.Errorf(music.EUNAVAILABLE, "The music database cannot be reached right now; try again in a moment."), err)
	}
	return fmt.Errorf("dynamostore: %s: %w", what, err)
}

func transient(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || dialFailureIsFinal(err) == aws.FalseTernary {
		return true
	}
	return retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary
}

func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// conflictWait waits before attempt+1 of a conflicting change, so that
// contending writers spread out.
func conflictWait(ctx context.Context, attempt int) error {
	return backoff.Wait(ctx, attempt, 2*time.Millisecond, 200*time.Millisecond)
}

// cleanupTimeout bounds best-effort deletes of unreachable items, which run
// even when the caller's context is done.
const cleanupTimeout = 5 * time.Second

func cleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
}

// Attribute value helpers.

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func getStr(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func getNum(item map[string]types.AttributeValue, name string) (int64, error) {
	v, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0, nil
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("attribute %s: %w", name, err)
	}
	return n, nil
}

func getBytes(item map[string]types.AttributeValue, name string) []byte {
	if v, ok := item[name].(*types.AttributeValueMemberB); ok {
		return v.Value
	}
	return nil
}

// putOptional sets a string attribute unless it is empty: an absent
// attribute reads back as "", and not every local server stores empty ones.
func putOptional(item map[string]types.AttributeValue, name, value string) {
	if value != "" {
		item[name] = str(value)
	}
}

// Track attributes, shared by queue entries and the track cache.
const (
	attrTitle    = "title"
	attrURL      = "url"
	attrDuration = "dur"
	attrSource   = "src"
	attrBy       = "by"
	attrArtwork  = "art"
)

func putTrack(item map[string]types.AttributeValue, t music.Track) {
	putOptional(item, attrTitle, t.Title)
	item[attrURL] = str(t.URL)
	item[attrDuration] = num(int64(t.Duration))
	putOptional(item, attrSource, t.Source)
	putOptional(item, attrBy, string(t.RequestedBy))
	putOptional(item, attrArtwork, t.ArtworkURL)
}

func getTrack(item map[string]types.AttributeValue) (music.Track, error) {
	d, err := getNum(item, attrDuration)
	if err != nil {
		return music.Track{}, err
	}
	return music.Track{
		Title:       getStr(item, attrTitle),
		URL:         getStr(item, attrURL),
		Duration:    time.Duration(d),
		Source:      getStr(item, attrSource),
		RequestedBy: music.UserID(getStr(item, attrBy)),
		ArtworkURL:  getStr(item, attrArtwork), // absent in items stored before tracks had artwork
	}, nil
}

// putTime and getTime store instants as Unix nanoseconds, read back in UTC;
// the zero time is no attribute (it has no Unix nanoseconds).
func putTime(item map[string]types.AttributeValue, name string, t time.Time) {
	if !t.IsZero() {
		item[name] = num(t.UnixNano())
	}
}

func getTime(item map[string]types.AttributeValue, name string) (time.Time, error) {
	if _, ok := item[name]; !ok {
		return time.Time{}, nil
	}
	n, err := getNum(item, name)
	return time.Unix(0, n).UTC(), err
}
