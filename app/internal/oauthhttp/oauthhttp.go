// Package oauthhttp sends the requests of an OAuth 2.0 client (code
// exchanges, refreshes, revocations, user info) and reads their JSON
// answers, keeping secrets out of its errors: they name the endpoint's
// host and path and the provider's error code, never a query, a body or a
// header. It owns no client, endpoint or credentials.
package oauthhttp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/iddv/timmybot/app/music"
)

// Timeout bounds one request, answer included.
const Timeout = 10 * time.Second

// maxAnswer bounds what is read of an answer.
const maxAnswer = 1 << 20

// StatusError is an answer other than 200 OK: its status and the OAuth
// error code it carried ("invalid_grant", say; "" when none).
type StatusError struct {
	Endpoint, Status, Code string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s answered %s (%q)", e.Endpoint, e.Status, e.Code)
}

// Do sends req with client within Timeout and decodes a 200 answer's JSON
// into into (nil: the body is not read as JSON). Any other status is a
// *StatusError.
func Do(client *http.Client, req *http.Request, into any) error {
	ctx, cancel := context.WithTimeout(req.Context(), Timeout)
	defer cancel()
	resp, err := client.Do(req.WithContext(ctx))
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // its URL may carry a query
		}
		return fmt.Errorf("%s %s%s: %w", req.Method, req.URL.Host, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("reading the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(body, &e)
		return &StatusError{Endpoint: req.URL.Host + req.URL.Path, Status: resp.Status, Code: music.Truncate(e.Error, 60)}
	}
	if into == nil {
		return nil
	}
	if err := json.Unmarshal(body, into); err != nil {
		return fmt.Errorf("decoding the answer: %w", err)
	}
	return nil
}
