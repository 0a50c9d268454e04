package kel

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"lukechampine.com/blake3"
)

// Shared helpers for keripy_test.go, scenarios_test.go and hostile_test.go.
// Expected values are computed here without kel's own encoders wherever the
// value is what is being checked (digests, SAIDs, qb64 keys).

// indepQb64 encodes a one-character-code primitive with a 32-byte raw
// (one pad byte) the CESR way, independently of kel's encoder.
func indepQb64(code byte, raw []byte) string {
	if len(raw) != 32 {
		panic("indepQb64: raw must be 32 bytes")
	}
	return string(code) + base64.RawURLEncoding.EncodeToString(append([]byte{0}, raw...))[1:]
}

// indepDigest is the qb64 Blake3-256 digest of data, computed with blake3
// directly.
func indepDigest(data []byte) string {
	sum := blake3.Sum256(data)
	return indepQb64('E', sum[:])
}

// indepNextDigest is the pre-rotation commitment to a qb64 key: Blake3-256
// of the key's 44 ASCII characters.
func indepNextDigest(keyQb64 string) string { return indepDigest([]byte(keyQb64)) }

// indepVerKey is the transferable qb64 text (D…) of an Ed25519 public key.
func indepVerKey(pub ed25519.PublicKey) string { return indepQb64('D', pub) }

// saidPH is the SAID placeholder: 44 '#'.
var saidPH = strings.Repeat("#", 44)

// versionPH stands in for the version string in a body template.
const versionPH = "KERI10JSONxxxxxx_"

// indepSAIDify turns a body template into a body: versionPH becomes the
// KERI 1.0 version string with the template's byte length, the Blake3-256
// digest of that form is taken, and every saidPH becomes that SAID. Nothing
// of kel is used, so bodies built here can carry deliberate defects and still
// have a correct SAID.
func indepSAIDify(tpl string) string {
	if !strings.Contains(tpl, versionPH) {
		panic("template without version placeholder")
	}
	body := strings.Replace(tpl, versionPH, fmt.Sprintf("KERI10JSON%06x_", len(tpl)), 1)
	said := indepDigest([]byte(body))
	return strings.ReplaceAll(body, saidPH, said)
}

// templateOf turns a built event back into a template: its SAID (in d, and
// in i when self-addressing) becomes the placeholder and its version string
// the version placeholder.
func templateOf(ev *Event) string {
	raw := string(ev.Raw())
	raw = strings.ReplaceAll(raw, ev.SAID(), saidPH)
	v := raw[6:23]
	return strings.Replace(raw, v, versionPH, 1)
}

// tKey is one deterministic Ed25519 key pair.
type tKey struct {
	name string
	priv ed25519.PrivateKey
	Pub  string // qb64 D…, encoded independently
	Dig  string // next digest of Pub, computed independently
}

// newTKey derives a key from the seed sha256(name).
func newTKey(name string) tKey {
	seed := sha256.Sum256([]byte(name))
	return tKeyFromSeed(name, seed[:])
}

func tKeyFromSeed(name string, seed []byte) tKey {
	priv := ed25519.NewKeyFromSeed(seed)
	pub := indepVerKey(priv.Public().(ed25519.PublicKey))
	return tKey{name: name, priv: priv, Pub: pub, Dig: indepNextDigest(pub)}
}

// tMember is a co-signer with a sequence of pre-generated keys: keys[0] is
// the inception key, keys[1] the first next key, and so on.
type tMember struct {
	name string
	keys []tKey
}

func newTMember(name string, n int) tMember {
	m := tMember{name: name}
	for i := 0; i < n; i++ {
		m.keys = append(m.keys, newTKey(fmt.Sprintf("%s#%d", name, i)))
	}
	return m
}

func pubsOf(ks ...tKey) []string {
	var out []string
	for _, k := range ks {
		out = append(out, k.Pub)
	}
	return out
}

func digsOf(ks ...tKey) []string {
	var out []string
	for _, k := range ks {
		out = append(out, k.Dig)
	}
	return out
}

// signB signs current-only (B/2B) at index.
func signB(t testing.TB, k tKey, ev *Event, index int) Siger {
	t.Helper()
	s, err := NewSiger(ed25519.Sign(k.priv, ev.Raw()), index, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// signA signs with both indices (A/2A).
func signA(t testing.TB, k tKey, ev *Event, index, ondex int) Siger {
	t.Helper()
	s, err := NewSiger(ed25519.Sign(k.priv, ev.Raw()), index, ondex, false)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustIncept(t testing.TB, o InceptionOptions) *Event {
	t.Helper()
	ev, err := Incept(o)
	if err != nil {
		t.Fatalf("incept: %v", err)
	}
	return ev
}

func mustRotate(t testing.TB, o RotationOptions) *Event {
	t.Helper()
	ev, err := Rotate(o)
	if err != nil {
		t.Fatalf("rotate: %v", err)
	}
	return ev
}

func mustInteract(t testing.TB, o InteractionOptions) *Event {
	t.Helper()
	ev, err := Interact(o)
	if err != nil {
		t.Fatalf("interact: %v", err)
	}
	return ev
}

func mustWeighted(t testing.TB, clauses ...[]string) Threshold {
	t.Helper()
	th, err := WeightedThreshold(clauses)
	if err != nil {
		t.Fatal(err)
	}
	return th
}

// mustAccept accepts a message and fails the test unless it is accepted.
func mustAccept(t testing.TB, v *Verifier, m Message) Result {
	t.Helper()
	r := v.Accept(m)
	if !r.OK() {
		t.Fatalf("%s sn %d %s rejected: %v", r.Ilk, r.Sn, r.SAID, r.Err)
	}
	return r
}

// reason pairs a sentinel with the reason code the vectors use for it.
type reason struct {
	err  error
	code string
}

var (
	rsnThreshold     = reason{ErrThresholdNotMet, "threshold_not_met"}
	rsnPriorNext     = reason{ErrPriorNextNotMet, "prior_next_threshold_not_met"}
	rsnBadSig        = reason{ErrBadSignature, "signature_invalid"}
	rsnIndexRange    = reason{ErrIndexOutOfRange, "signature_index_out_of_range"}
	rsnSigCode       = reason{ErrSignatureCode, "signature_code_mismatch"}
	rsnDuplicitous   = reason{ErrDuplicitous, "duplicitous_event"}
	rsnAnchor        = reason{ErrAnchorMismatch, "anchor_seal_mismatch"}
	rsnNotTransfer   = reason{ErrNotTransferable, "not_transferable"}
	rsnEO            = reason{ErrEstablishmentOnly, "establishment_only"}
	rsnDrtNotDel     = reason{ErrDrtNotDelegated, "drt_not_delegated"}
	rsnNeedsDrt      = reason{ErrDelegatedNeedsDrt, "delegated_requires_drt"}
	rsnDelMissing    = reason{ErrDelegationMissing, "delegation_not_anchored"}
	rsnDelMismatch   = reason{ErrDelegationMismatch, "delegation_seal_mismatch"}
	rsnDelRefuses    = reason{ErrDelegatorRefuses, "delegator_do_not_delegate"}
	rsnMissingSigs   = reason{ErrMissingSignatures, "missing_signatures"}
	rsnOutOfOrder    = reason{ErrOutOfOrder, "sn_out_of_order"}
	rsnPrior         = reason{ErrPriorMismatch, "prior_digest_mismatch"}
	rsnUnknownPrefix = reason{ErrUnknownPrefix, "unknown_prefix"}
)

// wantRejected checks that r was rejected with every given reason (as a
// sentinel through errors.Is and as a code through ErrorCodes).
func wantRejected(t testing.TB, r Result, reasons ...reason) {
	t.Helper()
	if r.OK() {
		var want []string
		for _, w := range reasons {
			want = append(want, w.code)
		}
		t.Fatalf("%s sn %d %s accepted (warnings %v), want %v", r.Ilk, r.Sn, r.SAID, r.Warnings, want)
	}
	var ee *EventError
	if !errors.As(r.Err, &ee) || ee.SAID != r.SAID || ee.Prefix != r.Prefix {
		t.Errorf("error %v does not name the event %s", r.Err, r.SAID)
	}
	codes := ErrorCodes(r.Err)
	for _, w := range reasons {
		if !errors.Is(r.Err, w.err) {
			t.Errorf("error %v does not wrap %v", r.Err, w.err)
		}
		if !slices.Contains(codes, w.code) {
			t.Errorf("reason codes %v lack %s", codes, w.code)
		}
	}
}

// wantErr checks errors.Is for a plain (non-result) error.
func wantErr(t testing.TB, err error, sentinels ...error) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %v", sentinels)
	}
	for _, s := range sentinels {
		if !errors.Is(err, s) {
			t.Errorf("error %q does not wrap %q", err, s)
		}
	}
}

// streamOf concatenates the wire form of messages.
func streamOf(ms ...Message) []byte {
	var out []byte
	for _, m := range ms {
		out = append(out, m.Bytes()...)
	}
	return out
}
