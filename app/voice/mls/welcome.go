package mls

// groupInfo is GroupInfo (RFC 9420 section 12.4.3).
type groupInfo struct {
	context         groupContext
	extensions      []Extension
	confirmationTag []byte
	signer          uint32
	signature       []byte
}

func (g *groupInfo) marshalTBS(w *writer) {
	g.context.marshal(w)
	marshalExtensions(w, g.extensions)
	w.opaque(g.confirmationTag)
	w.u32(g.signer)
}

func (g *groupInfo) marshal(w *writer) {
	g.marshalTBS(w)
	w.opaque(g.signature)
}

func (g *groupInfo) unmarshal(r *reader) {
	g.context.unmarshal(r)
	g.extensions = unmarshalExtensions(r)
	g.confirmationTag = r.opaque()
	g.signer = r.u32()
	g.signature = r.opaque()
}

func (g *groupInfo) sign(key *SignatureKey) error {
	sig, err := key.SignWithLabel("GroupInfoTBS", encode(g.marshalTBS))
	if err != nil {
		return err
	}
	g.signature = sig
	return nil
}

func (g *groupInfo) verify(pub []byte) error {
	return VerifyWithLabel(pub, "GroupInfoTBS", encode(g.marshalTBS), g.signature)
}

// groupSecrets is GroupSecrets.
type groupSecrets struct {
	joinerSecret []byte
	pathSecret   []byte // nil when absent
	psks         []pskID
}

func (g *groupSecrets) marshal(w *writer) {
	w.opaque(g.joinerSecret)
	w.optional(g.pathSecret != nil, func(w *writer) { w.opaque(g.pathSecret) })
	w.vector(func(w *writer) {
		for _, p := range g.psks {
			p.marshal(w)
		}
	})
}

func (g *groupSecrets) unmarshal(r *reader) {
	g.joinerSecret = r.opaque()
	r.optional(func(r *reader) { g.pathSecret = r.opaque() })
	r.vector(func(r *reader) {
		var p pskID
		p.unmarshal(r)
		g.psks = append(g.psks, p)
	})
}

// encryptedGroupSecrets is EncryptedGroupSecrets.
type encryptedGroupSecrets struct {
	newMember []byte
	secrets   hpkeCiphertext
}

// welcome is Welcome.
type welcome struct {
	secrets            []encryptedGroupSecrets
	encryptedGroupInfo []byte
}

func (m *welcome) marshal(w *writer) {
	w.u16(CipherSuite)
	w.vector(func(w *writer) {
		for _, s := range m.secrets {
			w.opaque(s.newMember)
			s.secrets.marshal(w)
		}
	})
	w.opaque(m.encryptedGroupInfo)
}

func (m *welcome) unmarshal(r *reader) {
	if cs := r.u16(); cs != CipherSuite && r.err == nil {
		r.fail(errUnsupportedSuite(cs))
	}
	r.vector(func(r *reader) {
		var s encryptedGroupSecrets
		s.newMember = r.opaque()
		s.secrets.unmarshal(r)
		m.secrets = append(m.secrets, s)
	})
	m.encryptedGroupInfo = r.opaque()
}
