package mls

import (
	"bytes"
	"crypto/hmac"
	"errors"
	"fmt"
	"slices"
)

// JoinGroup joins from a bare Welcome for the bundle's key package. tree is the
// ratchet tree when the Welcome does not carry it, else nil.
func JoinGroup(welcomeMsg []byte, b *KeyPackageBundle, tree []byte, cfg Config) (*Group, error) {
	if len(welcomeMsg) > maxMessageSize {
		return nil, errTooLarge
	}
	w := new(welcome)
	if err := decode(welcomeMsg, "welcome", w.unmarshal); err != nil {
		return nil, err
	}
	return joinFromWelcome(w, b, tree, cfg)
}

func joinFromWelcome(w *welcome, b *KeyPackageBundle, treeBytes []byte, cfg Config) (*Group, error) {
	gs, err := openGroupSecrets(w, b.KeyPackage.Ref(), b.initKey)
	if err != nil {
		return nil, err
	}
	// A joiner holds no resumption secrets of the group, only external PSKs.
	psk, err := pskSecret(gs.psks, (&Group{cfg: cfg}).lookupPSK)
	if err != nil {
		return nil, err
	}
	gi, err := openGroupInfo(w, gs.joinerSecret, psk)
	if err != nil {
		return nil, err
	}
	if ext, ok := findExtension(gi.extensions, extRatchetTree); ok {
		treeBytes = ext.Data
	}
	if treeBytes == nil {
		return nil, errNoTree
	}
	tree, err := parseRatchetTree(treeBytes)
	if err != nil {
		return nil, err
	}
	signer := tree.leaf(gi.signer)
	if signer == nil {
		return nil, fmt.Errorf("%w: group info signer %d", ErrUnknownSender, gi.signer)
	}
	if err := gi.verify(signer.SignatureKey); err != nil {
		return nil, err
	}
	if !bytes.Equal(tree.rootHash(), gi.context.treeHash) {
		return nil, errTreeHash
	}
	if err := tree.validate(gi.context.groupID, gi.context.extensions); err != nil {
		return nil, err
	}
	if _, err := externalSenders(gi.context.extensions); err != nil {
		return nil, err
	}
	me, ok := tree.findLeaf(func(l *LeafNode) bool { return l.equal(&b.KeyPackage.LeafNode) })
	if !ok {
		return nil, errors.New("welcome's tree does not hold this key package's leaf")
	}
	ctxBytes := gi.context.bytes()
	g := &Group{
		cfg:     cfg,
		ctx:     gi.context,
		tree:    tree,
		me:      me,
		sigKey:  b.sigKey,
		keys:    nodeKeys{leafNode(me): b.leafKey},
		secrets: fromJoiner(gs.joinerSecret, psk, ctxBytes),
	}
	g.rememberResumption()
	if err := g.checkLeaves(tree); err != nil {
		return nil, err
	}
	if !hmac.Equal(mac(g.secrets.confirmationKey, gi.context.confirmedTranscriptHash), gi.confirmationTag) {
		return nil, fmt.Errorf("welcome: %w", errConfirmationTag)
	}
	if gs.pathSecret != nil {
		if err := g.installPathSecret(gi.signer, gs.pathSecret); err != nil {
			return nil, err
		}
	}
	g.interim = interimTranscriptHash(gi.context.confirmedTranscriptHash, gi.confirmationTag)
	return g, nil
}

// installPathSecret derives the keys from the common ancestor with the
// committer up its filtered direct path and checks them against the tree.
func (g *Group) installPathSecret(committer uint32, secret []byte) error {
	lca := commonAncestor(leafNode(g.me), leafNode(committer))
	fdp := g.tree.filteredDirectPath(committer)
	k := slices.Index(fdp, lca)
	if k < 0 {
		return errors.New("path secret for a node off the committer's path")
	}
	chain := pathSecretChain(secret, len(fdp)-k)
	for i, p := range fdp[k:] {
		priv, err := nodeKeyFromPathSecret(chain[i])
		if err != nil {
			return err
		}
		if !bytes.Equal(priv.PublicKey().Bytes(), g.tree.nodes[p].encryptionKey()) {
			return fmt.Errorf("path secret does not match node %d", p)
		}
		g.keys[p] = priv
	}
	return nil
}
