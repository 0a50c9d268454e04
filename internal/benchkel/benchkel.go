// Package benchkel builds the KEL that keremony's benchmarks replay: a
// 3-of-5 group's inception (kt 3, nt 3 over 5 keys), a rotation every 10th
// event revealing the 5 pre-committed keys, and interaction events with one
// digest seal in between, every event carrying 3 real Ed25519 signatures
// (the signing trio moves round the group). Keys come from fixed seeds, so
// the same n always gives the same bytes. It is used by tests, benchmarks
// and scripts/bench-home.sh, never by the application.
package benchkel

import (
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"

	"github.com/keremony/keremony/kel"
)

const (
	keys    = 5
	signers = 3
	rotEach = 10
)

// KEL is a built KEL: the stream, each message on its own, and the prefix.
type KEL struct {
	Stream   []byte
	Messages [][]byte
	Prefix   string
}

func priv(gen, i int) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte(fmt.Sprintf("keremony store bench key %d/%d", gen, i)))
	return ed25519.NewKeyFromSeed(seed[:])
}

func generation(gen int) (ks, next []string, privs []ed25519.PrivateKey) {
	for i := 0; i < keys; i++ {
		p := priv(gen, i)
		privs = append(privs, p)
		ks = append(ks, kel.EncodeVerKey(p.Public().(ed25519.PublicKey)))
		next = append(next, kel.NextDigest(kel.EncodeVerKey(priv(gen+1, i).Public().(ed25519.PublicKey))))
	}
	return ks, next, privs
}

// Build builds an n-event KEL (n >= 1).
func Build(n int) (*KEL, error) {
	k := &KEL{}
	gen := 0
	ks, next, privs := generation(gen)
	three := kel.IntThreshold(signers)
	var prior *kel.Event
	for sn := 0; sn < n; sn++ {
		var ev *kel.Event
		var err error
		switch {
		case sn == 0:
			ev, err = kel.Incept(kel.InceptionOptions{Keys: ks, Kt: three, Next: next, Nt: three})
		case sn%rotEach == 0:
			gen++
			ks, next, privs = generation(gen)
			ev, err = kel.Rotate(kel.RotationOptions{Prefix: k.Prefix, Sn: uint64(sn), Prior: prior.SAID(), Keys: ks, Kt: three, Next: next, Nt: three})
		default:
			ev, err = kel.Interact(kel.InteractionOptions{Prefix: k.Prefix, Sn: uint64(sn), Prior: prior.SAID(),
				Seals: []kel.Seal{kel.DigestSeal([]byte(fmt.Sprintf("payload %d", sn)))}})
		}
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", sn, err)
		}
		if sn == 0 {
			k.Prefix = ev.Prefix()
		}
		var sigs []kel.Siger
		for j := 0; j < signers; j++ {
			idx := (sn + j) % keys
			sg, err := kel.NewSiger(ed25519.Sign(privs[idx], ev.Raw()), idx, idx, false)
			if err != nil {
				return nil, err
			}
			sigs = append(sigs, sg)
		}
		msg := kel.NewMessage(ev, sigs).Bytes()
		k.Messages = append(k.Messages, msg)
		k.Stream = append(k.Stream, msg...)
		prior = ev
	}
	return k, nil
}
