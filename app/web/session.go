package web

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/iddv/timmybot/app/music"
)

const (
	cookieName = "timmybot_session"
	// sessionLifetime is how long a session lasts, signed in or not.
	sessionLifetime = 12 * time.Hour
	// flowLifetime is how long a sign-in may take at Discord.
	flowLifetime = 10 * time.Minute
	// MinSecretLen is the shortest secret New accepts.
	MinSecretLen = 32
)

// session is what the cookie carries.
type session struct {
	// ID is random; it binds the CSRF token and the OAuth state.
	ID      string    `json:"i"`
	Expires time.Time `json:"e"`
	User    *member   `json:"u,omitempty"`
	Flow    *flow     `json:"f,omitempty"`
}

// member is the signed-in Discord user.
type member struct {
	ID   music.UserID `json:"i"`
	Name string       `json:"n"`
	// Token is the user's Discord access token (scopes identify, guilds);
	// the cookie is encrypted, so it never leaves the server readable.
	Token string `json:"t"`
}

// flow is a sign-in under way.
type flow struct {
	State    string    `json:"s"`
	Verifier string    `json:"v"`
	Expires  time.Time `json:"e"`
}

// sealer seals sessions into cookie values and derives CSRF tokens.
type sealer struct {
	aead    cipher.AEAD
	csrfKey []byte
	secure  bool
}

func newSealer(secret []byte, secure bool) (*sealer, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("the web secret must have at least %d bytes", MinSecretLen)
	}
	cookieKey, err := hkdf.Key(sha256.New, secret, nil, "timmybot web session cookie", 32)
	if err != nil {
		return nil, fmt.Errorf("deriving the cookie key: %w", err)
	}
	csrfKey, err := hkdf.Key(sha256.New, secret, nil, "timmybot web csrf", 32)
	if err != nil {
		return nil, fmt.Errorf("deriving the csrf key: %w", err)
	}
	block, err := aes.NewCipher(cookieKey)
	if err != nil {
		return nil, fmt.Errorf("building the cookie cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("building the cookie cipher: %w", err)
	}
	return &sealer{aead: aead, csrfKey: csrfKey, secure: secure}, nil
}

// read returns the request's session, or ok false when it has none that
// is intact and unexpired.
func (s *sealer) read(r *http.Request, now time.Time) (session, bool) {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return session{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || len(raw) < s.aead.NonceSize() {
		return session{}, false
	}
	nonce, sealed := raw[:s.aead.NonceSize()], raw[s.aead.NonceSize():]
	plain, err := s.aead.Open(nil, nonce, sealed, []byte(cookieName))
	if err != nil {
		return session{}, false
	}
	var sess session
	if json.Unmarshal(plain, &sess) != nil || sess.ID == "" || !now.Before(sess.Expires) {
		return session{}, false
	}
	return sess, true
}

// write sets the cookie that carries sess.
func (s *sealer) write(w http.ResponseWriter, sess session, now time.Time) error {
	plain, err := json.Marshal(sess)
	if err != nil {
		return fmt.Errorf("encoding the session: %w", err)
	}
	nonce := make([]byte, s.aead.NonceSize())
	rand.Read(nonce)
	value := base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, plain, []byte(cookieName)))
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: value, Path: "/",
		Expires: sess.Expires, MaxAge: int(sess.Expires.Sub(now).Seconds()),
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode,
	})
	return nil
}

// csrf is the token every form of sess carries.
func (s *sealer) csrf(sess session) string {
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte(sess.ID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkCSRF reports whether token is sess's.
func (s *sealer) checkCSRF(sess session, token string) bool {
	return token != "" && hmac.Equal([]byte(token), []byte(s.csrf(sess)))
}

// randomToken returns n random bytes, base64url without padding.
func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func newSession(now time.Time) session {
	return session{ID: randomToken(18), Expires: now.Add(sessionLifetime)}
}

// LoadOrCreateKey returns the secret in the file at path, creating it with
// 32 random bytes and mode 0600 when it does not exist.
func LoadOrCreateKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if err == nil {
		if len(key) < MinSecretLen {
			return nil, fmt.Errorf("%s holds %d bytes, want at least %d: delete it to have a new one made", path, len(key), MinSecretLen)
		}
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("reading the web key: %w", err)
	}
	key = make([]byte, MinSecretLen)
	rand.Read(key)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating the web key's directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("creating the web key: %w", err)
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		return nil, fmt.Errorf("writing the web key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("writing the web key: %w", err)
	}
	return key, nil
}

// SignedIn returns the Discord user signed in to the front in the
// request's browser, for other handlers on the same server (the account
// link callback) that must know who is at the keyboard.
func (h *Handler) SignedIn(r *http.Request) (music.UserID, bool) {
	sess, ok := h.cookies.read(r, h.cfg.Now())
	if !ok || sess.User == nil {
		return "", false
	}
	return sess.User.ID, true
}
