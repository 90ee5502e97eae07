// Package lambdaurl runs an http.Handler behind an AWS Lambda Function URL:
// it turns a Function URL event (payload format 2.0) into an *http.Request
// and what the handler wrote into the event's response.
//
// It owns the translation only: the request's method, raw path, raw query
// string, headers, cookies (which Function URLs move out of the headers into
// their own field), source address and body (base64 or not), and on the way
// back the status, headers, Set-Cookie lines (the response's cookies field,
// since a Function URL response has one value per header) and body. It does
// not start the Lambda runtime nor build the handler; the command does.
package lambdaurl

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// Serve hands the event to h and returns h's answer as the event's response.
func Serve(ctx context.Context, h http.Handler, e events.LambdaFunctionURLRequest) (events.LambdaFunctionURLResponse, error) {
	r, err := Request(ctx, e)
	if err != nil {
		return events.LambdaFunctionURLResponse{}, err
	}
	w := &responseWriter{header: http.Header{}}
	h.ServeHTTP(w, r)
	return w.response(), nil
}

// Request builds the *http.Request an event describes.
func Request(ctx context.Context, e events.LambdaFunctionURLRequest) (*http.Request, error) {
	body := []byte(e.Body)
	if e.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(e.Body); err != nil {
			return nil, fmt.Errorf("decoding the request body: %w", err)
		}
	}
	host := e.Headers["host"]
	if host == "" {
		host = e.RequestContext.DomainName
	}
	path := e.RawPath
	if path == "" {
		path = "/"
	}
	u, err := url.Parse("https://" + host + path)
	if err != nil {
		return nil, fmt.Errorf("reading the request URL: %w", err)
	}
	u.RawQuery = e.RawQueryString
	r, err := http.NewRequestWithContext(ctx, e.RequestContext.HTTP.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("building the request: %w", err)
	}
	for k, v := range e.Headers {
		r.Header.Set(k, v)
	}
	if len(e.Cookies) > 0 {
		r.Header.Set("Cookie", strings.Join(e.Cookies, "; "))
	}
	r.Host = host
	r.RequestURI = u.RequestURI()
	r.RemoteAddr = net.JoinHostPort(e.RequestContext.HTTP.SourceIP, "0")
	return r, nil
}

// responseWriter keeps what the handler writes.
type responseWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *responseWriter) Header() http.Header { return w.header }

func (w *responseWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *responseWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(p)
}

// response is what the handler wrote. Headers with several values are
// joined with commas, as HTTP allows, except Set-Cookie, whose values go
// into the cookies field one by one. A body that is not UTF-8 travels in
// base64.
func (w *responseWriter) response() events.LambdaFunctionURLResponse {
	resp := events.LambdaFunctionURLResponse{StatusCode: w.status, Headers: map[string]string{}}
	if resp.StatusCode == 0 {
		resp.StatusCode = http.StatusOK
	}
	body := w.body.Bytes()
	if len(body) > 0 && w.header.Get("Content-Type") == "" {
		// As net/http's server does.
		w.header.Set("Content-Type", http.DetectContentType(body))
	}
	for k, vs := range w.header {
		if k == "Set-Cookie" {
			resp.Cookies = append(resp.Cookies, vs...)
			continue
		}
		resp.Headers[k] = strings.Join(vs, ", ")
	}
	if utf8.Valid(body) {
		resp.Body = string(body)
	} else {
		resp.Body = base64.StdEncoding.EncodeToString(body)
		resp.IsBase64Encoded = true
	}
	return resp
}
