package transport

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/kel"
)

// A member card is the public half of a device's seat in a group, handed to
// the other devices (as a file, or as KC1 frames of TypeCard) while a group
// is set up:
//
//	{"type":"keremony/member-card","v":1,"alias":"alice","key":"D…","next":"E…","sig":"0B…"}
//
// key is the member's current transferable Ed25519 key (qb64 D…), next the
// Blake3-256 digest committing to its next key (qb64 E…), and sig a
// non-indexed Ed25519 signature (qb64 0B…) by key over SigningBytes, which
// proves that the sender holds the private key.
const (
	CardType    = ceremony.CardType
	CardVersion = ceremony.ProofVersion
	// MaxCardSize bounds the card text ParseCard reads.
	MaxCardSize = 4 << 10
)

// Sentinel errors for member cards; every card error wraps one of them. The
// names carry "Card" because other transport formats share the package.
var (
	// ErrCardTooLarge: the card text is larger than MaxCardSize.
	ErrCardTooLarge = errors.New("member card too large")
	// ErrUnsupportedCardVersion: the card's "v" is not a version this
	// program reads.
	ErrUnsupportedCardVersion = errors.New("unsupported member card version")
	// ErrMalformedCard: not a member card: bad JSON, unknown, missing or
	// repeated fields, a bad alias, or a badly encoded key, digest or
	// signature.
	ErrMalformedCard = errors.New("malformed member card")
	// ErrBadCardSignature: the proof of possession does not verify.
	ErrBadCardSignature = errors.New("member card signature does not verify")
)

// Card is a parsed, verified member card: the member as an inception
// roster takes it (ceremony.Card: its label, on the wire "alias", 1-32
// letters, digits, '-', '_', '.'; its current key, qb64 D…; its next key
// digest, qb64 E…; and the proof of possession, qb64 0B…, over
// ceremony.Card.SigningBytes, which a proposal carries to bind the label).
type Card struct {
	ceremony.Card
}

// cardJSON fixes the field order of Marshal.
type cardJSON struct {
	Type  string `json:"type"`
	V     int    `json:"v"`
	Alias string `json:"alias"`
	Key   string `json:"key"`
	Next  string `json:"next"`
	Sig   string `json:"sig"`
}

// NewCard builds and signs a card. sign signs the card's SigningBytes with
// the private key of keyQb64 (keystore.Store.SignProof does; the bytes start
// with "keremony/", so they can never be mistaken for a key event). The
// signature is verified before the card is returned.
func NewCard(alias, keyQb64, nextQb64 string, sign func([]byte) ([]byte, error)) (Card, error) {
	c := Card{Card: ceremony.Card{Label: alias, Key: keyQb64, Next: nextQb64}}
	pub, err := c.checkFields()
	if err != nil {
		return Card{}, err
	}
	sig, err := sign(c.SigningBytes())
	if err != nil {
		return Card{}, fmt.Errorf("sign member card %q: %w", alias, err)
	}
	if len(sig) != ed25519.SignatureSize || !ed25519.Verify(pub, c.SigningBytes(), sig) {
		return Card{}, fmt.Errorf("%w: the signer of card %q does not hold key %s", ErrBadCardSignature, alias, keyQb64)
	}
	c.Sig = kel.EncodeSignature(sig)
	return c, nil
}

// Marshal encodes the card as one line of JSON (with a final newline).
func (c Card) Marshal() []byte {
	b, err := json.Marshal(cardJSON{Type: CardType, V: CardVersion, Alias: c.Label, Key: c.Key, Next: c.Next, Sig: c.Sig})
	if err != nil {
		panic("transport: internal error: " + err.Error()) // strings only: cannot fail
	}
	return append(b, '\n')
}

// PublicKey decodes the card's current key. It cannot fail on a card from
// ParseCard or NewCard.
func (c Card) PublicKey() (ed25519.PublicKey, error) {
	return kel.DecodeVerKey(c.Key)
}

// ParseCard reads and verifies a card strictly: at most MaxCardSize bytes,
// exactly the six fields (case-sensitive, once each, no trailing data),
// version 1, a valid alias, a transferable Ed25519 key, a Blake3-256 next
// digest, and a signature by the key over SigningBytes.
func ParseCard(b []byte) (Card, error) {
	if len(b) > MaxCardSize {
		return Card{}, fmt.Errorf("%w: %d bytes, the limit is %d", ErrCardTooLarge, len(b), MaxCardSize)
	}
	fields, names, err := cardFields(b)
	if err != nil {
		return Card{}, err
	}
	var typ string
	if err := json.Unmarshal(fields["type"], &typ); err != nil || typ != CardType {
		return Card{}, fmt.Errorf("%w: type %.40s is not %q", ErrMalformedCard, fields["type"], CardType)
	}
	if v := string(fields["v"]); v != "1" {
		if _, err := strconv.ParseUint(v, 10, 64); err != nil {
			return Card{}, fmt.Errorf("%w: version %.40q is not an integer", ErrMalformedCard, v)
		}
		return Card{}, fmt.Errorf("%w %s (this program reads version %d)", ErrUnsupportedCardVersion, v, CardVersion)
	}
	var c Card
	for _, f := range []struct {
		name string
		dst  *string
	}{{"alias", &c.Label}, {"key", &c.Key}, {"next", &c.Next}, {"sig", &c.Sig}} {
		raw, ok := fields[f.name]
		if !ok {
			return Card{}, fmt.Errorf("%w: no %q field", ErrMalformedCard, f.name)
		}
		if err := json.Unmarshal(raw, f.dst); err != nil {
			return Card{}, fmt.Errorf("%w: field %q is not a string", ErrMalformedCard, f.name)
		}
	}
	for _, name := range names {
		switch name {
		case "type", "v", "alias", "key", "next", "sig":
		default:
			return Card{}, fmt.Errorf("%w: unknown field %.40q", ErrMalformedCard, name)
		}
	}
	if err := c.verify(); err != nil {
		return Card{}, err
	}
	return c, nil
}

// cardFields splits one JSON object into its raw fields (and their names in
// order), refusing repeated names and anything after the object.
// (encoding/json alone would accept repeated names and match names
// case-insensitively.)
func cardFields(b []byte) (map[string]json.RawMessage, []string, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, fmt.Errorf("%w: not a json object", ErrMalformedCard)
	}
	fields := map[string]json.RawMessage{}
	var names []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %w", ErrMalformedCard, err)
		}
		name, _ := tok.(string)
		if _, dup := fields[name]; dup {
			return nil, nil, fmt.Errorf("%w: field %.40q repeated", ErrMalformedCard, name)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, fmt.Errorf("%w: field %.40q: %w", ErrMalformedCard, name, err)
		}
		fields[name] = raw
		names = append(names, name)
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, nil, fmt.Errorf("%w: %w", ErrMalformedCard, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, fmt.Errorf("%w: data after the card", ErrMalformedCard)
	}
	return fields, names, nil
}

// checkFields validates everything but the signature and returns the key.
func (c Card) checkFields() (ed25519.PublicKey, error) {
	if !validAlias(c.Label) {
		return nil, fmt.Errorf("%w: alias %.40q: want 1 to 32 letters, digits, '-', '_' or '.'", ErrMalformedCard, c.Label)
	}
	key, err := kel.DecodeMatter(c.Key, kel.CodeEd25519)
	if err != nil {
		return nil, fmt.Errorf("%w: key %.60q: %w", ErrMalformedCard, c.Key, err)
	}
	if _, err := kel.DecodeMatter(c.Next, kel.CodeBlake3_256); err != nil {
		return nil, fmt.Errorf("%w: next %.60q: %w", ErrMalformedCard, c.Next, err)
	}
	return ed25519.PublicKey(key.Raw), nil
}

// verify checks every field and the proof of possession.
func (c Card) verify() error {
	pub, err := c.checkFields()
	if err != nil {
		return err
	}
	sig, err := kel.DecodeSignature(c.Sig)
	if err != nil {
		return fmt.Errorf("%w: sig %.100q: %w", ErrMalformedCard, c.Sig, err)
	}
	if !ed25519.Verify(pub, c.SigningBytes(), sig) {
		return fmt.Errorf("%w: card of %q", ErrBadCardSignature, c.Label)
	}
	return nil
}

// validAlias applies the member alias rule (the same as keystore.CheckAlias,
// which transport may not import): 1 to 32 letters, digits, '-', '_' or '.',
// and not "." or "..".
func validAlias(a string) bool {
	if len(a) == 0 || len(a) > 32 || a == "." || a == ".." {
		return false
	}
	for _, c := range []byte(a) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
