package transport

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/kel"
)

// Rotation contribution: one member's part in a group rotation, sent to
// the proposer in round one.
//
//	{"type":"keremony/rotation-contribution","v":1,"group":"E…","label":"alice","role":"rotate",
//	 "key":"D…","next":"E…","signer":"D…","sig":"0B…"}
//
// group is the group's identifier, label the member's label in the group,
// role one of rotate, fresh, next-only, reserve, drop (the ceremony's
// roles), key the revealed (or fresh) key, next the new next-key digest,
// prior the member's digest in the group's current next list (reserve,
// drop). signer is the member's current key and sig its signature over
// SigningBytes: it shows which member sent the contribution and that
// nothing was changed on the way. Which fields a role needs is the
// ceremony's rule (ceremony.CheckContribution); the packet checks their
// encodings.
type Contribution struct {
	Group string
	// Contribution is the member's part of the rotation (label, role, the
	// keys or digests the role needs, and the signer with its signature),
	// as the ceremony takes it.
	ceremony.Contribution
}

// ContributionRoles are the roles a contribution may carry.
var ContributionRoles = []ceremony.Role{ceremony.RoleRotate, ceremony.RoleFresh, ceremony.RoleNextOnly, ceremony.RoleReserve, ceremony.RoleDrop}

// NewContribution checks c's fields and signs it with sign, the private key
// of c.Signer; the signature is verified before the contribution is
// returned.
func NewContribution(c Contribution, sign func([]byte) ([]byte, error)) (Contribution, error) {
	c.Sig = ""
	pub, err := c.checkFields()
	if err != nil {
		return Contribution{}, err
	}
	sig, err := sign(c.SigningBytes())
	if err != nil {
		return Contribution{}, fmt.Errorf("sign the contribution of %q: %w", c.Label, err)
	}
	if len(sig) != ed25519.SignatureSize || !ed25519.Verify(pub, c.SigningBytes(), sig) {
		return Contribution{}, fmt.Errorf("%w: the signer of the contribution of %q does not hold key %s", ErrBadPacketSignature, c.Label, c.Signer)
	}
	c.Sig = kel.EncodeSignature(sig)
	return c, nil
}

// SigningBytes is the text the signature covers, one field per line (no
// value can hold a newline): ceremony.Contribution.SigningBytes for the
// group.
func (c Contribution) SigningBytes() []byte { return c.Contribution.SigningBytes(c.Group) }

func (Contribution) PacketType() PacketType { return PacketContribution }

// Marshal writes the contribution as one line of JSON; empty optional
// fields are left out.
func (c Contribution) Marshal() []byte {
	kv := []any{"type", string(PacketContribution), "v", PacketVersion, "group", c.Group, "label", c.Label, "role", string(c.Role)}
	for _, f := range []struct{ k, v string }{{"key", c.Key}, {"next", c.Next}, {"prior", c.Prior}} {
		if f.v != "" {
			kv = append(kv, f.k, f.v)
		}
	}
	return marshalObject(append(kv, "signer", c.Signer, "sig", c.Sig)...)
}

// ParseContribution reads and verifies a contribution.
func ParseContribution(b []byte) (Contribution, error) {
	e, err := openEnvelope(b, PacketContribution, "group", "label", "role", "key", "next", "prior", "signer", "sig")
	if err != nil {
		return Contribution{}, err
	}
	var c Contribution
	var role string
	for _, f := range []struct {
		name     string
		dst      *string
		required bool
	}{{"group", &c.Group, true}, {"label", &c.Label, true}, {"role", &role, true}, {"key", &c.Key, false},
		{"next", &c.Next, false}, {"prior", &c.Prior, false}, {"signer", &c.Signer, true}, {"sig", &c.Sig, true}} {
		if *f.dst, err = e.str(f.name, f.required); err != nil {
			return Contribution{}, err
		}
		if _, present := e.fields[f.name]; present && *f.dst == "" {
			return Contribution{}, fmt.Errorf("%w: %s field %q is empty (leave it out)", ErrMalformedPacket, e.t.Describe(), f.name)
		}
	}
	c.Role = ceremony.Role(role)
	pub, err := c.checkFields()
	if err != nil {
		return Contribution{}, err
	}
	sig, err := kel.DecodeSignature(c.Sig)
	if err != nil {
		return Contribution{}, fmt.Errorf("%w: contribution field \"sig\": %w", ErrMalformedPacket, err)
	}
	if !ed25519.Verify(pub, c.SigningBytes(), sig) {
		return Contribution{}, fmt.Errorf("%w: contribution of %q signed by %s", ErrBadPacketSignature, c.Label, c.Signer)
	}
	return c, nil
}

func (c Contribution) checkFields() (ed25519.PublicKey, error) {
	k := PacketContribution
	if err := checkPrefix(k, "group", c.Group); err != nil {
		return nil, err
	}
	if err := checkLabel(k, "label", c.Label); err != nil {
		return nil, err
	}
	if !slices.Contains(ContributionRoles, c.Role) {
		return nil, fmt.Errorf("%w: contribution role %q: want one of %v", ErrMalformedPacket, clipText(string(c.Role)), ContributionRoles)
	}
	if c.Key != "" {
		if err := checkMatter(k, "key", c.Key, "key", kel.CodeEd25519); err != nil {
			return nil, err
		}
	}
	for _, f := range []struct{ name, v string }{{"next", c.Next}, {"prior", c.Prior}} {
		if f.v != "" {
			if err := checkMatter(k, f.name, f.v, "digest", kel.CodeBlake3_256); err != nil {
				return nil, err
			}
		}
	}
	pub, err := kel.DecodeMatter(c.Signer, kel.CodeEd25519)
	if err != nil {
		return nil, fmt.Errorf("%w: contribution field \"signer\": key %q: %w", ErrMalformedPacket, clipText(c.Signer), err)
	}
	return ed25519.PublicKey(pub.Raw), nil
}

// Proposal: a proposed group event and what a co-signer needs to review
// it.
//
//	{"type":"keremony/proposal","v":1,"proposal":{…,"proposer":{"group":"team","label":"alice","key":"D…","sig":"0B…"}},"kel":"{\"v\":\"KERI10JSON…"}
//
// proposal is the ceremony's own proposal object (the exact event bytes,
// the parameters it was built from, the members' labels with their signed
// cards or contributions; format "keremony-proposal/1"), which the
// ceremony package parses and checks and every co-signer rebuilds the
// event from. Its proposer is who proposed: the group's alias on the
// proposer's device (a suggestion), the proposer's label, its key and its
// signature over the proposal object (ceremony.Proposal.Sign). A reader
// refuses a proposal without a proposer or whose signature does not verify
// (ErrBadPacketSignature); whether the key may propose (one of the listed
// keys of an inception, else a current key of the group) is the
// receiver's to check against its KELs. kel is a CESR stream of the KELs
// the event chains on or refers to (the group's KEL, the KELs of anchored
// events), which a receiver accepts only through authenticated replay.
type Proposal struct {
	// Group and From are the signed proposer's group alias ("" when none)
	// and label.
	Group string
	From  string
	Body  json.RawMessage // the ceremony proposal object
	KEL   []byte          // optional CESR stream
	// Proposal is Body parsed, its proposer's signature verified.
	Proposal ceremony.Proposal
	// Context is KEL parsed (once, when the packet is made or read); the
	// receiver replays it.
	Context []kel.Message
}

// MaxProposalBodySize bounds the ceremony proposal object.
const MaxProposalBodySize = 4 << 20

func (Proposal) PacketType() PacketType { return PacketProposal }

// Marshal writes the proposal as one line of JSON (the body compacted).
func (p Proposal) Marshal() []byte {
	kv := []any{"type", string(PacketProposal), "v", PacketVersion}
	var body bytes.Buffer
	if err := json.Compact(&body, p.Body); err != nil {
		body.Reset()
		body.WriteString("null") // refused by ParseProposal; NewProposal never makes this
	}
	kv = append(kv, "proposal", json.RawMessage(body.Bytes()))
	if len(p.KEL) > 0 {
		kv = append(kv, "kel", string(p.KEL))
	}
	return marshalObject(kv...)
}

// NewProposal makes the packet of a proposal its proposer signed, with the
// KELs it builds on.
func NewProposal(cp ceremony.Proposal, kelStream []byte) (Proposal, error) {
	body, err := cp.Marshal()
	if err != nil {
		return Proposal{}, fmt.Errorf("%w: %w", ErrMalformedPacket, err)
	}
	p := Proposal{Body: body, KEL: bytes.Clone(kelStream)}
	if err := p.check(); err != nil {
		return Proposal{}, err
	}
	return p, nil
}

// ParseProposal reads a proposal packet: the body must be a ceremony
// proposal signed by its proposer, and the KEL must frame as a CESR stream;
// what they mean is the receiver's to check.
func ParseProposal(b []byte) (Proposal, error) {
	e, err := openEnvelope(b, PacketProposal, "proposal", "kel")
	if err != nil {
		return Proposal{}, err
	}
	var p Proposal
	k, err := e.str("kel", false)
	if err != nil {
		return Proposal{}, err
	}
	if _, present := e.fields["kel"]; present && k == "" {
		return Proposal{}, fmt.Errorf("%w: proposal field \"kel\" is empty (leave it out)", ErrMalformedPacket)
	}
	p.KEL = []byte(k)
	raw, ok := e.fields["proposal"]
	if !ok {
		return Proposal{}, fmt.Errorf("%w: proposal packet without \"proposal\"", ErrMalformedPacket)
	}
	p.Body = bytes.Clone(raw)
	if err := p.check(); err != nil {
		return Proposal{}, err
	}
	return p, nil
}

// check parses the body (the proposer's signature verified) and the KEL.
func (p *Proposal) check() error {
	body := bytes.TrimSpace(p.Body)
	if len(body) == 0 || body[0] != '{' || !json.Valid(body) {
		return fmt.Errorf("%w: proposal field \"proposal\" is not a json object", ErrMalformedPacket)
	}
	if len(body) > MaxProposalBodySize {
		return fmt.Errorf("%w: proposal object of %d bytes, the limit is %d", ErrPacketTooLarge, len(body), MaxProposalBodySize)
	}
	cp, err := ceremony.ParseProposal(body)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMalformedPacket, err)
	}
	if err := cp.CheckProposer(); err != nil {
		return fmt.Errorf("%w: %w", ErrBadPacketSignature, err)
	}
	if cp.Proposer.Group != "" && !validAlias(cp.Proposer.Group) {
		return fmt.Errorf("%w: proposal group alias %q: want 1 to 32 letters, digits, '-', '_' or '.'", ErrMalformedPacket, clipText(cp.Proposer.Group))
	}
	p.Proposal, p.Group, p.From = cp, cp.Proposer.Group, cp.Proposer.Label
	if len(p.KEL) > 0 {
		if !bytes.HasPrefix(p.KEL, []byte(cesrStart)) {
			return fmt.Errorf("%w: proposal field \"kel\" is not a keri event stream", ErrMalformedPacket)
		}
		msgs, err := kel.ParseStream(p.KEL)
		if err != nil {
			return fmt.Errorf("%w: proposal field \"kel\": %w", ErrMalformedPacket, err)
		}
		p.Context = msgs
	}
	return nil
}

// Signature envelope: indexed signatures of one member over one event of
// one ceremony, sent to whoever collects them.
//
//	{"type":"keremony/signatures","v":1,"ceremony":"c…","aid":"E…","sn":1,"said":"E…","signer":"bob","sigs":["AAB…"]}
//
// sigs are qb64 indexed Ed25519 signatures (codes A, B, 2A, 2B), each at
// most once per index; signer is the signing member's label. The receiver
// checks each signature against the event and the key at its index.
type Signatures struct {
	Ceremony string
	AID      string
	Sn       uint64
	SAID     string
	Signer   string
	Sigs     []string
}

// MaxEnvelopeSignatures bounds the signatures of one envelope.
const MaxEnvelopeSignatures = 256

func (Signatures) PacketType() PacketType { return PacketSignatures }

// Marshal writes the envelope as one line of JSON.
func (s Signatures) Marshal() []byte {
	sigs := s.Sigs
	if sigs == nil {
		sigs = []string{}
	}
	return marshalObject("type", string(PacketSignatures), "v", PacketVersion, "ceremony", s.Ceremony, "aid", s.AID,
		"sn", s.Sn, "said", s.SAID, "signer", s.Signer, "sigs", sigs)
}

// NewSignatures checks an envelope before it is sent.
func NewSignatures(s Signatures) (Signatures, error) {
	s.Sigs = slices.Clone(s.Sigs)
	if err := s.check(); err != nil {
		return Signatures{}, err
	}
	return s, nil
}

// ParseSignatures reads a signature envelope strictly. It checks each
// signature's encoding, not whether it verifies.
func ParseSignatures(b []byte) (Signatures, error) {
	e, err := openEnvelope(b, PacketSignatures, "ceremony", "aid", "sn", "said", "signer", "sigs")
	if err != nil {
		return Signatures{}, err
	}
	var s Signatures
	for _, f := range []struct {
		name string
		dst  *string
	}{{"ceremony", &s.Ceremony}, {"aid", &s.AID}, {"said", &s.SAID}, {"signer", &s.Signer}} {
		if *f.dst, err = e.str(f.name, true); err != nil {
			return Signatures{}, err
		}
	}
	if s.Sn, err = e.uint("sn"); err != nil {
		return Signatures{}, err
	}
	raw, ok := e.fields["sigs"]
	if !ok {
		return Signatures{}, fmt.Errorf("%w: signature envelope without \"sigs\"", ErrMalformedPacket)
	}
	if err := json.Unmarshal(raw, &s.Sigs); err != nil || len(raw) == 0 || raw[0] != '[' {
		return Signatures{}, fmt.Errorf("%w: signature envelope field \"sigs\" is not a list of strings", ErrMalformedPacket)
	}
	if err := s.check(); err != nil {
		return Signatures{}, err
	}
	return s, nil
}

func (s Signatures) check() error {
	k := PacketSignatures
	if err := checkCeremonyID(k, s.Ceremony); err != nil {
		return err
	}
	if err := checkPrefix(k, "aid", s.AID); err != nil {
		return err
	}
	if err := checkMatter(k, "said", s.SAID, "said", kel.CodeBlake3_256); err != nil {
		return err
	}
	if err := checkLabel(k, "signer", s.Signer); err != nil {
		return err
	}
	if len(s.Sigs) == 0 || len(s.Sigs) > MaxEnvelopeSignatures {
		return fmt.Errorf("%w: signature envelope with %d signatures: want 1 to %d", ErrMalformedPacket, len(s.Sigs), MaxEnvelopeSignatures)
	}
	seen := map[int]bool{}
	for i, q := range s.Sigs {
		sig, n, err := kel.ParseSiger(q)
		if err == nil && n != len(q) {
			err = fmt.Errorf("%d characters after the signature", len(q)-n)
		}
		if err != nil {
			return fmt.Errorf("%w: signature envelope signature %d %q: %w", ErrMalformedPacket, i, clipText(q), err)
		}
		if seen[sig.Index] {
			return fmt.Errorf("%w: signature envelope holds two signatures at index %d", ErrMalformedPacket, sig.Index)
		}
		seen[sig.Index] = true
	}
	return nil
}

// Abort record: a member closed a ceremony for good, and says why.
//
//	{"type":"keremony/abort","v":1,"ceremony":"c…","aid":"E…","sn":1,"said":"E…","reason":"…","by":"alice","key":"D…","sig":"0B…"}
//
// key is the aborting member's key and sig its signature over
// SigningBytes; a receiver applies the record only when key belongs to the
// ceremony's members.
type Abort struct {
	Ceremony string
	AID      string
	Sn       uint64
	SAID     string
	Reason   string
	By       string
	Key      string
	Sig      string
}

func (Abort) PacketType() PacketType { return PacketAbort }

// SigningBytes is the text the signature covers (no value holds a newline).
func (a Abort) SigningBytes() []byte {
	return fmt.Appendf(nil, "%s\nv=%d\nceremony=%s\naid=%s\nsn=%d\nsaid=%s\nby=%s\nkey=%s\nreason=%s\n",
		PacketAbort, PacketVersion, a.Ceremony, a.AID, a.Sn, a.SAID, a.By, a.Key, a.Reason)
}

// Marshal writes the record as one line of JSON.
func (a Abort) Marshal() []byte {
	return marshalObject("type", string(PacketAbort), "v", PacketVersion, "ceremony", a.Ceremony, "aid", a.AID, "sn", a.Sn,
		"said", a.SAID, "reason", a.Reason, "by", a.By, "key", a.Key, "sig", a.Sig)
}

// NewAbort checks and signs an abort record with sign, the private key of
// a.Key.
func NewAbort(a Abort, sign func([]byte) ([]byte, error)) (Abort, error) {
	a.Sig = ""
	pub, err := a.checkFields()
	if err != nil {
		return Abort{}, err
	}
	sig, err := sign(a.SigningBytes())
	if err != nil {
		return Abort{}, fmt.Errorf("sign the abort record: %w", err)
	}
	if len(sig) != ed25519.SignatureSize || !ed25519.Verify(pub, a.SigningBytes(), sig) {
		return Abort{}, fmt.Errorf("%w: the signer of the abort record does not hold key %s", ErrBadPacketSignature, a.Key)
	}
	a.Sig = kel.EncodeSignature(sig)
	return a, nil
}

// ParseAbort reads and verifies an abort record.
func ParseAbort(b []byte) (Abort, error) {
	e, err := openEnvelope(b, PacketAbort, "ceremony", "aid", "sn", "said", "reason", "by", "key", "sig")
	if err != nil {
		return Abort{}, err
	}
	var a Abort
	for _, f := range []struct {
		name string
		dst  *string
	}{{"ceremony", &a.Ceremony}, {"aid", &a.AID}, {"said", &a.SAID}, {"reason", &a.Reason}, {"by", &a.By}, {"key", &a.Key}, {"sig", &a.Sig}} {
		if *f.dst, err = e.str(f.name, true); err != nil {
			return Abort{}, err
		}
	}
	if a.Sn, err = e.uint("sn"); err != nil {
		return Abort{}, err
	}
	pub, err := a.checkFields()
	if err != nil {
		return Abort{}, err
	}
	sig, err := kel.DecodeSignature(a.Sig)
	if err != nil {
		return Abort{}, fmt.Errorf("%w: abort record field \"sig\": %w", ErrMalformedPacket, err)
	}
	if !ed25519.Verify(pub, a.SigningBytes(), sig) {
		return Abort{}, fmt.Errorf("%w: abort record of ceremony %s by %q", ErrBadPacketSignature, a.Ceremony, a.By)
	}
	return a, nil
}

func (a Abort) checkFields() (ed25519.PublicKey, error) {
	k := PacketAbort
	if err := checkCeremonyID(k, a.Ceremony); err != nil {
		return nil, err
	}
	if err := checkPrefix(k, "aid", a.AID); err != nil {
		return nil, err
	}
	if err := checkMatter(k, "said", a.SAID, "said", kel.CodeBlake3_256); err != nil {
		return nil, err
	}
	if err := checkText(k, "reason", a.Reason, MaxReasonSize); err != nil {
		return nil, err
	}
	if err := checkLabel(k, "by", a.By); err != nil {
		return nil, err
	}
	pub, err := kel.DecodeMatter(a.Key, kel.CodeEd25519)
	if err != nil {
		return nil, fmt.Errorf("%w: abort record field \"key\": %q: %w", ErrMalformedPacket, clipText(a.Key), err)
	}
	return ed25519.PublicKey(pub.Raw), nil
}

// Event streams.

// Stream is a CESR event stream: a finalized event, or one or more KELs.
// It carries no envelope: the bytes are plain KERI, as other KERI tools
// write and read them. ParseCESR checks the framing and every event body;
// signatures are checked when the stream is replayed.
type Stream struct {
	Raw      []byte
	Messages []kel.Message
	// Trailing counts the CR, LF and space bytes after the last message
	// (an editor's final newline), which were dropped: the reader warns.
	Trailing int
}

// TrailingSpace splits a CESR stream from the carriage returns, line
// feeds and spaces after its last message: keremony never writes them, and
// its readers (kel import, verify, the drop folder) accept them with a
// warning. Nothing else is tolerated around a stream.
func TrailingSpace(b []byte) (stream []byte, trailing int) {
	stream = bytes.TrimRight(b, " \r\n")
	return stream, len(b) - len(stream)
}

// TrailingWarning is the warning about n bytes of white space after a
// stream's last message.
func TrailingWarning(n int) string {
	return fmt.Sprintf("%d bytes of white space (CR, LF, space) after the last message were ignored", n)
}

func (Stream) PacketType() PacketType { return PacketCESR }

// Marshal returns the stream's bytes.
func (s Stream) Marshal() []byte { return bytes.Clone(s.Raw) }

// ParseCESR reads an event stream. CR, LF and space after the last
// message (a final newline an editor added) are dropped and counted in
// Trailing; anything else that does not frame is refused.
func ParseCESR(b []byte) (Stream, error) {
	if len(b) > MaxCESRSize {
		return Stream{}, fmt.Errorf("%w: event stream of %d bytes, the limit is %d", ErrPacketTooLarge, len(b), MaxCESRSize)
	}
	raw, trailing := TrailingSpace(b)
	if !bytes.HasPrefix(raw, []byte(cesrStart)) {
		if t, err := Sniff(b); err == nil && t != PacketCESR {
			return Stream{}, wrongType(t, PacketCESR)
		}
		if bytes.HasPrefix(bytes.TrimLeft(raw, " \t\r\n"), []byte(cesrStart)) {
			return Stream{}, fmt.Errorf("%w: white space before the event stream", ErrMalformedPacket)
		}
		return Stream{}, fmt.Errorf("%w: not a keri event stream (want %s…)", ErrMalformedPacket, cesrStart)
	}
	msgs, err := kel.ParseStream(raw)
	if err != nil {
		return Stream{}, fmt.Errorf("%w: event stream: %w", ErrMalformedPacket, err)
	}
	return Stream{Raw: bytes.Clone(raw), Messages: msgs, Trailing: trailing}, nil
}

// String renders a packet type for flags and messages.
func (t PacketType) String() string { return string(t) }
