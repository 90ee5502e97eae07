package awstokens

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/iddv/timmybot/app/account"
)

// secretValue is what a secret holds, as JSON: the tokens and the id of the
// write that stored them.
type secretValue struct {
	account.Token
	TokenID string `json:"token_id"`
}

// writeAttempts bounds the tries of a secret write that AWS refuses because
// a secret of that name was just deleted: it does so for a moment after
// a deletion, even one without recovery.
const writeAttempts = 5

// readSecret returns the secret's value; found is false when there is none.
func (s *Store) readSecret(ctx context.Context, name string) (v secretValue, found bool, err error) {
	out, err := s.secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
	if isNotFound(err) {
		return secretValue{}, false, nil
	}
	if err != nil {
		return secretValue{}, false, err
	}
	// The decoder's error is not wrapped: it could quote the value.
	if out.SecretString == nil || json.Unmarshal([]byte(*out.SecretString), &v) != nil {
		return secretValue{}, false, fmt.Errorf("the secret %s does not hold tokens as JSON", name)
	}
	return v, true, nil
}

// writeSecret stores v as the secret name: a new version of it, or a new
// secret encrypted with the store's key when there is none yet.
func (s *Store) writeSecret(ctx context.Context, name string, v secretValue) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding the tokens: %w", err)
	}
	value := string(raw)
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if err := wait(ctx, attempt); err != nil {
				return err
			}
		}
		err := s.putOrCreate(ctx, name, value)
		if !isInvalidRequest(err) || attempt == writeAttempts-1 {
			return err
		}
	}
}

func (s *Store) putOrCreate(ctx context.Context, name, value string) error {
	put := func() error {
		_, err := s.secrets.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String(value)})
		return err
	}
	if err := put(); !isNotFound(err) {
		return err
	}
	_, err := s.secrets.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name:         aws.String(name),
		KmsKeyId:     aws.String(s.kmsKeyID),
		SecretString: aws.String(value),
	})
	if isExists(err) {
		// Another writer created it first; the record says whose value wins.
		return put()
	}
	return err
}

// deleteSecret deletes the secret name at once, without a recovery window;
// a secret that is not there is already deleted.
func (s *Store) deleteSecret(ctx context.Context, name string) error {
	_, err := s.secrets.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(name), ForceDeleteWithoutRecovery: aws.Bool(true)})
	if isNotFound(err) {
		return nil
	}
	return err
}

func isNotFound(err error) bool {
	var e *types.ResourceNotFoundException
	return errors.As(err, &e)
}

func isExists(err error) bool {
	var e *types.ResourceExistsException
	return errors.As(err, &e)
}

func isInvalidRequest(err error) bool {
	var e *types.InvalidRequestException
	return errors.As(err, &e)
}
