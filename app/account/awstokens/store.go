package awstokens

import (
	"context"
	"fmt"

	"github.com/iddv/timmybot/app/account"
	"github.com/iddv/timmybot/app/music"
)

// Save implements account.TokenStore.
func (s *Store) Save(ctx context.Context, link account.Link, tok account.Token) error {
	if err := checkKey(link.User, link.Service); err != nil {
		return err
	}
	return s.writeTokens(ctx, link.User, link.Service, "saving the link", tok, func(Record) (Record, error) {
		return Record{Link: link}, nil
	})
}

// UpdateToken implements account.TokenStore.
func (s *Store) UpdateToken(ctx context.Context, user music.UserID, service account.Service, prevRefresh string, tok account.Token) error {
	if err := checkKey(user, service); err != nil {
		return err
	}
	want := fingerprint(prevRefresh)
	return s.writeTokens(ctx, user, service, "updating the tokens", tok, func(cur Record) (Record, error) {
		if cur.Version == 0 {
			return Record{}, notLinked(service)
		}
		if cur.Fingerprint != want {
			return Record{}, account.ErrTokenChanged
		}
		cur.Link.Broken = false
		return cur, nil
	})
}

// writeTokens commits the record that edit makes of the current one, with
// tok's fingerprint and a new token id, then writes tok to the secret; a
// failed secret write is undone (see the package doc).
func (s *Store) writeTokens(ctx context.Context, user music.UserID, service account.Service, what string, tok account.Token, edit func(Record) (Record, error)) error {
	return s.onRecord(ctx, user, service, what, conflictAttempts, func(_ int, cur Record) (bool, error) {
		next, err := edit(cur)
		if err != nil {
			return false, err
		}
		next.Fingerprint = fingerprint(tok.RefreshToken)
		next.TokenID = newTokenID()
		next.TokenAt = s.now().UTC()
		next.Version = cur.Version + 1
		stored, err := s.index.PutLinkRecord(ctx, next)
		if err != nil || !stored {
			return false, wrapIndex(what, err)
		}
		name := s.SecretName(user, service)
		if err := s.writeSecret(ctx, name, secretValue{Token: tok, TokenID: next.TokenID}); err != nil && !s.undo(ctx, cur, next) {
			return false, fail(what+": writing the secret "+name, err)
		}
		return true, nil
	})
}

// undo follows a failed secret write of next, which replaced prev: it
// reports whether the write landed after all, and when it did not, puts
// prev back (deletes next, when there was no prev). When the secret cannot
// be read, the record stays ahead of it, for Load to judge.
func (s *Store) undo(ctx context.Context, prev, next Record) (landed bool) {
	ctx, cancel := cleanupContext(ctx)
	defer cancel()
	user, service := next.Link.User, next.Link.Service
	v, found, err := s.readSecret(ctx, s.SecretName(user, service))
	switch {
	case err != nil:
		return false
	case found && v.TokenID == next.TokenID:
		return true
	case prev.Version == 0 && !found:
		// Best effort, as the conditional writes below: failing, they
		// leave the record ahead of its secret.
		_, _ = s.index.DeleteLinkRecord(ctx, user, service, next.Version)
	case prev.Version > 0:
		prev.Version = next.Version + 1
		_, _ = s.index.PutLinkRecord(ctx, prev)
	}
	return false
}

// Load implements account.TokenStore.
func (s *Store) Load(ctx context.Context, user music.UserID, service account.Service) (account.Link, account.Token, error) {
	if err := checkKey(user, service); err != nil {
		return account.Link{}, account.Token{}, err
	}
	name := s.SecretName(user, service)
	var link account.Link
	var tok account.Token
	err := s.onRecord(ctx, user, service, "reading the link", readAttempts, func(attempt int, rec Record) (bool, error) {
		if rec.Version == 0 {
			return false, notLinked(service)
		}
		v, found, err := s.readSecret(ctx, name)
		if err != nil {
			return false, fail("reading the secret "+name, err)
		}
		switch {
		case found && v.TokenID == rec.TokenID:
			link, tok = rec.Link, v.Token
		case attempt < readAttempts-1:
			return false, nil // between the two writes of a change
		case s.now().Sub(rec.TokenAt) < settleTime:
			return false, music.Errorf(music.ECONFLICT, "Your %s account's tokens are being updated; try again in a moment.", service.Title())
		default:
			// The writer died between its writes: its tokens are lost.
			link, tok = rec.Link, v.Token
			link.Broken = true
		}
		return true, nil
	})
	if err != nil {
		return account.Link{}, account.Token{}, err
	}
	return link, tok, nil
}

// Links implements account.TokenStore.
func (s *Store) Links(ctx context.Context, user music.UserID) ([]account.Link, error) {
	if err := user.Validate(); err != nil {
		return nil, err
	}
	recs, err := s.index.LinkRecords(ctx, user)
	if err != nil {
		return nil, wrapIndex("listing links", err)
	}
	var links []account.Link
	for _, r := range recs {
		links = append(links, r.Link)
	}
	return links, nil
}

// MarkBroken implements account.TokenStore.
func (s *Store) MarkBroken(ctx context.Context, user music.UserID, service account.Service) (bool, error) {
	if err := checkKey(user, service); err != nil {
		return false, err
	}
	changed := false
	err := s.onRecord(ctx, user, service, "marking the link broken", conflictAttempts, func(_ int, rec Record) (bool, error) {
		if rec.Version == 0 {
			return false, notLinked(service)
		}
		if rec.Link.Broken {
			return true, nil
		}
		rec.Link.Broken = true
		rec.Version++
		stored, err := s.index.PutLinkRecord(ctx, rec)
		if err != nil || !stored {
			return false, wrapIndex("marking the link broken", err)
		}
		changed = true
		return true, nil
	})
	return changed, err
}

// Delete implements account.TokenStore.
func (s *Store) Delete(ctx context.Context, user music.UserID, service account.Service) error {
	if err := checkKey(user, service); err != nil {
		return err
	}
	found, err := s.remove(ctx, user, service)
	if err == nil && !found {
		return notLinked(service)
	}
	return err
}

// DeleteAll implements account.TokenStore.
func (s *Store) DeleteAll(ctx context.Context, user music.UserID) ([]account.Link, error) {
	if err := user.Validate(); err != nil {
		return nil, err
	}
	recs, err := s.index.LinkRecords(ctx, user)
	if err != nil {
		return nil, wrapIndex("deleting the links", err)
	}
	var gone []account.Link
	for _, r := range recs {
		found, err := s.remove(ctx, user, r.Link.Service)
		if err != nil {
			return gone, err
		}
		if found {
			gone = append(gone, r.Link)
		}
	}
	return gone, nil
}

// remove deletes the link's secret, then its record; found is false when
// there was no record to begin with.
func (s *Store) remove(ctx context.Context, user music.UserID, service account.Service) (found bool, err error) {
	name := s.SecretName(user, service)
	err = s.onRecord(ctx, user, service, "deleting the link", conflictAttempts, func(attempt int, rec Record) (bool, error) {
		if rec.Version == 0 {
			// Gone on a second try: another delete finished it.
			found = attempt > 0
			return true, nil
		}
		if err := s.deleteSecret(ctx, name); err != nil {
			return false, fail("deleting the secret "+name, err)
		}
		deleted, err := s.index.DeleteLinkRecord(ctx, user, service, rec.Version)
		if err != nil || !deleted {
			return false, wrapIndex("deleting the link", err)
		}
		found = true
		return true, nil
	})
	return found, err
}

// wrapIndex adds what was being done to an error of the index.
func wrapIndex(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("awstokens: %s: %w", what, err)
}
