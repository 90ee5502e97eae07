package frame

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"slices"
	"time"
)

// Receiver limits, as in Discord's implementation.
const (
	// KeyExpiry is how long keys of a previous generation or epoch stay
	// usable after a newer one took over, for frames still in flight.
	KeyExpiry = 10 * time.Second
	// MaxGenerationGap is how far ahead of the newest seen generation a
	// frame may be; further ones are rejected without ratcheting.
	MaxGenerationGap = 250
	// MaxMissingNonces bounds how many skipped nonces are remembered as
	// still acceptable.
	MaxMissingNonces = 1000
)

// Decryptor decrypts one sender's protocol frames. It keeps a key ratchet
// per epoch, the newest one current and older ones until they expire, and
// per epoch the generation window and the nonces already accepted. It is not
// safe for concurrent use.
type Decryptor struct {
	now    func() time.Time
	epochs []*epochKeys // oldest first
	// passthrough: unencrypted frames are accepted while passForever is
	// set or until passUntil.
	passForever bool
	passUntil   time.Time
	// Buffers reused across frames.
	scratch   []byte
	ranges    []Range
	nonce     [nonceSize]byte
	ctr       [aes.BlockSize]byte
	keystream [aes.BlockSize]byte
}

// NewDecryptor returns a Decryptor with no keys and passthrough off. now is
// the clock for key expiry; nil means time.Now.
func NewDecryptor(now func() time.Time) *Decryptor {
	if now == nil {
		now = time.Now
	}
	return &Decryptor{now: now}
}

// TransitionToRatchet makes r the current epoch's ratchet. Older epochs'
// keys keep working for KeyExpiry.
func (d *Decryptor) TransitionToRatchet(r *Ratchet) {
	now := d.now()
	for _, e := range d.epochs {
		if e.expires.IsZero() {
			e.expires = now.Add(KeyExpiry)
		}
	}
	d.epochs = append(d.epochs, &epochKeys{ratchet: r, gens: make(map[uint32]*genKey)})
}

// SetPassthrough turns acceptance of unencrypted frames on, or off after a
// grace of KeyExpiry for frames still in flight.
func (d *Decryptor) SetPassthrough(on bool) {
	if on {
		d.passForever = true
		return
	}
	if d.passForever {
		d.passForever = false
		d.passUntil = d.now().Add(KeyExpiry)
	}
}

// Decrypt appends the media frame carried by frame to dst. The silence frame
// passes unchanged; other frames that fail the protocol frame check pass
// only in passthrough.
func (d *Decryptor) Decrypt(dst, frame []byte) ([]byte, error) {
	if bytes.Equal(frame, Silence) {
		return append(dst, frame...), nil
	}
	p, err := Parse(frame)
	if err != nil {
		if d.passForever || d.now().Before(d.passUntil) {
			return append(dst, frame...), nil
		}
		return dst, fmt.Errorf("%w: %w", ErrPassthrough, err)
	}
	now := d.now()
	live := d.epochs[:0]
	for _, e := range d.epochs {
		if e.expires.IsZero() || !now.After(e.expires) {
			live = append(live, e)
		}
	}
	clear(d.epochs[len(live):])
	d.epochs = live
	if len(d.epochs) == 0 {
		return dst, ErrNoKey
	}
	// The newest epoch is the likely one; older ones serve frames in flight.
	var last error
	for i := len(d.epochs) - 1; i >= 0; i-- {
		out, err := d.decryptIn(d.epochs[i], now, dst, p)
		if err == nil {
			return out, nil
		}
		last = err
	}
	return dst, last
}

func (d *Decryptor) decryptIn(e *epochKeys, now time.Time, dst []byte, p Parsed) ([]byte, error) {
	gen := wrapGeneration(e.oldest, p.Nonce>>generationShift)
	big := uint64(gen)<<generationShift | uint64(p.Nonce&(1<<generationShift-1))
	if !e.canProcess(big) {
		return dst, ErrReplay
	}
	k, err := e.key(gen, now)
	if err != nil {
		return dst, err
	}
	binary.LittleEndian.PutUint32(d.nonce[nonceSize-4:], p.Nonce)

	// scratch = aad | ciphertext | plaintext | recomputed ciphertext+tag
	d.ranges = p.AppendRanges(d.ranges[:0])
	buf := gather(d.scratch[:0], p.Media, d.ranges, true)
	aadEnd := len(buf)
	buf = gather(buf, p.Media, d.ranges, false)
	ctEnd := len(buf)
	buf = append(buf, buf[aadEnd:ctEnd]...)
	buf = slices.Grow(buf, ctEnd-aadEnd+gcmTagSize)
	plain := buf[ctEnd:]
	d.ctrXOR(k.block, plain)
	check := k.aead.Seal(buf[len(buf):], d.nonce[:], plain, buf[:aadEnd])
	d.scratch = buf
	if subtle.ConstantTimeCompare(check[len(check)-gcmTagSize:][:TagSize], p.Tag) != 1 {
		return dst, ErrAuth
	}
	e.accepted(gen, big, now)
	start := len(dst)
	dst = append(dst, p.Media...)
	scatter(dst[start:], plain, d.ranges)
	return dst, nil
}

// ctrXOR decrypts b in place with AES-CTR from GCM's first payload counter
// block, nonce || 2 (J0 + 1 for a 96-bit nonce), as GCM does.
func (d *Decryptor) ctrXOR(block cipher.Block, b []byte) {
	copy(d.ctr[:nonceSize], d.nonce[:])
	for ctr := uint32(2); len(b) > 0; ctr++ {
		binary.BigEndian.PutUint32(d.ctr[nonceSize:], ctr)
		block.Encrypt(d.keystream[:], d.ctr[:])
		b = b[subtle.XORBytes(b, b, d.keystream[:]):]
	}
}

// wrapGeneration turns the 8-bit generation of a nonce into the full one,
// assuming it is not older than oldest; the generation window catches the
// rare frame for which that is wrong.
func wrapGeneration(oldest, gen uint32) uint32 {
	const wrap = 1 << 8
	factor := oldest / wrap
	if gen < oldest%wrap {
		factor++
	}
	return factor*wrap + gen
}

// epochKeys is one epoch's ratchet for a sender with its receive state.
type epochKeys struct {
	ratchet *Ratchet
	expires time.Time // zero while current
	gens    map[uint32]*genKey
	oldest  uint32
	newest  uint32
	// newestNonce is the largest accepted big nonce (generation<<24 | low
	// 24 bits); missing holds smaller ones not yet seen, ascending.
	newestNonce uint64
	anyNonce    bool
	missing     []uint64
}

type genKey struct {
	block   cipher.Block
	aead    cipher.AEAD
	expires time.Time // zero while the newest generation
}

func (e *epochKeys) canProcess(big uint64) bool {
	if !e.anyNonce || big > e.newestNonce {
		return true
	}
	_, found := slices.BinarySearch(e.missing, big)
	return found
}

// key returns generation gen's cipher, erasing expired generations first.
func (e *epochKeys) key(gen uint32, now time.Time) (*genKey, error) {
	for g, k := range e.gens {
		if !k.expires.IsZero() && now.After(k.expires) {
			delete(e.gens, g)
		}
	}
	for e.oldest < e.newest {
		if _, ok := e.gens[e.oldest]; ok {
			break
		}
		e.ratchet.Erase(e.oldest)
		e.oldest++
	}
	if gen < e.oldest || gen > e.newest+MaxGenerationGap {
		return nil, fmt.Errorf("generation %d, window %d..%d: %w", gen, e.oldest, e.newest+MaxGenerationGap, ErrGeneration)
	}
	if k, ok := e.gens[gen]; ok {
		return k, nil
	}
	raw, err := e.ratchet.Key(gen)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrGeneration, err)
	}
	block, err := newBlock(raw)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("dave frame: %w", err)
	}
	k := &genKey{block: block, aead: aead}
	if gen < e.newest {
		k.expires = now.Add(KeyExpiry)
	}
	e.gens[gen] = k
	return k, nil
}

// accepted records a successfully decrypted nonce and, for a new newest
// generation, starts the expiry of the older ones.
func (e *epochKeys) accepted(gen uint32, big uint64, now time.Time) {
	switch {
	case !e.anyNonce:
		e.anyNonce, e.newestNonce = true, big
	case big > e.newestNonce:
		floor := uint64(0)
		if big > MaxMissingNonces {
			floor = big - MaxMissingNonces
		}
		drop := 0
		for drop < len(e.missing) && e.missing[drop] < floor {
			drop++
		}
		e.missing = append(e.missing[:0], e.missing[drop:]...)
		for n := max(floor, e.newestNonce+1); n < big; n++ {
			e.missing = append(e.missing, n)
		}
		e.newestNonce = big
	default:
		if i, found := slices.BinarySearch(e.missing, big); found {
			e.missing = append(e.missing[:i], e.missing[i+1:]...)
		}
	}
	if gen <= e.newest {
		return
	}
	e.newest = gen
	for g, k := range e.gens {
		if g < gen {
			k.expires = now.Add(KeyExpiry)
		}
	}
}
