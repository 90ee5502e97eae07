package dynamotest

import (
	"fmt"
	"testing"
)

// recorder notes how a test would have ended instead of ending it.
type recorder struct {
	testing.TB
	ended string
}

func (r *recorder) Helper()           {}
func (r *recorder) Fatal(args ...any) { r.ended = fmt.Sprint(args...) }
func (r *recorder) Skip(args ...any)  { r.ended = fmt.Sprint(args...) }

func TestEndpoint(t *testing.T) {
	tests := []struct {
		name, env, want, wantEnded string
	}{
		{"set", "http://127.0.0.1:8000", "http://127.0.0.1:8000", ""},
		{"unset", "", "", "DynamoDB unavailable: DYNAMODB_ENDPOINT is not set; run the tests with make unit, or under go run ./test/cmd/dynamodblocal, or set it to a server of your own"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvEndpoint, tt.env)
			t.Setenv("CI", "true") // ends with Fatal: no skip line is written
			r := &recorder{TB: t}
			if got := Endpoint(r); got != tt.want {
				t.Errorf("Endpoint = %q, want %q", got, tt.want)
			}
			if r.ended != tt.wantEnded {
				t.Errorf("the test ended with %q, want %q", r.ended, tt.wantEnded)
			}
		})
	}
}
