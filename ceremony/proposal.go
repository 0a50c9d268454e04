package ceremony

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/keremony/keremony/kel"
)

// Proposal is what a proposer sends its co-signers: the exact bytes of the
// proposed event together with the parameters it was built from. A
// co-signer never signs Event as received: Review rebuilds it from the
// parameters and its own copy of the group's KEL and requires byte equality.
type Proposal struct {
	ID        string // ceremony id, shared by every device
	Kind      Kind
	Inception *InceptionParams
	Rotation  *RotationParams
	Anchoring *AnchoringParams
	Event     []byte // the proposed event's exact body
	// Proposer is who proposed it and the signature (see Sign); nil
	// before it is signed.
	Proposer *Proposer
}

// ProposeInception builds an inception proposal.
func ProposeInception(p InceptionParams) (Proposal, error) {
	ev, _, err := BuildInception(p)
	if err != nil {
		return Proposal{}, err
	}
	return Proposal{Kind: KindInception, Inception: &p, Event: ev.Raw()}, nil
}

// ProposeRotation builds a rotation proposal on the group's key state (for
// a recovery rotation, the state RotationBase gives).
func ProposeRotation(state kel.KeyState, p RotationParams) (Proposal, error) {
	ev, _, err := BuildRotation(state, p)
	if err != nil {
		return Proposal{}, err
	}
	return Proposal{Kind: KindRotation, Rotation: &p, Event: ev.Raw()}, nil
}

// ProposeAnchoring builds an anchoring proposal on the group's key state.
func ProposeAnchoring(state kel.KeyState, p AnchoringParams) (Proposal, error) {
	if err := checkDocumentNotes(p.Documents, p.Seals); err != nil {
		return Proposal{}, err
	}
	ev, _, err := BuildAnchoring(state, p)
	if err != nil {
		return Proposal{}, err
	}
	return Proposal{Kind: KindAnchoring, Anchoring: &p, Event: ev.Raw()}, nil
}

// NewID returns a fresh random ceremony id.
func NewID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return "c" + hex.EncodeToString(b)
}

func checkID(id string) error {
	if id == "" || len(id) > 64 {
		return fmt.Errorf("%w: ceremony id %q must be 1 to 64 characters", ErrMalformedProposal, clip(id))
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return fmt.Errorf("%w: ceremony id %q has characters other than letters, digits, - and _", ErrMalformedProposal, clip(id))
		}
	}
	return nil
}

// basis is what a ceremony needs to check signatures: the event, who is
// who, the keys signatures index into and the thresholds they must meet.
type basis struct {
	ev        *kel.Event
	roster    Roster
	keys      []string      // the keys signatures index into
	kt        kel.Threshold // the threshold over keys
	rotation  bool
	priorNext []string // rotations: the prior n
	priorNt   kel.Threshold
}

// rebuild rebuilds the proposed event from its parameters and the local
// KEL copy and requires the proposal's bytes to be exactly the result.
func (p Proposal) rebuild(local *kel.Verifier) (*basis, error) {
	if err := p.checkShape(); err != nil {
		return nil, err
	}
	state := func(prefix string) (kel.KeyState, error) {
		if local == nil {
			return kel.KeyState{}, fmt.Errorf("%w: %s (no local kel given)", ErrUnknownGroup, prefix)
		}
		st, ok := local.State(prefix)
		if !ok {
			return kel.KeyState{}, fmt.Errorf("%w: %s", ErrUnknownGroup, prefix)
		}
		return st, nil
	}
	var b basis
	var err error
	switch p.Kind {
	case KindInception:
		b.ev, b.roster, err = BuildInception(*p.Inception)
		if err == nil {
			b.keys, b.kt = b.ev.Keys(), b.ev.Kt()
		}
	case KindRotation:
		var st kel.KeyState
		if local == nil {
			_, err = state(p.Rotation.Prefix)
		} else {
			st, err = RotationBase(local, *p.Rotation)
		}
		if err == nil {
			b.ev, b.roster, err = BuildRotation(st, *p.Rotation)
		}
		if err == nil {
			b.keys, b.kt = b.ev.Keys(), b.ev.Kt()
			b.rotation, b.priorNext, b.priorNt = true, st.Next, st.Nt
		}
	case KindAnchoring:
		var st kel.KeyState
		if st, err = state(p.Anchoring.Prefix); err == nil {
			b.ev, b.roster, err = BuildAnchoring(st, *p.Anchoring)
		}
		if err == nil {
			b.keys, b.kt = st.Keys, st.Kt
		}
	}
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(b.ev.Raw(), p.Event) {
		said := proposedSAID(p.Event)
		return nil, fmt.Errorf("%w: rebuilt %s %s, proposed %s (%s)", ErrProposalMismatch,
			b.ev.Ilk(), b.ev.SAID(), said, firstDifference(maskSAID(b.ev.Raw(), b.ev.SAID()), maskSAID(p.Event, said)))
	}
	return &b, nil
}

func (p Proposal) checkShape() error {
	n := 0
	for _, set := range []bool{p.Inception != nil, p.Rotation != nil, p.Anchoring != nil} {
		if set {
			n++
		}
	}
	ok := n == 1 && (p.Kind == KindInception && p.Inception != nil ||
		p.Kind == KindRotation && p.Rotation != nil ||
		p.Kind == KindAnchoring && p.Anchoring != nil)
	if !ok {
		return fmt.Errorf("%w: kind %q needs exactly its own parameters", ErrMalformedProposal, p.Kind)
	}
	return nil
}

func proposedSAID(raw []byte) string {
	if ev, err := kel.ParseEvent(raw); err == nil {
		return ev.SAID()
	}
	return "an event that does not parse"
}

// maskSAID blanks the version string and the SAID, so that a comparison
// finds the first difference in the content rather than in its digest.
func maskSAID(raw []byte, said string) []byte {
	out := slices.Clone(raw)
	const vStart, vEnd = len(`{"v":"`), len(`{"v":"KERI10JSON000000_`)
	if len(out) >= vEnd {
		copy(out[vStart:vEnd], bytes.Repeat([]byte{'.'}, vEnd-vStart))
	}
	if len(said) == 44 {
		out = bytes.ReplaceAll(out, []byte(said), bytes.Repeat([]byte{'#'}, 44))
	}
	return out
}

// firstDifference describes where two bodies first differ.
func firstDifference(a, b []byte) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	if i == len(a) && i == len(b) {
		return "identical"
	}
	from := max(0, i-16)
	show := func(x []byte) string { return string(x[from:min(len(x), i+24)]) }
	return fmt.Sprintf("first difference at byte %d: rebuilt %q, proposed %q", i, show(a), show(b))
}

// Wire form.

const proposalFormat = "keremony-proposal/1"

// maxProposalSize bounds ParseProposal's input.
const maxProposalSize = 4 << 20

type proposalWire struct {
	Format    string         `json:"format"`
	ID        string         `json:"id"`
	Kind      Kind           `json:"kind"`
	Event     string         `json:"event"`
	Inception *inceptionWire `json:"inception,omitempty"`
	Rotation  *rotationWire  `json:"rotation,omitempty"`
	Anchoring *anchoringWire `json:"anchoring,omitempty"`
	Proposer  *Proposer      `json:"proposer,omitempty"`
}

type inceptionWire struct {
	Members   []Card        `json:"members"`
	Kt        jsonThreshold `json:"kt"`
	Nt        jsonThreshold `json:"nt"`
	Witnesses []string      `json:"witnesses,omitempty"`
	Bt        uint64        `json:"bt,omitempty"`
	Config    []string      `json:"config,omitempty"`
	Delegator string        `json:"delegator,omitempty"`
}

type rotationWire struct {
	Prefix  string         `json:"prefix"`
	Members []Contribution `json:"members"`
	Kt      jsonThreshold  `json:"kt"`
	Nt      jsonThreshold  `json:"nt"`
	Bt      uint64         `json:"bt,omitempty"`
	Cuts    []string       `json:"cuts,omitempty"`
	Adds    []string       `json:"adds,omitempty"`
	Seals   []sealWire     `json:"seals,omitempty"`
	// Supersede: the sn of a recovery rotation (omitted for an ordinary one).
	Supersede uint64 `json:"supersede,omitempty"`
}

type anchoringWire struct {
	Prefix    string         `json:"prefix"`
	Seals     []sealWire     `json:"seals"`
	Members   []Card         `json:"members,omitempty"`
	Documents []DocumentNote `json:"documents,omitempty"`
}

type sealWire struct {
	Kind kel.SealKind `json:"kind"`
	I    string       `json:"i,omitempty"`
	S    uint64       `json:"s,omitempty"`
	D    string       `json:"d,omitempty"`
	RD   string       `json:"rd,omitempty"`
	BI   string       `json:"bi,omitempty"`
}

// jsonThreshold writes a threshold as its canonical KERI JSON value.
type jsonThreshold kel.Threshold

func (t jsonThreshold) MarshalJSON() ([]byte, error) { return []byte(kel.Threshold(t).String()), nil }

func (t *jsonThreshold) UnmarshalJSON(b []byte) error {
	th, err := kel.ParseThreshold(string(b))
	if err != nil {
		return err
	}
	*t = jsonThreshold(th)
	return nil
}

func sealsToWire(ss []kel.Seal) []sealWire {
	var out []sealWire
	for _, s := range ss {
		out = append(out, sealWire{Kind: s.Kind, I: s.I, S: s.S, D: s.D, RD: s.RD, BI: s.BI})
	}
	return out
}

func sealsFromWire(ws []sealWire) []kel.Seal {
	var out []kel.Seal
	for _, w := range ws {
		out = append(out, kel.Seal{Kind: w.Kind, I: w.I, S: w.S, D: w.D, RD: w.RD, BI: w.BI})
	}
	return out
}

// Marshal encodes the proposal for the other devices.
func (p Proposal) Marshal() ([]byte, error) {
	if err := p.checkShape(); err != nil {
		return nil, err
	}
	if err := checkID(p.ID); err != nil {
		return nil, err
	}
	w := proposalWire{Format: proposalFormat, ID: p.ID, Kind: p.Kind, Event: string(p.Event), Proposer: p.Proposer}
	switch {
	case p.Inception != nil:
		i := p.Inception
		w.Inception = &inceptionWire{Members: i.Members, Kt: jsonThreshold(i.Kt), Nt: jsonThreshold(i.Nt),
			Witnesses: i.Witnesses, Bt: i.Bt, Config: i.Config, Delegator: i.Delegator}
	case p.Rotation != nil:
		r := p.Rotation
		w.Rotation = &rotationWire{Prefix: r.Prefix, Members: r.Members, Kt: jsonThreshold(r.Kt), Nt: jsonThreshold(r.Nt),
			Bt: r.Bt, Cuts: r.Cuts, Adds: r.Adds, Seals: sealsToWire(r.Seals), Supersede: r.Supersede}
	case p.Anchoring != nil:
		a := p.Anchoring
		if err := checkDocumentNotes(a.Documents, a.Seals); err != nil {
			return nil, err
		}
		w.Anchoring = &anchoringWire{Prefix: a.Prefix, Seals: sealsToWire(a.Seals), Members: a.Members, Documents: a.Documents}
	}
	return json.Marshal(w)
}

// ParseProposal decodes a proposal received from another device. It checks
// the form only; Review decides whether the event may be signed.
func ParseProposal(b []byte) (Proposal, error) {
	if len(b) > maxProposalSize {
		return Proposal{}, fmt.Errorf("%w: %d bytes, more than %d", ErrMalformedProposal, len(b), maxProposalSize)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var w proposalWire
	if err := dec.Decode(&w); err != nil {
		return Proposal{}, fmt.Errorf("%w: %w", ErrMalformedProposal, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Proposal{}, fmt.Errorf("%w: data after the proposal", ErrMalformedProposal)
	}
	if w.Format != proposalFormat {
		return Proposal{}, fmt.Errorf("%w: format %q, want %q", ErrMalformedProposal, clip(w.Format), proposalFormat)
	}
	if err := checkID(w.ID); err != nil {
		return Proposal{}, err
	}
	p := Proposal{ID: w.ID, Kind: w.Kind, Event: []byte(w.Event), Proposer: w.Proposer}
	if w.Inception != nil {
		i := w.Inception
		p.Inception = &InceptionParams{Members: i.Members, Kt: kel.Threshold(i.Kt), Nt: kel.Threshold(i.Nt),
			Witnesses: i.Witnesses, Bt: i.Bt, Config: i.Config, Delegator: i.Delegator}
	}
	if w.Rotation != nil {
		r := w.Rotation
		p.Rotation = &RotationParams{Prefix: r.Prefix, Members: r.Members, Kt: kel.Threshold(r.Kt), Nt: kel.Threshold(r.Nt),
			Bt: r.Bt, Cuts: r.Cuts, Adds: r.Adds, Seals: sealsFromWire(r.Seals), Supersede: r.Supersede}
	}
	if w.Anchoring != nil {
		a := w.Anchoring
		p.Anchoring = &AnchoringParams{Prefix: a.Prefix, Seals: sealsFromWire(a.Seals), Members: a.Members, Documents: a.Documents}
		if err := checkDocumentNotes(p.Anchoring.Documents, p.Anchoring.Seals); err != nil {
			return Proposal{}, err
		}
	}
	if err := p.checkShape(); err != nil {
		return Proposal{}, err
	}
	if err := p.checkLabels(); err != nil {
		return Proposal{}, err
	}
	if _, err := kel.ParseEvent(p.Event); err != nil {
		return Proposal{}, fmt.Errorf("%w: event: %w", ErrMalformedProposal, err)
	}
	return p, nil
}

// checkLabels checks the text of every label the proposal carries.
func (p Proposal) checkLabels() error {
	var labels []string
	switch {
	case p.Inception != nil:
		for _, c := range p.Inception.Members {
			labels = append(labels, c.Label)
		}
	case p.Rotation != nil:
		for _, c := range p.Rotation.Members {
			labels = append(labels, c.Label)
		}
	case p.Anchoring != nil:
		for _, c := range p.Anchoring.Members {
			labels = append(labels, c.Label)
		}
	}
	for _, l := range labels {
		if err := checkLabelText("member label", l); err != nil {
			return err
		}
	}
	if p.Proposer != nil {
		return checkProposerFields(*p.Proposer)
	}
	return nil
}

// clone copies the proposal's slices so callers cannot alter a ceremony's.
func (p Proposal) clone() Proposal {
	q := p
	q.Event = slices.Clone(p.Event)
	if p.Inception != nil {
		i := *p.Inception
		i.Members, i.Witnesses, i.Config = slices.Clone(i.Members), slices.Clone(i.Witnesses), slices.Clone(i.Config)
		q.Inception = &i
	}
	if p.Rotation != nil {
		r := *p.Rotation
		r.Members, r.Cuts, r.Adds, r.Seals = slices.Clone(r.Members), slices.Clone(r.Cuts), slices.Clone(r.Adds), slices.Clone(r.Seals)
		q.Rotation = &r
	}
	if p.Anchoring != nil {
		a := *p.Anchoring
		a.Seals, a.Members, a.Documents = slices.Clone(a.Seals), slices.Clone(a.Members), slices.Clone(a.Documents)
		q.Anchoring = &a
	}
	if p.Proposer != nil {
		pr := *p.Proposer
		q.Proposer = &pr
	}
	return q
}
