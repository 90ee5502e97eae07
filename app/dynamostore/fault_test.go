package dynamostore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"
	"github.com/iddv/timmybot/app/dynamostore"
	"github.com/iddv/timmybot/app/dynamostore/dynamotest"
	"github.com/iddv/timmybot/app/music"
)

// fault is an answer the proxy gives instead of forwarding.
type fault struct {
	status int    // 0 drops the connection; lostAnswer forwards, then drops it
	kind   string // DynamoDB error type
}

const lostAnswer = -1

var (
	throttled   = fault{400, "ProvisionedThroughputExceededException"}
	throttling  = fault{400, "ThrottlingException"}
	internal    = fault{500, "InternalServerError"}
	unavailable = fault{503, "ServiceUnavailable"}
	dropped     = fault{}
	lost        = fault{status: lostAnswer}
)

// faultProxy forwards requests to a DynamoDB endpoint, except that it answers
// the next queued faults for one operation (or any) itself.
type faultProxy struct {
	t       *testing.T
	forward http.Handler

	mu        sync.Mutex
	operation string // X-Amz-Target suffix the faults apply to; "" any
	bodyHas   string // and text their body contains; "" any
	faults    []fault
	persist   bool // answer faults[0] for every matching request
	injected  int
	forwarded int
}

func newFaultProxy(t *testing.T, endpoint string) (*faultProxy, string) {
	target, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{t: t, forward: httputil.NewSingleHostReverseProxy(target)}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return p, srv.URL
}

func (p *faultProxy) inject(operation string, persist bool, faults ...fault) {
	p.injectWhere(operation, "", persist, faults...)
}

func (p *faultProxy) injectWhere(operation, bodyHas string, persist bool, faults ...fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.operation, p.bodyHas, p.persist, p.faults, p.injected, p.forwarded = operation, bodyHas, persist, faults, 0, 0
}

func (p *faultProxy) counts() (injected, forwarded int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.injected, p.forwarded
}

func (p *faultProxy) next(r *http.Request) (fault, bool) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		p.t.Errorf("reading a request: %v", err)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	p.mu.Lock()
	defer p.mu.Unlock()
	match := (p.operation == "" || strings.HasSuffix(r.Header.Get("X-Amz-Target"), "."+p.operation)) &&
		bytes.Contains(body, []byte(p.bodyHas))
	if !match || len(p.faults) == 0 {
		p.forwarded++
		return fault{}, false
	}
	f := p.faults[0]
	if !p.persist {
		p.faults = p.faults[1:]
	}
	p.injected++
	return f, true
}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f, ok := p.next(r)
	if !ok {
		p.forward.ServeHTTP(w, r)
		return
	}
	if f.status == lostAnswer {
		p.forward.ServeHTTP(httptest.NewRecorder(), r)
	}
	if f.status <= 0 {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			p.t.Errorf("hijacking: %v", err)
			return
		}
		conn.Close()
		return
	}
	body := fmt.Sprintf(`{"__type":"com.amazonaws.dynamodb.v20120810#%s","message":"injected by the test"}`, f.kind)
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amz-Crc32", fmt.Sprint(crc32.ChecksumIEEE([]byte(body))))
	w.WriteHeader(f.status)
	fmt.Fprint(w, body)
}

// faultClient is a client whose retries back off briefly, so that tests of
// several retries stay fast; the policy is otherwise NewClient's.
func faultClient(t *testing.T, endpoint string) *dynamodb.Client {
	client, err := dynamostore.NewClient(context.Background(), dynamostore.ClientConfig{
		Endpoint:    endpoint,
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
		MaxBackoff:  20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	return client
}

// newFaultStore returns a store on fresh tables whose requests pass through
// proxy, and a client that reaches the tables directly.
func newFaultStore(t *testing.T) (s *dynamostore.Store, proxy *faultProxy, direct *dynamodb.Client, names dynamostore.TableNames) {
	t.Helper()
	endpoint := dynamotest.Endpoint(t)
	proxy, proxied := newFaultProxy(t, endpoint)
	direct = dynamotest.Client(t, endpoint)
	names = dynamotest.NewTables(t, direct)
	s, err := dynamostore.New(faultClient(t, proxied), names)
	if err != nil {
		t.Fatal(err)
	}
	return s, proxy, direct, names
}

const faultGuild music.GuildID = "300000000000000001"

// partitionItems returns the sort keys of every item under the guild,
// reachable or not.
func partitionItems(t *testing.T, client *dynamodb.Client, table string) []string {
	t.Helper()
	out, err := client.Query(context.Background(), &dynamodb.QueryInput{
		TableName:                 aws.String(table),
		KeyConditionExpression:    aws.String("guild = :g"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":g": &types.AttributeValueMemberS{Value: string(faultGuild)}},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	var sks []string
	for _, item := range out.Items {
		sks = append(sks, item["sk"].(*types.AttributeValueMemberS).Value)
	}
	return sks
}

func TestTransientFailuresAreRetried(t *testing.T) {
	s, proxy, _, _ := newFaultStore(t)
	tests := []struct {
		name      string
		operation string
		faults    []fault
	}{
		{"throttled read", "GetItem", []fault{throttled, throttling}},
		{"throttled commit", "PutItem", []fault{throttled, throttled, throttled}},
		{"server errors", "", []fault{internal, unavailable, internal}},
		{"dropped connection", "BatchWriteItem", []fault{dropped}},
		{"a bit of everything", "", []fault{throttling, dropped, unavailable, throttled}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proxy.inject(tt.operation, false, tt.faults...)
			ctx := context.Background()
			if _, err := s.Enqueue(ctx, faultGuild, music.Track{Title: tt.name, URL: "https://audio.example/x"}); err != nil {
				t.Fatalf("Enqueue: %v", err)
			}
			page, err := s.Page(ctx, faultGuild, i, 10)
			if err != nil || len(page.Entries) != 1 || page.Entries[0].Track.Title != tt.name {
				t.Fatalf("Page after the faults = %+v, %v; want the one entry %q", page, err, tt.name)
			}
			if injected, _ := proxy.counts(); injected != len(tt.faults) {
				t.Errorf("%d faults answered, want all %d", injected, len(tt.faults))
			}
		})
	}
}

func TestPersistentFailureLeavesNothingBehind(t *testing.T) {
	s, proxy, direct, names := newFaultStore(t)
	ctx := context.Background()
	if _, err := s.Enqueue(ctx, faultGuild, music.Track{Title: "kept", URL: "https://audio.example/kept"}); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	before := partitionItems(t, direct, names.Queues)
	const wantAttempts = 5 // NewClient's default

	// Each case fails one request for good: the playlist's other requests,
	// sent in parallel, succeed and must be undone.
	tests := []struct {
		name      string
		tracks    int
		operation string
		bodyHas   string
		fault     fault
	}{
		{"entries throttled", 20, "BatchWriteItem", `"PutRequest"`, throttled},
		{"one batch of a playlist throttled", 500, "BatchWriteItem", `"S":"lost 170"`, throttled},
		{"pages answer 500", 20, "PutItem", `"ids"`, internal},
		{"meta commit throttled", 500, "PutItem", `"S":"meta"`, throttled},
		{"meta commit answers 503", 20, "PutItem", `"S":"meta"`, unavailable},
		{"meta commit's connection dropped", 20, "PutItem", `"S":"meta"`, dropped},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proxy.injectWhere(tt.operation, tt.bodyHas, true, tt.fault)
			playlist := make([]music.Track, tt.tracks)
			for i := range playlist {
				playlist[i] = music.Track{Title: fmt.Sprint("lost ", i), URL: "https://audio.example/lost"}
			}
			_, err := s.Enqueue(ctx, faultGuild, playlist...)
			if code := music.ErrorCode(err); code != music.EUNAVAILABLE {
				t.Fatalf("Enqueue = %v (code %q), want %q", err, code, music.EUNAVAILABLE)
			}
			if injected, _ := proxy.counts(); injected != wantAttempts {
				t.Errorf("the failing request was tried %d times, want %d", injected, wantAttempts)
			}
			proxy.inject("", false)
			if n, err := s.Len(ctx, faultGuild); err != nil || n != 1 {
				t.Errorf("Len = %d, %v; want 1", n, err)
			}
			if diff := strings.Join(partitionItems(t, direct, names.Queues), ","); diff != strings.Join(before, ",") {
				t.Errorf("items after the failed change: %s, want those before: %s", diff, strings.Join(before, ","))
			}
		})
	}
}

func TestUnreachableEndpointFailsAtOnce(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := "http://" + l.Addr().String()
	l.Close() // nothing listens there any more: connections are refused

	// The default retry policy, which would back off for seconds if it
	// retried refused connections.
	s, err := dynamostore.New(dynamotest.Client(t, endpoint), dynamostore.PrefixedTableNames("x-"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	track := music.Track{Title: "x", URL: "https://audio.example/x"}
	calls := map[string]func() error{
		"Enqueue":    func() error { _, err := s.Enqueue(ctx, faultGuild, track); return err },
		"Peek":       func() error { _, err := s.Peek(ctx, faultGuild); return err },
		"IsApproved": func() error { _, err := s.IsApproved(ctx, faultGuild); return err },
		"CacheTrack": func() error { return s.CacheTrack(ctx, "k", track, time.Now().Add(time.Hour)) },
		"Ping":       func() error { return s.Ping(ctx) },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			err := call()
			if code := music.ErrorCode(err); code != music.EUNAVAILABLE {
				t.Fatalf("error %v has code %q, want %q", err, code, music.EUNAVAILABLE)
			}
			if msg := music.ErrorMessage(err); !strings.Contains(msg, "cannot be reached") {
				t.Errorf("user-facing message %q does not say the database cannot be reached", msg)
			}
			if !strings.Contains(err.Error(), "connection refused") {
				t.Errorf("error %q does not name the cause", err)
			}
			var retried *retry.MaxAttemptsError
			if errors.As(err, &retried) {
				t.Errorf("a refused connection was retried %d times", retried.Attempt)
			}
		})
	}
}

// TestLostAnswerIsNotAppliedTwice loses the answer to a change's commit
// after the server applied it: the SDK's retry then fails its condition,
// and the store must find its change committed rather than apply it again
// or delete what it committed.
func TestLostAnswerIsNotAppliedTwice(t *testing.T) {
	s, proxy, _, _ := newFaultStore(t)
	ctx := context.Background()
	tracks := make([]music.Track, 150)
	for i := range tracks {
		tracks[i] = music.Track{Title: fmt.Sprint(i), URL: "https://audio.example/x"}
	}
	if _, err := s.Enqueue(ctx, faultGuild, tracks...); err != nil {
		t.Fatal(err)
	}
	model := make([]string, len(tracks))
	for i, tr := range tracks {
		model[i] = tr.Title
	}
	steps := []struct {
		name  string
		run   func() error
		apply func([]string) []string
	}{
		{"enqueue", func() error {
			_, err := s.Enqueue(ctx, faultGuild, music.Track{Title: "new", URL: "https://audio.example/new"})
			return err
		}, func(m []string) []string { return append(m, "new") }},
		{"skip", func() error { _, err := s.Pop(ctx, faultGuild); return err },
			func(m []string) []string { return m[1:] }},
		{"remove", func() error { _, err := s.RemoveAt(ctx, faultGuild, 99); return err },
			func(m []string) []string { return append(m[:99:99], m[100:]...) }},
		{"move", func() error { return s.Move(ctx, faultGuild, 0, 120) },
			func(m []string) []string {
				out := append([]string{}, m[1:121]...)
				out = append(out, m[0])
				return append(out, m[121:]...)
			}},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			proxy.injectWhere("PutItem", `"S":"meta"`, false, lost)
			if err := step.run(); err != nil {
				t.Fatalf("%s: %v", step.name, err)
			}
			if injected, _ := proxy.counts(); injected != 1 {
				t.Fatalf("%d answers lost, want 1", injected)
			}
			model = step.apply(model)
			page, err := s.Page(ctx, faultGuild, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			rest, err := s.Page(ctx, faultGuild, 100, 100)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range append(page.Entries, rest.Entries...) {
				got = append(got, e.Track.Title)
			}
			if diff := cmp.Diff(model, got); diff != "" {
				t.Errorf("queue after a lost answer (-want +got):\n%s", diff)
			}
		})
	}
}
