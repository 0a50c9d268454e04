package ceremony

import "crypto/ed25519"

// Signer holds one member's private key. keystore satisfies it; ceremony
// never sees a seed.
type Signer interface {
	// PublicKey is the Ed25519 key the signer signs with.
	PublicKey() ed25519.PublicKey
	// SignEvent signs msg, the exact body of event said at aid/sn; the
	// implementation journals it first and refuses a different SAID at an
	// aid/sn it already signed.
	SignEvent(aid string, sn uint64, said string, msg []byte) ([]byte, error)
}
