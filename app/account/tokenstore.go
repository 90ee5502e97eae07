package account

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/iddv/timmybot/app/music"
	bolt "go.etcd.io/bbolt"
)

// KeyLen is the length of the key that seals tokens (AES-256).
const KeyLen = 32

// Bucket names and the key-check record.
var (
	bucketLinks = []byte("links")
	bucketMeta  = []byte("meta")
	keyCheck    = []byte("key-check")
)

// keyCheckPlain is sealed once with the key; opening the file with another
// key fails on it, before any token is read.
const keyCheckPlain = "timmybot token key check"

// ErrWrongKey means the file's tokens were sealed with another key.
var ErrWrongKey = errors.New("the token key does not match the key these tokens were sealed with")

// LocalTokens is a TokenStore in its own bbolt file. Each record is the link
// in the clear and its tokens sealed with AES-256-GCM, the record's key
// (user/service) as additional data, so a sealed token moved to another
// user's record does not open. It is safe for concurrent use.
type LocalTokens struct {
	db   *bolt.DB
	aead cipher.AEAD
}

var _ TokenStore = (*LocalTokens)(nil)

// record is what one link's value holds.
type record struct {
	Link   Link   `json:"link"`
	Sealed []byte `json:"sealed"` // nonce || AES-GCM(Token as JSON)
}

// OpenLocalTokens opens (creating if needed) the token file at path with a
// KeyLen-byte key. A key other than the one the file was made with is
// refused with ErrWrongKey.
func OpenLocalTokens(path string, key []byte) (*LocalTokens, error) {
	if len(key) != KeyLen {
		return nil, fmt.Errorf("the token key must be %d bytes, got %d", KeyLen, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("building the token cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("building the token cipher: %w", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("opening the token file %s: %w", path, err)
	}
	s := &LocalTokens{db: db, aead: aead}
	if err := db.Update(s.checkKey); err != nil {
		return nil, errors.Join(fmt.Errorf("opening the token file %s: %w", path, err), db.Close())
	}
	return s, nil
}

// checkKey creates the buckets and the key-check record, or opens the
// record to prove the key is the file's.
func (s *LocalTokens) checkKey(tx *bolt.Tx) error {
	if _, err := tx.CreateBucketIfNotExists(bucketLinks); err != nil {
		return err
	}
	meta, err := tx.CreateBucketIfNotExists(bucketMeta)
	if err != nil {
		return err
	}
	if sealed := meta.Get(keyCheck); sealed != nil {
		plain, err := s.open(sealed, keyCheck)
		if err != nil || string(plain) != keyCheckPlain {
			return ErrWrongKey
		}
		return nil
	}
	return meta.Put(keyCheck, s.seal([]byte(keyCheckPlain), keyCheck))
}

// Close closes the file.
func (s *LocalTokens) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("closing the token file: %w", err)
	}
	return nil
}

func (s *LocalTokens) seal(plain, aad []byte) []byte {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, plain, aad)
}

func (s *LocalTokens) open(sealed, aad []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return nil, ErrWrongKey
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], aad)
	if err != nil {
		return nil, ErrWrongKey
	}
	return plain, nil
}

func recordKey(user music.UserID, service Service) []byte {
	return []byte(string(user) + "/" + string(service))
}

// Save implements TokenStore.
func (s *LocalTokens) Save(_ context.Context, link Link, tok Token) error {
	if err := checkKey(link.User, link.Service); err != nil {
		return err
	}
	plain, err := json.Marshal(tok)
	if err != nil {
		return fmt.Errorf("encoding the token: %w", err)
	}
	key := recordKey(link.User, link.Service)
	raw, err := json.Marshal(record{Link: link, Sealed: s.seal(plain, key)})
	if err != nil {
		return fmt.Errorf("encoding the link: %w", err)
	}
	if err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketLinks).Put(key, raw) }); err != nil {
		return fmt.Errorf("saving the link: %w", err)
	}
	return nil
}

// Load implements TokenStore.
func (s *LocalTokens) Load(_ context.Context, user music.UserID, service Service) (Link, Token, error) {
	if err := checkKey(user, service); err != nil {
		return Link{}, Token{}, err
	}
	key := recordKey(user, service)
	var rec record
	found := false
	err := s.db.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bucketLinks).Get(key)
		if raw == nil {
			return nil
		}
		found = true
		return json.Unmarshal(raw, &rec)
	})
	if err != nil {
		return Link{}, Token{}, fmt.Errorf("reading the link: %w", err)
	}
	if !found {
		return Link{}, Token{}, notLinked(service)
	}
	tok, err := s.token(&rec, key)
	if err != nil {
		return Link{}, Token{}, err
	}
	return rec.Link, tok, nil
}

// Links implements TokenStore.
func (s *LocalTokens) Links(_ context.Context, user music.UserID) ([]Link, error) {
	if err := user.Validate(); err != nil {
		return nil, err
	}
	var links []Link
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		links, err = userLinks(tx.Bucket(bucketLinks), user)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listing links: %w", err)
	}
	return links, nil
}

// userLinks reads the user's links in service order.
func userLinks(b *bolt.Bucket, user music.UserID) ([]Link, error) {
	var links []Link
	for _, service := range Services {
		raw := b.Get(recordKey(user, service))
		if raw == nil {
			continue
		}
		var rec record
		if err := json.Unmarshal(raw, &rec); err != nil {
			return nil, fmt.Errorf("decoding the %s link: %w", service, err)
		}
		links = append(links, rec.Link)
	}
	return links, nil
}

// Delete implements TokenStore.
func (s *LocalTokens) Delete(_ context.Context, user music.UserID, service Service) error {
	if err := checkKey(user, service); err != nil {
		return err
	}
	key := recordKey(user, service)
	found := false
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLinks)
		found = b.Get(key) != nil
		return b.Delete(key)
	})
	if err != nil {
		return fmt.Errorf("deleting the link: %w", err)
	}
	if !found {
		return notLinked(service)
	}
	return nil
}

// DeleteAll implements TokenStore.
func (s *LocalTokens) DeleteAll(_ context.Context, user music.UserID) ([]Link, error) {
	if err := user.Validate(); err != nil {
		return nil, err
	}
	var links []Link
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLinks)
		var err error
		if links, err = userLinks(b, user); err != nil {
			return err
		}
		for _, l := range links {
			if err := b.Delete(recordKey(user, l.Service)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("deleting the links: %w", err)
	}
	return links, nil
}

// UpdateToken implements TokenStore.
func (s *LocalTokens) UpdateToken(_ context.Context, user music.UserID, service Service, prevRefresh string, tok Token) error {
	if err := checkKey(user, service); err != nil {
		return err
	}
	plain, err := json.Marshal(tok)
	if err != nil {
		return fmt.Errorf("encoding the token: %w", err)
	}
	key := recordKey(user, service)
	return s.change(key, service, func(rec *record) error {
		current, err := s.token(rec, key)
		if err != nil {
			return err
		}
		if current.RefreshToken != prevRefresh {
			return ErrTokenChanged
		}
		rec.Sealed = s.seal(plain, key)
		rec.Link.Broken = false
		return nil
	})
}

// MarkBroken implements TokenStore.
func (s *LocalTokens) MarkBroken(_ context.Context, user music.UserID, service Service) (bool, error) {
	if err := checkKey(user, service); err != nil {
		return false, err
	}
	changed := false
	err := s.change(recordKey(user, service), service, func(rec *record) error {
		changed = !rec.Link.Broken
		rec.Link.Broken = true
		return nil
	})
	return changed, err
}

// change applies edit to the record at key in one transaction: a failed
// edit writes nothing.
func (s *LocalTokens) change(key []byte, service Service, edit func(*record) error) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLinks)
		raw := b.Get(key)
		if raw == nil {
			return notLinked(service)
		}
		var rec record
		if err := json.Unmarshal(raw, &rec); err != nil {
			return fmt.Errorf("decoding the link: %w", err)
		}
		if err := edit(&rec); err != nil {
			return err
		}
		raw, err := json.Marshal(rec)
		if err != nil {
			return fmt.Errorf("encoding the link: %w", err)
		}
		return b.Put(key, raw)
	})
	var merr *music.Error
	if errors.As(err, &merr) {
		return err
	}
	if err != nil {
		return fmt.Errorf("updating the link: %w", err)
	}
	return nil
}

// token opens a record's sealed tokens.
func (s *LocalTokens) token(rec *record, key []byte) (Token, error) {
	plain, err := s.open(rec.Sealed, key)
	if err != nil {
		return Token{}, fmt.Errorf("opening the token: %w", err)
	}
	var tok Token
	if err := json.Unmarshal(plain, &tok); err != nil {
		return Token{}, fmt.Errorf("decoding the token: %w", err)
	}
	return tok, nil
}
