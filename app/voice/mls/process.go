package mls

import (
	"bytes"
	"crypto/hmac"
	"errors"
	"fmt"
	"slices"
)

// ProcessCommit applies a commit MLSMessage: another member's, or this
// member's own once the delivery service confirms it. On error the group is
// unchanged. ErrRemoved means the commit took this member out.
func (g *Group) ProcessCommit(msg []byte) error {
	for _, p := range g.pending {
		if bytes.Equal(msg, p.message) {
			*g = *p.next
			return nil
		}
	}
	m, err := parseMLSMessage(msg)
	if err != nil {
		return err
	}
	ac, err := g.authenticate(m)
	if err != nil {
		return err
	}
	if ac.content.contentType != contentCommit {
		return errors.New("message is not a commit")
	}
	if ac.content.sender.typ != senderMember {
		return fmt.Errorf("%w: commit from sender type %d", ErrUnsupported, ac.content.sender.typ)
	}
	committer := ac.content.sender.index
	if committer == g.me {
		return errors.New("commit claims to come from this member but is none of its pending commits")
	}
	props, err := g.resolveProposals(ac.content.commit, committer)
	if err != nil {
		return err
	}
	ap, err := g.applyProposals(props, committer)
	if err != nil {
		return err
	}
	if ap.removedMe {
		return ErrRemoved
	}
	path := ac.content.commit.path
	if ap.needPath && path == nil {
		return errors.New("commit lacks a required update path")
	}
	psk, err := pskSecret(ap.psks, g.lookupPSK)
	if err != nil {
		return err
	}
	next := g.clone()
	next.tree = ap.tree
	newCtx := g.ctx
	newCtx.epoch++
	newCtx.extensions = ap.extensions
	commitSecret := make([]byte, hashSize)
	if path != nil {
		res, err := next.tree.applyUpdatePath(committer, g.me, next.keys, path, &newCtx, ap.added)
		if err != nil {
			return err
		}
		commitSecret = res.commitSecret
		next.keys = res.keys
	} else {
		newCtx.treeHash = next.tree.rootHash()
	}
	next.keys.prune(next.tree)
	next.enterEpoch(ac, newCtx, g.secrets.initSecret, commitSecret, psk)
	want := mac(next.secrets.confirmationKey, next.ctx.confirmedTranscriptHash)
	if !hmac.Equal(want, ac.auth.confirmationTag) {
		return fmt.Errorf("commit: %w", errConfirmationTag)
	}
	next.interim = interimTranscriptHash(next.ctx.confirmedTranscriptHash, ac.auth.confirmationTag)
	*g = *next
	return nil
}

// resolveProposals turns a commit's proposal list into proposals with senders.
func (g *Group) resolveProposals(c *commit, committer uint32) ([]cachedProposal, error) {
	var out []cachedProposal
	for _, p := range c.proposals {
		if p.proposal != nil {
			if g.cfg.ExternalProposalsOnly {
				return nil, errors.New("commit carries an inline proposal")
			}
			s := sender{typ: senderMember, index: committer}
			if p.proposal.Type == proposalUpdate {
				return nil, errors.New("commit carries an inline update")
			}
			if err := g.checkProposal(p.proposal, s); err != nil {
				return nil, err
			}
			out = append(out, cachedProposal{proposal: p.proposal, sender: s})
			continue
		}
		i := slices.IndexFunc(g.proposals, func(c cachedProposal) bool { return bytes.Equal(c.ref, p.ref) })
		if i < 0 {
			return nil, ErrUnknownProposal
		}
		out = append(out, g.proposals[i])
	}
	return out, nil
}
