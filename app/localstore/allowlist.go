package localstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/iddv/timmybot/app/music"
	bolt "go.etcd.io/bbolt"
)

// guildRecord is a guild's allowlist state: approved, requesting,
// declined, or none of them (no record).
type guildRecord struct {
	Approval *music.Approval      `json:",omitempty"`
	Request  *music.AccessRequest `json:",omitempty"`
	Decline  *music.Decline       `json:",omitempty"`
}

func (s *Store) guildRecord(tx *bolt.Tx, guild music.GuildID) (guildRecord, error) {
	var r guildRecord
	_, err := getJSON(tx.Bucket(bucketAllowlist), []byte(guild), &r)
	return r, err
}

// IsApproved implements music.AllowlistStore.
func (s *Store) IsApproved(_ context.Context, guild music.GuildID) (bool, error) {
	if err := guild.Validate(); err != nil {
		return false, err
	}
	var ok bool
	err := s.view("reading the allowlist", func(tx *bolt.Tx) error {
		r, err := s.guildRecord(tx, guild)
		ok = r.Approval != nil
		return err
	})
	return ok, err
}

// Approve implements music.AllowlistStore. A guild approved already keeps
// its first approval.
func (s *Store) Approve(_ context.Context, a music.Approval) error {
	if err := a.Guild.Validate(); err != nil {
		return err
	}
	if err := a.ApprovedBy.Validate(); err != nil {
		return err
	}
	a.ApprovedAt = a.ApprovedAt.UTC()
	return s.update("approving", func(tx *bolt.Tx) error {
		r, err := s.guildRecord(tx, a.Guild)
		if err != nil || r.Approval != nil {
			return err
		}
		return putJSON(tx.Bucket(bucketAllowlist), []byte(a.Guild), guildRecord{Approval: &a})
	})
}

// Revoke implements music.AllowlistStore.
func (s *Store) Revoke(_ context.Context, guild music.GuildID) error {
	if err := guild.Validate(); err != nil {
		return err
	}
	return s.update("revoking", func(tx *bolt.Tx) error {
		r, err := s.guildRecord(tx, guild)
		if err != nil {
			return err
		}
		if r.Approval == nil {
			return music.NotApproved()
		}
		return tx.Bucket(bucketAllowlist).Delete([]byte(guild))
	})
}

// RequestAccess implements music.AllowlistStore. The read and the write of
// the request share one transaction, so concurrent asks are all recorded.
func (s *Store) RequestAccess(_ context.Context, ask music.Ask) (music.Asked, error) {
	if err := ask.Validate(); err != nil {
		return music.Asked{}, err
	}
	var asked music.Asked
	err := s.update("requesting access", func(tx *bolt.Tx) error {
		r, err := s.guildRecord(tx, ask.Guild)
		if err != nil {
			return err
		}
		if r.Approval != nil {
			return music.AlreadyApproved()
		}
		var pending music.AccessRequest
		if r.Request != nil {
			pending = *r.Request
		}
		asked, err = pending.AddAsk(ask)
		if err != nil {
			return err
		}
		return putJSON(tx.Bucket(bucketAllowlist), []byte(ask.Guild), guildRecord{Request: &asked.Request})
	})
	if err != nil {
		return music.Asked{}, err
	}
	return asked, nil
}

// Decline implements music.AllowlistStore.
func (s *Store) Decline(_ context.Context, d music.Decline) error {
	if err := d.Validate(); err != nil {
		return err
	}
	d.DeclinedAt = d.DeclinedAt.UTC()
	return s.update("declining", func(tx *bolt.Tx) error {
		r, err := s.guildRecord(tx, d.Guild)
		if err != nil {
			return err
		}
		if r.Request == nil {
			return music.NoRequest()
		}
		return putJSON(tx.Bucket(bucketAllowlist), []byte(d.Guild), guildRecord{Decline: &d})
	})
}

// Access implements music.AllowlistStore.
func (s *Store) Access(_ context.Context, guild music.GuildID) (music.GuildAccess, error) {
	if err := guild.Validate(); err != nil {
		return music.GuildAccess{}, err
	}
	var r guildRecord
	err := s.view("reading the allowlist", func(tx *bolt.Tx) error {
		var err error
		r, err = s.guildRecord(tx, guild)
		return err
	})
	return music.GuildAccess{Approval: r.Approval, Request: r.Request, Decline: r.Decline}, err
}

// Approved implements music.AllowlistStore.
func (s *Store) Approved(context.Context) ([]music.Approval, error) {
	var out []music.Approval
	err := s.eachGuild("listing approved servers", func(r guildRecord) {
		if r.Approval != nil {
			out = append(out, *r.Approval)
		}
	})
	slices.SortFunc(out, music.CompareApprovals)
	return out, err
}

// Requests implements music.AllowlistStore.
func (s *Store) Requests(context.Context) ([]music.AccessRequest, error) {
	var out []music.AccessRequest
	err := s.eachGuild("listing access requests", func(r guildRecord) {
		if r.Request != nil {
			out = append(out, *r.Request)
		}
	})
	slices.SortFunc(out, music.CompareRequests)
	return out, err
}

func (s *Store) eachGuild(what string, fn func(guildRecord)) error {
	return s.view(what, func(tx *bolt.Tx) error {
		return forEachGuild(tx, func(_ []byte, r guildRecord) { fn(r) })
	})
}

// forEachGuild calls fn with every guild's key and record. fn must not
// write to the allowlist: bbolt forbids changing a bucket while ForEach
// walks it.
func forEachGuild(tx *bolt.Tx, fn func(key []byte, r guildRecord)) error {
	return tx.Bucket(bucketAllowlist).ForEach(func(k, v []byte) error {
		var r guildRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("decoding %q: %w", k, err)
		}
		fn(k, r)
		return nil
	})
}

// ForgetAsker implements music.AllowlistStore, in one transaction.
func (s *Store) ForgetAsker(_ context.Context, user music.UserID) (int, error) {
	if err := user.Validate(); err != nil {
		return 0, err
	}
	changed := 0
	err := s.update("forgetting an asker", func(tx *bolt.Tx) error {
		// The changes wait for the walk's end (see forEachGuild).
		kept := map[string]music.AccessRequest{}
		var abandoned []string
		err := forEachGuild(tx, func(k []byte, r guildRecord) {
			if r.Request == nil {
				return
			}
			if req, ok := r.Request.WithoutAsker(user); ok && req.Abandoned() {
				abandoned = append(abandoned, string(k))
			} else if ok {
				kept[string(k)] = req
			}
		})
		if err != nil {
			return err
		}
		b := tx.Bucket(bucketAllowlist)
		for k, req := range kept {
			if err := putJSON(b, []byte(k), guildRecord{Request: &req}); err != nil {
				return err
			}
		}
		for _, k := range abandoned {
			if err := b.Delete([]byte(k)); err != nil {
				return err
			}
		}
		changed = len(kept) + len(abandoned)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return changed, nil
}
