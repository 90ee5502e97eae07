// Package secretsmanagertest is a test double of AWS Secrets Manager on a
// loopback address, for tests of code that keeps secrets there. It speaks
// the service's JSON 1.1 protocol (X-Amz-Target: secretsmanager.<Operation>,
// Content-Type: application/x-amz-json-1.1), so the real SDK client talks
// to it (Client), for exactly CreateSecret, PutSecretValue, GetSecretValue
// and DeleteSecret (without recovery only), with AWS's error shapes
// (__type ResourceNotFoundException, ResourceExistsException,
// InvalidRequestException, EncryptionFailure).
//
// It is stricter than AWS where that catches mistakes: CreateSecret must
// name the KMS key the double was made with (AWS would fall back to its
// default key), and answers another key with EncryptionFailure, as AWS
// does for a key it cannot use. Like AWS, it refuses once to create a
// secret under a name whose secret was just deleted (InvalidRequestException:
// the deletion is asynchronous). It checks no signature, only that requests
// carry one. It owns nothing outside tests.
package secretsmanagertest

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// Region and account the double's ARNs name.
const (
	Region  = "eu-central-1"
	account = "111111111111"
)

// Secret is one stored secret.
type Secret struct {
	Name     string
	ARN      string
	KMSKeyID string
	Value    string // the current version's SecretString
	Version  string // the current version's id
}

// Request is what an interceptor sees of a request.
type Request struct {
	Op       string // "CreateSecret", ...
	SecretID string // Name of CreateSecret, SecretId of the others
}

// Error is an AWS error answer.
type Error struct {
	Type    string // __type: "ResourceNotFoundException", ...
	Message string
	Status  int // default 400
	// Applied makes the double carry the request out before answering with
	// the error: an answer lost on its way back.
	Applied bool
}

// Server is the double.
type Server struct {
	srv      *httptest.Server
	kmsKeyID string

	mu        sync.Mutex
	secrets   map[string]*Secret // by name
	deleted   map[string]bool    // names whose secret was just deleted
	intercept func(Request) *Error
	seq       int // numbers ARNs and versions
}

// New starts a double whose secrets must be encrypted with kmsKeyID, and
// stops it when the test ends.
func New(tb testing.TB, kmsKeyID string) *Server {
	tb.Helper()
	s := &Server{kmsKeyID: kmsKeyID, secrets: map[string]*Secret{}, deleted: map[string]bool{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.srv.Close)
	return s
}

// URL is the double's endpoint.
func (s *Server) URL() string { return s.srv.URL }

// Client returns the SDK's client pointed at the double, with placeholder
// credentials.
func (s *Server) Client() *secretsmanager.Client {
	return secretsmanager.New(secretsmanager.Options{
		BaseEndpoint: aws.String(s.srv.URL),
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider("test-key", "test-secret", ""),
		HTTPClient:   s.srv.Client(),
	})
}

// Intercept has fn see every request before the double handles it; a
// non-nil answer is sent instead of the operation's (after carrying it out,
// when Applied). fn may block, holding that request. nil removes it.
func (s *Server) Intercept(fn func(Request) *Error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.intercept = fn
}

// Secrets returns a copy of every stored secret, by name.
func (s *Server) Secrets() map[string]Secret {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]Secret, len(s.secrets))
	for name, sec := range s.secrets {
		out[name] = *sec
	}
	return out
}

// SetValue replaces a secret's value behind the store's back, as another
// writer would.
func (s *Server) SetValue(name, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sec, ok := s.secrets[name]; ok {
		sec.Value = value
	}
}

// Remove deletes a secret behind the store's back.
func (s *Server) Remove(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.secrets, name)
}

// request is the union of the fields the operations read.
type request struct {
	Name                       string
	SecretID                   string `json:"SecretId"`
	SecretString               *string
	KMSKeyID                   string `json:"KmsKeyId"`
	ClientRequestToken         string
	ForceDeleteWithoutRecovery bool
	Tags                       []json.RawMessage
}

const contentType = "application/x-amz-json-1.1"

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "secretsmanager.")
	switch {
	case r.Method != http.MethodPost || r.URL.Path != "/":
		writeError(w, &Error{Type: "UnknownOperationException", Message: "POST / only"})
		return
	case !ok:
		writeError(w, &Error{Type: "UnknownOperationException", Message: "no secretsmanager X-Amz-Target"})
		return
	case r.Header.Get("Content-Type") != contentType:
		writeError(w, &Error{Type: "SerializationException", Message: "Content-Type must be " + contentType})
		return
	case !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 "):
		writeError(w, &Error{Type: "MissingAuthenticationTokenException", Message: "the request is not signed", Status: http.StatusForbidden})
		return
	}
	var req request
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, &Error{Type: "SerializationException", Message: "the body is not JSON"})
		return
	}
	id := req.SecretID
	if op == "CreateSecret" {
		id = req.Name
	}
	s.mu.Lock()
	intercept := s.intercept
	s.mu.Unlock()
	var injected *Error
	if intercept != nil {
		injected = intercept(Request{Op: op, SecretID: id})
	}
	if injected != nil && !injected.Applied {
		writeError(w, injected)
		return
	}
	out, apiErr := s.apply(op, id, req)
	switch {
	case injected != nil:
		writeError(w, injected)
	case apiErr != nil:
		writeError(w, apiErr)
	default:
		w.Header().Set("Content-Type", contentType)
		_ = json.NewEncoder(w).Encode(out)
	}
}

// apply carries out one operation on the stored secrets.
func (s *Server) apply(op, id string, req request) (map[string]any, *Error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if op == "CreateSecret" {
		return s.create(req)
	}
	sec := s.find(id)
	if sec == nil && (op == "PutSecretValue" || op == "GetSecretValue" || op == "DeleteSecret") {
		return nil, &Error{Type: "ResourceNotFoundException", Message: "Secrets Manager can't find the specified secret."}
	}
	switch op {
	case "PutSecretValue":
		if req.SecretString == nil {
			return nil, &Error{Type: "InvalidRequestException", Message: "You must provide either SecretString or SecretBinary."}
		}
		if req.ClientRequestToken != "" && req.ClientRequestToken == sec.Version {
			if *req.SecretString != sec.Value {
				return nil, &Error{Type: "ResourceExistsException", Message: "A version with this ClientRequestToken already exists with other contents."}
			}
		} else {
			sec.Value, sec.Version = *req.SecretString, s.newVersion(req.ClientRequestToken)
		}
		return map[string]any{"ARN": sec.ARN, "Name": sec.Name, "VersionId": sec.Version, "VersionStages": []string{"AWSCURRENT"}}, nil
	case "GetSecretValue":
		return map[string]any{"ARN": sec.ARN, "Name": sec.Name, "SecretString": sec.Value, "VersionId": sec.Version, "VersionStages": []string{"AWSCURRENT"}}, nil
	case "DeleteSecret":
		if !req.ForceDeleteWithoutRecovery {
			return nil, &Error{Type: "InvalidRequestException", Message: "this double deletes only with ForceDeleteWithoutRecovery"}
		}
		delete(s.secrets, sec.Name)
		s.deleted[sec.Name] = true
		return map[string]any{"ARN": sec.ARN, "Name": sec.Name}, nil
	}
	return nil, &Error{Type: "UnknownOperationException", Message: fmt.Sprintf("this double does not serve %s", op)}
}

func (s *Server) create(req request) (map[string]any, *Error) {
	switch {
	case req.Name == "":
		return nil, &Error{Type: "InvalidParameterException", Message: "Name is required."}
	case req.SecretString == nil:
		return nil, &Error{Type: "InvalidRequestException", Message: "You must provide either SecretString or SecretBinary."}
	case req.KMSKeyID == "":
		return nil, &Error{Type: "InvalidRequestException", Message: "this double requires KmsKeyId on CreateSecret"}
	case req.KMSKeyID != s.kmsKeyID:
		return nil, &Error{Type: "EncryptionFailure", Message: "Secrets Manager can't encrypt the protected secret text using the provided KMS key."}
	case len(req.Tags) > 0:
		return nil, &Error{Type: "InvalidRequestException", Message: "this double takes no tags"}
	case s.secrets[req.Name] != nil:
		return nil, &Error{Type: "ResourceExistsException", Message: "The operation failed because the secret " + req.Name + " already exists."}
	case s.deleted[req.Name]:
		delete(s.deleted, req.Name) // the deletion completes
		return nil, &Error{Type: "InvalidRequestException", Message: "You can't create this secret because a secret with this name is already scheduled for deletion."}
	}
	sec := &Secret{
		Name:     req.Name,
		ARN:      fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-%06d", Region, account, req.Name, s.next()),
		KMSKeyID: req.KMSKeyID,
		Value:    *req.SecretString,
		Version:  s.newVersion(req.ClientRequestToken),
	}
	s.secrets[sec.Name] = sec
	return map[string]any{"ARN": sec.ARN, "Name": sec.Name, "VersionId": sec.Version}, nil
}

// find looks a secret up by name or ARN.
func (s *Server) find(id string) *Secret {
	if sec, ok := s.secrets[id]; ok {
		return sec
	}
	for sec := range maps.Values(s.secrets) {
		if sec.ARN == id {
			return sec
		}
	}
	return nil
}

func (s *Server) newVersion(token string) string {
	if token != "" {
		return token
	}
	return fmt.Sprintf("v%08d", s.next())
}

func (s *Server) next() int {
	s.seq++
	return s.seq
}

func writeError(w http.ResponseWriter, e *Error) {
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Amzn-ErrorType", e.Type)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.Type, "message": e.Message})
}
