package awstokens_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"
	"github.com/iddv/timmybot/app/account"
	"github.com/iddv/timmybot/app/account/awstokens"
	"github.com/iddv/timmybot/app/account/awstokens/secretsmanagertest"
	"github.com/iddv/timmybot/app/account/tokenstoretest"
	"github.com/iddv/timmybot/app/dynamostore"
	"github.com/iddv/timmybot/app/dynamostore/dynamotest"
	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/storetest"
)

const (
	kmsKey = "arn:aws:kms:eu-central-1:111111111111:key/test-key"
	prefix = "timmybot/links"
)

var (
	ada     = tokenstoretest.Ada
	bob     = tokenstoretest.Bob
	saved   = tokenstoretest.Token
	refresh = account.Token{AccessToken: "access-secret-2", RefreshToken: "refresh-secret-2", Expiry: saved.Expiry.Add(time.Hour)}
)

// env is one store's world: its Secrets Manager double, its tables, and
// what builds more stores on them.
type env struct {
	t        *testing.T
	secrets  *secretsmanagertest.Server
	endpoint string
	db       *dynamodb.Client
	names    dynamostore.TableNames
	clock    *storetest.Clock
}

func newEnv(t *testing.T) *env {
	t.Helper()
	endpoint := dynamotest.Endpoint(t)
	db := dynamotest.Client(t, endpoint)
	return &env{
		t:        t,
		secrets:  secretsmanagertest.New(t, kmsKey),
		endpoint: endpoint,
		db:       db,
		names:    dynamotest.NewTables(t, db),
		clock:    storetest.NewClock(),
	}
}

// store returns a new store with clients of its own, as another process
// would have, encrypting with key.
func (e *env) store(key string) *awstokens.Store {
	e.t.Helper()
	return e.storeOn(e.index(), key)
}

func (e *env) index() *dynamostore.Store {
	e.t.Helper()
	index, err := dynamostore.New(dynamotest.Client(e.t, e.endpoint), e.names)
	if err != nil {
		e.t.Fatalf("dynamostore.New: %v", err)
	}
	return index
}

func (e *env) storeOn(index awstokens.Index, key string) *awstokens.Store {
	e.t.Helper()
	s, err := awstokens.New(awstokens.Config{Secrets: e.secrets.Client(), Index: index, Prefix: prefix, KMSKeyID: key, Now: e.clock.Now})
	if err != nil {
		e.t.Fatalf("awstokens.New: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	tokenstoretest.Run(t, func(t *testing.T) account.TokenStore { return newEnv(t).store(kmsKey) })
}

// TestRacingUpdatesAcrossStores races eight updates from as many stores,
// each with its own clients: the compare-and-swap holds across processes.
func TestRacingUpdatesAcrossStores(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.store(kmsKey).Save(ctx, tokenstoretest.Link(ada, account.Spotify), saved); err != nil {
		t.Fatalf("Save: %v", err)
	}
	const racers = 8
	stores := make([]*awstokens.Store, racers)
	for i := range stores {
		stores[i] = e.store(kmsKey)
	}
	errs := make([]error, racers)
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Go(func() {
			tok := account.Token{AccessToken: "access-" + string(rune('a'+i)), RefreshToken: "refresh-" + string(rune('a'+i))}
			errs[i] = s.UpdateToken(ctx, ada, account.Spotify, saved.RefreshToken, tok)
		})
	}
	wg.Wait()
	var winners []int
	for i, err := range errs {
		switch {
		case err == nil:
			winners = append(winners, i)
		case !errors.Is(err, account.ErrTokenChanged):
			t.Fatalf("racer %d: %v, want ErrTokenChanged", i, err)
		}
	}
	if len(winners) != 1 {
		t.Fatalf("winners %v, want exactly one", winners)
	}
	_, tok, err := stores[0].Load(ctx, ada, account.Spotify)
	if err != nil || tok.RefreshToken != "refresh-"+string(rune('a'+winners[0])) {
		t.Fatalf("stored %v, %v; want racer %d's tokens", tok.RefreshToken, err, winners[0])
	}
}

// TestWhatIsStoredWhere checks that the table holds no token, and that
// each secret is named by the prefix, user and service, encrypted with the
// configured key, and holds that link's tokens.
func TestWhatIsStoredWhere(t *testing.T) {
	e := newEnv(t)
	s := e.store(kmsKey)
	ctx := context.Background()
	bobs := account.Token{AccessToken: "bob-access-secret", RefreshToken: "bob-refresh-secret"}
	for _, step := range []func() error{
		func() error { return s.Save(ctx, tokenstoretest.Link(ada, account.Spotify), saved) },
		func() error { return s.UpdateToken(ctx, ada, account.Spotify, saved.RefreshToken, refresh) },
		func() error { return s.Save(ctx, tokenstoretest.Link(bob, account.SoundCloud), bobs) },
		func() error { _, err := s.MarkBroken(ctx, bob, account.SoundCloud); return err },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}

	out, err := e.db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(e.names.Preferences), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	if len(out.Items) != 2 {
		t.Errorf("the table holds %d items, want one per link (2)", len(out.Items))
	}
	var text strings.Builder
	for _, item := range out.Items {
		attributeText(&text, item)
	}
	if !strings.Contains(text.String(), tokenstoretest.Link(ada, account.Spotify).AccountName) {
		t.Fatalf("the scan found no link metadata: %q", text.String())
	}
	for _, secret := range []string{saved.AccessToken, saved.RefreshToken, refresh.AccessToken, refresh.RefreshToken, bobs.AccessToken, bobs.RefreshToken} {
		if strings.Contains(text.String(), secret) {
			t.Errorf("the table holds the token %q", secret)
		}
	}

	stored := e.secrets.Secrets()
	want := map[string]account.Token{prefix + "/" + string(ada) + "/spotify": refresh, prefix + "/" + string(bob) + "/soundcloud": bobs}
	if diff := cmp.Diff(slices.Sorted(maps.Keys(want)), slices.Sorted(maps.Keys(stored))); diff != "" {
		t.Fatalf("secret names (-want +got):\n%s", diff)
	}
	for name, tok := range want {
		sec := stored[name]
		if sec.KMSKeyID != kmsKey {
			t.Errorf("%s is encrypted with %q, want %q", name, sec.KMSKeyID, kmsKey)
		}
		if !strings.Contains(sec.Value, `"access_token":"`+tok.AccessToken+`"`) || !strings.Contains(sec.Value, `"refresh_token":"`+tok.RefreshToken+`"`) {
			t.Errorf("%s does not hold its link's current tokens", name)
		}
	}
}

// attributeText writes every string and binary value of item, nested ones
// included.
func attributeText(b *strings.Builder, item map[string]types.AttributeValue) {
	for _, v := range item {
		attributeValueText(b, v)
	}
}

func attributeValueText(b *strings.Builder, v types.AttributeValue) {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		b.WriteString(v.Value + "\n")
	case *types.AttributeValueMemberB:
		b.Write(append(v.Value, '\n'))
	case *types.AttributeValueMemberSS:
		b.WriteString(strings.Join(v.Value, "\n") + "\n")
	case *types.AttributeValueMemberL:
		for _, e := range v.Value {
			attributeValueText(b, e)
		}
	case *types.AttributeValueMemberM:
		attributeText(b, v.Value)
	}
}

// fail answers every request of the listed operations with a client error
// the SDK does not retry, while on is true.
func failing(on *bool, mu *sync.Mutex, ops ...string) func(secretsmanagertest.Request) *secretsmanagertest.Error {
	return func(r secretsmanagertest.Request) *secretsmanagertest.Error {
		mu.Lock()
		defer mu.Unlock()
		if *on && slices.Contains(ops, r.Op) {
			return &secretsmanagertest.Error{Type: "InvalidParameterException", Message: "injected failure"}
		}
		return nil
	}
}

// TestFailedSecretWrite checks that a secret write that fails leaves the
// store as it was, that one whose answer was lost counts as done, and that
// when not even the secret can be read back, readers are told to wait and
// then, once the write has had its time, that the link is broken.
func TestFailedSecretWrite(t *testing.T) {
	ctx := context.Background()
	link := tokenstoretest.Link(ada, account.Spotify)
	tests := []struct {
		name      string
		existing  bool     // a link is saved first
		failOps   []string // operations failing during the write
		lost      bool     // the write applies, its answer is lost
		wantErr   bool
		wantToken account.Token // what Load then returns
		wantCode  string        // or Load's error code
		// after the clock passes the write's settling time
		wantLaterBroken bool
	}{
		{name: "new link, create fails", failOps: []string{"CreateSecret"}, wantErr: true, wantCode: music.ENOTFOUND},
		{name: "update, put fails", existing: true, failOps: []string{"PutSecretValue"}, wantErr: true, wantToken: saved},
		{name: "update, answer lost", existing: true, lost: true, wantToken: refresh},
		{name: "update, put and read back fail", existing: true, failOps: []string{"PutSecretValue", "GetSecretValue"}, wantErr: true, wantCode: music.ECONFLICT, wantLaterBroken: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			s := e.store(kmsKey)
			if tt.existing {
				if err := s.Save(ctx, link, saved); err != nil {
					t.Fatalf("Save: %v", err)
				}
			}
			var mu sync.Mutex
			on := true
			if tt.lost {
				e.secrets.Intercept(func(r secretsmanagertest.Request) *secretsmanagertest.Error {
					if r.Op == "PutSecretValue" {
						return &secretsmanagertest.Error{Type: "InternalServiceError", Message: "lost", Status: 500, Applied: true}
					}
					return nil
				})
			} else {
				e.secrets.Intercept(failing(&on, &mu, tt.failOps...))
			}
			var err error
			if tt.existing {
				err = s.UpdateToken(ctx, ada, account.Spotify, saved.RefreshToken, refresh)
			} else {
				err = s.Save(ctx, link, refresh)
			}
			if (err != nil) != tt.wantErr {
				t.Fatalf("the write: %v, want an error: %v", err, tt.wantErr)
			}
			if err != nil && (strings.Contains(err.Error(), refresh.AccessToken) || strings.Contains(err.Error(), refresh.RefreshToken)) {
				t.Fatalf("the error shows a token: %v", err)
			}
			e.secrets.Intercept(nil)

			gotLink, tok, err := s.Load(ctx, ada, account.Spotify)
			if tt.wantCode != "" {
				if music.ErrorCode(err) != tt.wantCode {
					t.Fatalf("Load: %v, want code %s", err, tt.wantCode)
				}
			} else if err != nil || tok != tt.wantToken || gotLink.Broken {
				t.Fatalf("Load = %+v, %v, %v; want a working link with %v", gotLink, tok.RefreshToken, err, tt.wantToken.RefreshToken)
			}
			if !tt.existing {
				if links, err := s.Links(ctx, ada); err != nil || len(links) != 0 {
					t.Errorf("Links = %v, %v; want none", links, err)
				}
				if n := len(e.secrets.Secrets()); n != 0 {
					t.Errorf("%d secrets stored, want none", n)
				}
			}
			if tt.wantToken == saved {
				// The store is as before: the old refresh token still updates.
				if err := s.UpdateToken(ctx, ada, account.Spotify, saved.RefreshToken, refresh); err != nil {
					t.Errorf("a second UpdateToken: %v", err)
				}
			}
			if tt.wantLaterBroken {
				e.clock.Advance(2 * time.Minute)
				gotLink, tok, err := s.Load(ctx, ada, account.Spotify)
				if err != nil || !gotLink.Broken || tok != saved {
					t.Fatalf("Load after settling = %+v, %v, %v; want the link broken with the tokens still stored", gotLink, tok.RefreshToken, err)
				}
				if err := s.Delete(ctx, ada, account.Spotify); err != nil || len(e.secrets.Secrets()) != 0 {
					t.Fatalf("Delete = %v, secrets left %d; want both gone", err, len(e.secrets.Secrets()))
				}
			}
		})
	}
}

// TestLoadBetweenTheTwoWrites holds an update between its record and its
// secret, and checks that a Load then waits for the secret rather than
// returning the new record with the old tokens.
func TestLoadBetweenTheTwoWrites(t *testing.T) {
	e := newEnv(t)
	s := e.store(kmsKey)
	ctx := context.Background()
	if err := s.Save(ctx, tokenstoretest.Link(ada, account.YouTube), saved); err != nil {
		t.Fatalf("Save: %v", err)
	}
	held := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	e.secrets.Intercept(func(r secretsmanagertest.Request) *secretsmanagertest.Error {
		switch r.Op {
		case "PutSecretValue":
			close(held)
			<-release
		case "GetSecretValue":
			// The reader has seen the secret once: let the writer finish.
			once.Do(func() { close(release) })
		}
		return nil
	})
	updated := make(chan error, 1)
	go func() { updated <- s.UpdateToken(ctx, ada, account.YouTube, saved.RefreshToken, refresh) }()
	<-held
	_, tok, err := s.Load(ctx, ada, account.YouTube)
	if err != nil || tok != refresh {
		t.Fatalf("Load during the update = %v, %v; want the new tokens", tok.RefreshToken, err)
	}
	if err := <-updated; err != nil {
		t.Fatalf("UpdateToken: %v", err)
	}
}

// TestSecretPaths covers the secrets themselves: a key the service cannot
// use, a secret deleted behind the store's back, and a name whose secret
// was just deleted.
func TestSecretPaths(t *testing.T) {
	ctx := context.Background()
	link := tokenstoretest.Link(ada, account.SoundCloud)
	t.Run("wrong KMS key", func(t *testing.T) {
		e := newEnv(t)
		s := e.store("alias/not-the-secrets-key")
		err := s.Save(ctx, link, saved)
		if err == nil || !strings.Contains(err.Error(), "EncryptionFailure") || strings.Contains(err.Error(), saved.RefreshToken) {
			t.Fatalf("Save = %v, want the EncryptionFailure without the token", err)
		}
		if links, err := s.Links(ctx, ada); err != nil || len(links) != 0 {
			t.Fatalf("Links = %v, %v; want none left behind", links, err)
		}
	})
	t.Run("secret gone", func(t *testing.T) {
		e := newEnv(t)
		s := e.store(kmsKey)
		if err := s.Save(ctx, link, saved); err != nil {
			t.Fatalf("Save: %v", err)
		}
		e.secrets.Remove(s.SecretName(ada, account.SoundCloud))
		e.clock.Advance(2 * time.Minute)
		got, tok, err := s.Load(ctx, ada, account.SoundCloud)
		if err != nil || !got.Broken || tok != (account.Token{}) {
			t.Fatalf("Load = %+v, %+v, %v; want the link broken, no tokens", got, tok, err)
		}
		if err := s.Delete(ctx, ada, account.SoundCloud); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if _, _, err := s.Load(ctx, ada, account.SoundCloud); music.ErrorCode(err) != music.ENOTFOUND {
			t.Fatalf("Load after Delete: %v, want ENOTFOUND", err)
		}
	})
	t.Run("relink after unlink", func(t *testing.T) {
		e := newEnv(t)
		s := e.store(kmsKey)
		for i, step := range []func() error{
			func() error { return s.Save(ctx, link, saved) },
			func() error { return s.Delete(ctx, ada, account.SoundCloud) },
			func() error { return s.Save(ctx, link, refresh) },
		} {
			if err := step(); err != nil {
				t.Fatalf("step %d: %v", i+1, err)
			}
		}
		if _, tok, err := s.Load(ctx, ada, account.SoundCloud); err != nil || tok != refresh {
			t.Fatalf("Load = %v, %v; want the relinked tokens", tok.RefreshToken, err)
		}
	})
	t.Run("tokens changed behind the store", func(t *testing.T) {
		e := newEnv(t)
		s := e.store(kmsKey)
		if err := s.Save(ctx, link, saved); err != nil {
			t.Fatalf("Save: %v", err)
		}
		e.secrets.SetValue(s.SecretName(ada, account.SoundCloud), `{"access_token":"x","refresh_token":"y","token_id":"another write"}`)
		if _, _, err := s.Load(ctx, ada, account.SoundCloud); music.ErrorCode(err) != music.ECONFLICT {
			t.Fatalf("Load of a secret another writer changed: %v, want ECONFLICT while the write is recent", err)
		}
	})
}

func TestNewRefuses(t *testing.T) {
	index, err := dynamostore.New(nil, dynamostore.PrefixedTableNames("t-"))
	if err != nil {
		t.Fatal(err)
	}
	secrets := secretsmanagertest.New(t, kmsKey).Client()
	good := awstokens.Config{Secrets: secrets, Index: index, Prefix: "timmybot/prod", KMSKeyID: kmsKey}
	tests := []struct {
		name string
		edit func(*awstokens.Config)
		want string
	}{
		{"no client", func(c *awstokens.Config) { c.Secrets = nil }, "no Secrets Manager client"},
		{"no index", func(c *awstokens.Config) { c.Index = nil }, "no link index"},
		{"no prefix", func(c *awstokens.Config) { c.Prefix = "" }, "is not a Secrets Manager name"},
		{"slash at the end", func(c *awstokens.Config) { c.Prefix = "timmybot/" }, "is not a Secrets Manager name"},
		{"space", func(c *awstokens.Config) { c.Prefix = "timmy bot" }, "is not a Secrets Manager name"},
		{"no key", func(c *awstokens.Config) { c.KMSKeyID = "" }, "no KMS key"},
		{"good", func(*awstokens.Config) {}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.edit(&cfg)
			_, err := awstokens.New(cfg)
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("New = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestIAMActionsAreTheSecretsAPI(t *testing.T) {
	api := reflect.TypeFor[awstokens.SecretsAPI]()
	var want []string
	for i := range api.NumMethod() {
		want = append(want, "secretsmanager:"+api.Method(i).Name)
	}
	if diff := cmp.Diff(want, slices.Sorted(slices.Values(awstokens.IAMActions))); diff != "" {
		t.Errorf("IAMActions (-SecretsAPI +IAMActions):\n%s", diff)
	}
}

// TestWriteOrder checks, from inside each secret write and delete, that the
// record naming the secret is already there: a writer that dies at that
// moment leaves no secret that Delete cannot find. A failed secret delete
// keeps the record, so the next Delete finishes.
func TestWriteOrder(t *testing.T) {
	e := newEnv(t)
	s := e.store(kmsKey)
	index := e.index()
	ctx := context.Background()
	var mu sync.Mutex
	seen := map[string]awstokens.Record{}
	failDelete := true
	e.secrets.Intercept(func(r secretsmanagertest.Request) *secretsmanagertest.Error {
		if r.Op == "GetSecretValue" {
			return nil
		}
		rec, err := index.LinkRecord(ctx, ada, account.Spotify)
		if err != nil {
			t.Errorf("LinkRecord during %s: %v", r.Op, err)
		}
		mu.Lock()
		defer mu.Unlock()
		seen[r.Op] = rec
		if r.Op == "DeleteSecret" && failDelete {
			failDelete = false
			return &secretsmanagertest.Error{Type: "InvalidParameterException", Message: "injected failure"}
		}
		return nil
	})
	for _, step := range []func() error{
		func() error { return s.Save(ctx, tokenstoretest.Link(ada, account.Spotify), saved) },
		func() error { return s.UpdateToken(ctx, ada, account.Spotify, saved.RefreshToken, refresh) },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Delete(ctx, ada, account.Spotify); err == nil {
		t.Fatal("Delete succeeded though the secret's delete failed")
	}
	if links, err := s.Links(ctx, ada); err != nil || len(links) != 1 {
		t.Fatalf("after a failed delete Links = %v, %v; want the link kept, to delete again", links, err)
	}
	if err := s.Delete(ctx, ada, account.Spotify); err != nil {
		t.Fatalf("the second Delete: %v", err)
	}
	if n := len(e.secrets.Secrets()); n != 0 {
		t.Fatalf("%d secrets left", n)
	}
	mu.Lock()
	defer mu.Unlock()
	for op, fp := range map[string]string{"CreateSecret": fingerprintOf(saved), "PutSecretValue": fingerprintOf(refresh), "DeleteSecret": fingerprintOf(refresh)} {
		if rec, ok := seen[op]; !ok || rec.Version == 0 || rec.Fingerprint != fp {
			t.Errorf("during %s the record was %+v (seen %v); want it committed, with the fingerprint of the tokens being written", op, rec, ok)
		}
	}
}

func fingerprintOf(tok account.Token) string {
	sum := sha256.Sum256([]byte(tok.RefreshToken))
	return hex.EncodeToString(sum[:])
}

// interleaved is an index that runs another writer's change just before
// its first conditional put, so that the put loses the race.
type interleaved struct {
	awstokens.Index
	once  sync.Once
	other func()
}

func (i *interleaved) PutLinkRecord(ctx context.Context, rec awstokens.Record) (bool, error) {
	i.once.Do(i.other)
	return i.Index.PutLinkRecord(ctx, rec)
}

// TestUpdateRetriesPastOtherChanges checks that an update whose record
// changed under it only in what it does not compare (the link marked
// broken meanwhile) reads again and commits, rather than failing.
func TestUpdateRetriesPastOtherChanges(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	other := e.store(kmsKey)
	if err := other.Save(ctx, tokenstoretest.Link(ada, account.Spotify), saved); err != nil {
		t.Fatalf("Save: %v", err)
	}
	s := e.storeOn(&interleaved{Index: e.index(), other: func() {
		if _, err := other.MarkBroken(ctx, ada, account.Spotify); err != nil {
			t.Errorf("MarkBroken: %v", err)
		}
	}}, kmsKey)
	if err := s.UpdateToken(ctx, ada, account.Spotify, saved.RefreshToken, refresh); err != nil {
		t.Fatalf("UpdateToken: %v", err)
	}
	link, tok, err := s.Load(ctx, ada, account.Spotify)
	if err != nil || tok != refresh || link.Broken {
		t.Fatalf("Load = %+v, %v, %v; want the new tokens on a working link", link, tok.RefreshToken, err)
	}
}
