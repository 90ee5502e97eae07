package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// ClientConfig configures the DynamoDB client. The zero value talks to AWS's
// regional endpoint with the default credential chain.
type ClientConfig struct {
	// Endpoint overrides AWS's endpoint (a local server such as DynamoDB
	// Local). Default: none.
	Endpoint string
	// Region. Default: from the environment or shared configuration.
	Region string
	// Credentials. Default: the SDK's credential chain.
	Credentials aws.CredentialsProvider
	// MaxAttempts per request, the first included: throttling and 5xx
	// answers are retried with jittered exponential backoff. Default: 5.
	MaxAttempts int
	// MaxBackoff between attempts. Default: 1 s.
	MaxBackoff time.Duration
	// DialTimeout bounds connecting to the endpoint. Default: 2 s.
	DialTimeout time.Duration
}

// Defaults of ClientConfig.
const (
	defaultMaxAttempts = 5
	defaultMaxBackoff  = time.Second
	defaultDialTimeout = 2 * time.Second
)

// NewClient returns a DynamoDB client with the retry policy the store
// relies on: throttling and server errors are retried with backoff, but a
// refused or timed-out connection is not, so that a command fails fast when
// the endpoint is unreachable instead of stalling the user.
func NewClient(ctx context.Context, cfg ClientConfig) (*dynamodb.Client, error) {
	maxAttempts := orDefault(cfg.MaxAttempts, defaultMaxAttempts)
	maxBackoff := orDefault(cfg.MaxBackoff, defaultMaxBackoff)
	dialTimeout := orDefault(cfg.DialTimeout, defaultDialTimeout)
	opts := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = maxAttempts
				o.MaxBackoff = maxBackoff
				// Every attempt counts against MaxAttempts; a client-wide
				// retry budget would make one guild's throttling fail
				// another guild's commands.
				o.RateLimiter = ratelimit.None
				o.Retryables = append([]retry.IsErrorRetryable{retry.IsErrorRetryableFunc(dialFailureIsFinal)}, o.Retryables...)
			})
		}),
		config.WithHTTPClient(awshttp.NewBuildableClient().WithDialerOptions(func(d *net.Dialer) {
			d.Timeout = dialTimeout
		})),
	}
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	if cfg.Credentials != nil {
		opts = append(opts, config.WithCredentialsProvider(cfg.Credentials))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("loading AWS configuration: %w", err)
	}
	return dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
	}), nil
}

// dialFailureIsFinal stops retries of a connection that could not be made:
// the endpoint is down or unreachable, and waiting seconds of backoff would
// only delay the answer to the user.
func dialFailureIsFinal(err error) aws.Ternary {
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return aws.FalseTernary
	}
	return aws.UnknownTernary
}

// orDefault returns v, or def when v is zero.
func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
