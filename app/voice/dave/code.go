package dave

import (
	"errors"
	"fmt"
	"strings"
)

// DisplayableCode renders data as decimal digit groups, as DAVE displays
// epoch authenticators and verification fingerprints: each group of groupSize
// digits comes from the next groupSize bytes read big-endian, modulo
// 10^groupSize, zero-padded.
func DisplayableCode(data []byte, length, groupSize int) (string, error) {
	if groupSize <= 0 || groupSize >= 8 {
		return "", errors.New("displayable code: group size must be 1 to 7")
	}
	if length <= 0 || length%groupSize != 0 {
		return "", fmt.Errorf("displayable code: length %d is not a multiple of %d", length, groupSize)
	}
	if len(data) < length {
		return "", fmt.Errorf("displayable code: %d bytes of input for %d digits", len(data), length)
	}
	mod := uint64(1)
	for range groupSize {
		mod *= 10
	}
	var b strings.Builder
	for i := 0; i < length; i += groupSize {
		var v uint64
		for _, c := range data[i : i+groupSize] {
			v = v<<8 | uint64(c)
		}
		fmt.Fprintf(&b, "%0*d", groupSize, v%mod)
	}
	return b.String(), nil
}

// privacyCode is the 30-digit code clients show for an epoch authenticator.
func privacyCode(authenticator []byte) string {
	code, err := DisplayableCode(authenticator, 30, 5)
	if err != nil {
		// Epoch authenticators are 32 bytes, enough for 30 digits.
		return ""
	}
	return code
}
