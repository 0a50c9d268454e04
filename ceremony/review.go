package ceremony

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/keremony/keremony/kel"
)

// Reviewer is the co-signer doing a review.
type Reviewer struct {
	// Key is the key you will sign with (for a rotation: the key you reveal).
	Key string
	// Next is your next-key digest: the one that should be committed in the
	// event's n if you are to take part in the next rotation.
	Next string
	// Labels is an optional address book, key or digest → label, used to
	// name positions the proposal's roster cannot (the prior key list).
	Labels map[string]string
	// Documents are files, by name, whose digests the proposal may anchor.
	Documents map[string][]byte
}

// SealView is one decoded seal of the proposed event.
type SealView struct {
	Seal kel.Seal
	Text string
	// Known is set when this device could check the seal: an event seal
	// naming an event it holds, a digest seal matching a given document.
	Known bool
	// Proposer is what the proposer says a digest seal commits to
	// ("minutes.pdf, 41 KB"), "" when it says nothing. It checks nothing.
	Proposer string
}

// KeyDiff compares a rotation with the group's current key state.
type KeyDiff struct {
	KeptKeys, AddedKeys, RemovedKeys []string
	KeptNext, AddedNext, RemovedNext []string
	// Thresholds before and after, as KERI JSON (Threshold.String) and in
	// words (Threshold.Describe).
	KtBefore, KtAfter, NtBefore, NtAfter                 string
	KtBeforeText, KtAfterText, NtBeforeText, NtAfterText string
	WitnessesBefore, WitnessesAfter                      []string
	BtBefore, BtAfter                                    uint64
	// WitnessChange says in words what the rotation does to the witnesses
	// ("" when nothing).
	WitnessChange string
	// Members has one plain line per roster member.
	Members []string
}

// Review is the outcome of a co-signer's review of a proposal: the event it
// rebuilt itself and what it means for the reviewer. Only ReviewProposal
// makes a Review that passed, and signing requires one.
type Review struct {
	ProposalID string
	Kind       Kind
	Ilk        string
	Prefix     string
	SAID       string
	Sn         uint64
	Roster     Roster

	// You: the reviewer's key, its signing position (-1 when the reviewer
	// does not sign) and roster label.
	Key   string
	Index int
	Label string
	// Ondex is, on rotations, the position of your key's digest in the prior
	// n (-1: your key was not pre-committed and signs with a B code).
	Ondex int
	// NextCommitted: your next digest is in the (new) n; NextText says what
	// that means.
	NextCommitted bool
	NextText      string

	// The thresholds over the signing keys and the next digests (for an
	// anchoring: the group's current ones).
	Kt, Nt         string
	KtText, NtText string
	Diff           *KeyDiff // rotations
	Seals          []SealView
	Witnesses      []string
	Bt             uint64
	// WitnessText says in words who witnesses the group after the event
	// and how many receipts each event needs.
	WitnessText string
	Config      []string
	Delegator   string
	// Supersedes lists, for a recovery rotation, the events of the group's
	// KEL on this device that it supersedes, each described in words.
	Recovery       bool // a recovery rotation (its proposal names the sn it supersedes from)
	Supersedes     []kel.EventRef
	SupersedesText []string
	Warnings       []string

	raw    []byte
	passed bool
}

// Passed reports whether the review passed: only then may the event be
// signed.
func (r *Review) Passed() bool { return r != nil && r.passed }

// Raw is a copy of the reviewed bytes.
func (r *Review) Raw() []byte { return slices.Clone(r.raw) }

// ReviewProposal is the co-signer's check before signing: it rebuilds the
// event from the proposal's declared parameters and the local KEL copy with
// kel's builders, requires byte equality with the proposed bytes,
// recomputes the SAID, checks that the event chains on the local copy (for
// an inception: that the prefix is the SAID and unknown here), that every
// member's label is bound by its signed card or contribution and agrees
// with me.Labels (checkLabels), and that no event seal contradicts an event
// held here. local may be nil for an inception.
func ReviewProposal(p Proposal, local *kel.Verifier, me Reviewer) (*Review, error) {
	if local == nil {
		local = kel.NewVerifier()
	}
	proposed, err := kel.ParseEvent(p.Event)
	if err != nil {
		return nil, fmt.Errorf("%w: event: %w", ErrMalformedProposal, err)
	}
	// A rotation or an anchoring is checked against the local KEL before the
	// rebuild, so a proposal made on another view of the KEL is named as such
	// rather than as a mismatch. An inception has no prior view: its checks
	// run on the rebuilt event.
	var prior kel.KeyState
	if p.Kind != KindInception {
		if prior, err = checkChain(p, proposed, local); err != nil {
			return nil, err
		}
	}
	b, err := rebuildProposed(p, proposed, local)
	if err != nil {
		return nil, err
	}
	labelWarnings, err := checkLabels(p, me.Labels)
	if err != nil {
		return nil, err
	}
	if p.Kind == KindInception {
		if _, err = checkChain(p, b.ev, local); err != nil {
			return nil, err
		}
	}
	ev := b.ev
	r := &Review{ProposalID: p.ID, Kind: p.Kind, Ilk: ev.Ilk(), Prefix: ev.Prefix(), SAID: ev.SAID(), Sn: ev.Sn(),
		Roster: b.roster.clone(), Key: me.Key, Index: -1, Ondex: -1, raw: ev.Raw(), Delegator: ev.Delegator()}
	var notes []DocumentNote
	if p.Anchoring != nil {
		notes = p.Anchoring.Documents
	}
	if r.Seals, err = viewSeals(ev, local, me.Documents, notes); err != nil {
		return nil, err
	}
	whoYouAre(r, b, prior, me)
	r.Witnesses, r.Bt, r.Config = groupConfig(ev, prior)
	r.WitnessText = DescribeWitnesses(r.Witnesses, r.Bt, me.Labels)
	if b.rotation {
		r.Diff = diffRotation(prior, ev, b.roster, me.Labels)
		r.Recovery = p.Rotation.Supersede != 0
		r.Supersedes, r.SupersedesText = superseded(ev, local)
	}
	r.Warnings = append(reviewWarnings(r, b, prior, me), labelWarnings...)
	r.passed = true
	return r, nil
}

// checkChain is the chain check: ev must chain on the device's KEL. An
// inception's prefix must be its SAID and unknown on this device; a rotation
// or an anchoring must follow the local key state (sn one past it, prior its
// last event) and returns that state; a recovery rotation must stand where
// RotationBase puts it and returns the state it builds on. A rotation or an
// anchoring of a group this device does not know passes here: the rebuild,
// which needs the group's state, reports it as ErrUnknownGroup.
func checkChain(p Proposal, ev *kel.Event, local *kel.Verifier) (kel.KeyState, error) {
	if p.Kind == KindInception {
		if ev.Prefix() != ev.SAID() {
			return kel.KeyState{}, fmt.Errorf("%w: prefix %s is not the said %s", ErrDoesNotChain, ev.Prefix(), ev.SAID())
		}
		if _, known := local.State(ev.Prefix()); known {
			return kel.KeyState{}, fmt.Errorf("%w: %s is already incepted on this device", ErrDoesNotChain, ev.Prefix())
		}
		return kel.KeyState{}, nil
	}
	st, known := local.State(ev.Prefix())
	if known && p.Kind == KindRotation && p.Rotation.Supersede != 0 {
		base, err := RotationBase(local, *p.Rotation)
		if err != nil {
			return kel.KeyState{}, fmt.Errorf("%w: %w", ErrDoesNotChain, err)
		}
		if ev.Sn() != base.Sn+1 || ev.Prior() != base.Last {
			return kel.KeyState{}, fmt.Errorf("%w: proposed recovery sn %d after %s, local kel of %s has sn %d %s there",
				ErrDoesNotChain, ev.Sn(), ev.Prior(), st.Prefix, base.Sn, base.Last)
		}
		return base, nil
	}
	if known && (ev.Sn() != st.Sn+1 || ev.Prior() != st.Last) {
		return kel.KeyState{}, fmt.Errorf("%w: proposed sn %d after %s, local kel of %s is at sn %d %s",
			ErrDoesNotChain, ev.Sn(), ev.Prior(), st.Prefix, st.Sn, st.Last)
	}
	return st, nil
}

// kindIlks are the event types each kind of ceremony may sign.
var kindIlks = map[Kind][]string{
	KindInception: {kel.IlkIcp, kel.IlkDip},
	KindRotation:  {kel.IlkRot, kel.IlkDrt},
	KindAnchoring: {kel.IlkIxn},
}

// rebuildProposed is the rebuild: it rebuilds the event from the proposal's
// parameters and the local KEL with kel's builders, requires byte equality
// with the proposed bytes (and so the same SAID), and an event type the
// proposal's kind may sign.
func rebuildProposed(p Proposal, proposed *kel.Event, local *kel.Verifier) (*basis, error) {
	b, err := p.rebuild(local)
	if err != nil {
		return nil, err
	}
	if proposed.SAID() != b.ev.SAID() {
		return nil, fmt.Errorf("%w: proposed said %s, rebuilt %s", ErrProposalMismatch, proposed.SAID(), b.ev.SAID())
	}
	if !slices.Contains(kindIlks[p.Kind], b.ev.Ilk()) {
		return nil, fmt.Errorf("%w: a %s ceremony cannot sign a %s", ErrProposalMismatch, p.Kind, b.ev.Ilk())
	}
	return b, nil
}

// viewSeals decodes the event's seals and checks each against what this
// device holds; an event seal that contradicts a held event is an error.
func viewSeals(ev *kel.Event, local *kel.Verifier, docs map[string][]byte, notes []DocumentNote) ([]SealView, error) {
	var views []SealView
	for _, s := range ev.Seals() {
		v, err := viewSeal(s, local, docs)
		if err != nil {
			return nil, err
		}
		if i := slices.IndexFunc(notes, func(n DocumentNote) bool { return n.Digest == s.D }); i >= 0 && s.Kind == kel.SealDigest {
			v.Proposer = notes[i].String()
		}
		views = append(views, v)
	}
	return views, nil
}

// nextCommitment is the group's next commitment after ev: its own n and nt,
// or for an interaction event the prior ones it leaves in place.
func nextCommitment(ev *kel.Event, prior kel.KeyState) ([]string, kel.Threshold) {
	if !ev.IsEstablishment() {
		return prior.Next, prior.Nt
	}
	return ev.Next(), ev.Nt()
}

// whoYouAre fills in the reviewer's part in the event: the thresholds in
// the roster's words, the reviewer's signing position (index) and label,
// on rotations the position of the key's digest in the prior n (ondex),
// and whether the reviewer's next digest is committed.
func whoYouAre(r *Review, b *basis, prior kel.KeyState, me Reviewer) {
	next, nt := nextCommitment(b.ev, prior)
	r.Kt, r.KtText = b.kt.String(), b.kt.Describe(b.roster.KeyLabels(len(b.keys)))
	r.Nt, r.NtText = nt.String(), nt.Describe(b.roster.NextLabels(len(next)))
	if me.Key != "" {
		r.Index = slices.Index(b.keys, me.Key)
	}
	if r.Index >= 0 {
		r.Label = b.roster.labelAt(r.Index)
		if b.rotation {
			r.Ondex = slices.Index(b.priorNext, kel.NextDigest(me.Key))
		}
	}
	switch {
	case me.Next == "":
		r.NextText = "no next digest given: cannot tell whether you take part in the next rotation"
	case slices.Contains(next, me.Next):
		r.NextCommitted = true
		r.NextText = "your next digest is committed: you will be able to take part in the next rotation"
		if m, ok := memberByNext(b.roster, me.Next); ok && r.Label == "" {
			r.Label = m.Label
		}
	default:
		r.NextText = "your next digest is not committed: you will not be able to take part in the next rotation"
	}
}

// groupConfig is the group's witnesses, witness threshold and configuration
// traits once ev is accepted.
func groupConfig(ev *kel.Event, prior kel.KeyState) (witnesses []string, bt uint64, config []string) {
	switch {
	case ev.IsInception():
		return ev.Witnesses(), ev.Bt(), ev.Config()
	case ev.IsEstablishment():
		witnesses, _ = rotateWitnesses(prior.Witnesses, ev.Cuts(), ev.Adds())
		return witnesses, ev.Bt(), prior.Config
	default:
		return prior.Witnesses, prior.Bt, prior.Config
	}
}

// reviewWarnings is the warnings: what the reviewer should know before
// signing, in order: seals this device cannot check, the reviewer's own
// part, the group's configuration, thresholds one member meets alone, what
// a rotation changes, and kel's own warnings about the event.
func reviewWarnings(r *Review, b *basis, prior kel.KeyState, me Reviewer) []string {
	var w []string
	w = append(w, sealWarnings(r.Seals)...)
	w = append(w, yourWarnings(r, b, me)...)
	w = append(w, configWarnings(b.ev)...)
	w = append(w, thresholdWarnings(b, prior)...)
	if b.rotation {
		w = append(w, rotationWarnings(r, prior, b.ev)...)
	}
	for _, kw := range b.ev.Warnings() {
		w = append(w, "kel: "+kw)
	}
	return w
}

// sealWarnings names each seal this device could not check.
func sealWarnings(seals []SealView) []string {
	var w []string
	for _, v := range seals {
		if v.Known {
			continue
		}
		s := v.Seal
		switch s.Kind {
		case kel.SealEvent:
			w = append(w, fmt.Sprintf("this device does not hold event %d of %s: check %s elsewhere before signing", s.S, s.I, s.D))
		case kel.SealDigest:
			text := fmt.Sprintf("no document you supplied has digest %s: check what it commits to before signing", s.D)
			if v.Proposer != "" {
				text += " (the proposer says: " + v.Proposer + ")"
			}
			w = append(w, text)
		}
	}
	return w
}

// yourWarnings: the reviewer cannot sign, signs with a key that was not
// pre-committed, or drops out of the next rotation.
func yourWarnings(r *Review, b *basis, me Reviewer) []string {
	var w []string
	if r.Index < 0 {
		w = append(w, fmt.Sprintf("your key %s is not among the signing keys of this %s: you cannot sign it", orNone(me.Key), r.Ilk))
	} else if b.rotation && r.Ondex < 0 {
		w = append(w, "your key was not pre-committed in the group's prior next list: you sign with a B code and count only toward the new kt")
	}
	if me.Next != "" && !r.NextCommitted {
		w = append(w, r.NextText)
	}
	return w
}

// configWarnings: an inception's traits and delegator.
func configWarnings(ev *kel.Event) []string {
	if !ev.IsInception() {
		return nil
	}
	var w []string
	if ev.HasTrait("EO") {
		w = append(w, "establishment only: the group will never be able to anchor with interaction events")
	}
	if ev.HasTrait("DND") {
		w = append(w, "do not delegate: the group will refuse to delegate identifiers")
	}
	if ev.Delegator() != "" {
		w = append(w, fmt.Sprintf("delegated by %s: the delegator must anchor this inception before it is complete", ev.Delegator()))
	}
	return w
}

// thresholdWarnings: on establishment events, a kt or nt of 1 over several
// keys lets one member act for the group alone.
func thresholdWarnings(b *basis, prior kel.KeyState) []string {
	if !b.ev.IsEstablishment() {
		return nil
	}
	var w []string
	next, nt := nextCommitment(b.ev, prior)
	if soleThreshold(b.kt, len(b.keys)) {
		w = append(w, fmt.Sprintf("kt %s: any one of the %d keys can sign for the group alone", b.kt, len(b.keys)))
	}
	if soleThreshold(nt, len(next)) {
		w = append(w, fmt.Sprintf("nt %s: any one of the %d next keys can rotate the group alone", nt, len(next)))
	}
	return w
}

// soleThreshold reports whether t lets any one of n > 1 keys meet it.
func soleThreshold(t kel.Threshold, n int) bool {
	return !t.IsWeighted() && t.Int() == 1 && n > 1
}

// superseded lists the events of the local KEL a recovery rotation ev
// supersedes (those from its sn on), each in words.
func superseded(ev *kel.Event, local *kel.Verifier) ([]kel.EventRef, []string) {
	msgs := local.Messages(ev.Prefix())
	if ev.Sn() >= uint64(len(msgs)) {
		return nil, nil
	}
	var refs []kel.EventRef
	var text []string
	for _, m := range msgs[ev.Sn():] {
		e := m.Event
		refs = append(refs, kel.EventRef{Prefix: e.Prefix(), Sn: e.Sn(), Ilk: e.Ilk(), SAID: e.SAID()})
		line := fmt.Sprintf("%s sn %d %s", e.Ilk(), e.Sn(), e.SAID())
		var anchors []string
		for _, s := range e.Seals() {
			switch s.Kind {
			case kel.SealEvent:
				anchors = append(anchors, fmt.Sprintf("event %d of %s", s.S, s.I))
			case kel.SealDigest:
				anchors = append(anchors, "the data with digest "+s.D)
			default:
				anchors = append(anchors, fmt.Sprintf("a %s seal", s.Kind))
			}
		}
		if len(anchors) > 0 {
			line += ", which anchored " + strings.Join(anchors, ", ")
		} else {
			line += ", which anchored nothing"
		}
		text = append(text, line)
	}
	return refs, text
}

// rotationWarnings: a recovery and what it supersedes, members dropped or
// unaccounted for, a lowered kt and a change of witnesses.
func rotationWarnings(r *Review, prior kel.KeyState, ev *kel.Event) []string {
	d := r.Diff
	var w []string
	if len(r.Supersedes) > 0 {
		w = append(w, fmt.Sprintf("RECOVERY: this rotation supersedes the %d interaction events this device holds from sn %d on (%s): "+
			"they stay on record as superseded, and anything they anchored is no longer anchored by the group",
			len(r.Supersedes), ev.Sn(), strings.Join(r.SupersedesText, "; ")))
	} else if r.Recovery {
		w = append(w, fmt.Sprintf("RECOVERY proposed at sn %d, but this device holds no event there to supersede: here it is an ordinary rotation", ev.Sn()))
	}
	for _, line := range d.Members {
		if strings.Contains(line, "dropped") || strings.Contains(line, "not accounted") {
			w = append(w, line)
		}
	}
	if !prior.Kt.IsWeighted() && !ev.Kt().IsWeighted() && ev.Kt().Int() < prior.Kt.Int() {
		w = append(w, fmt.Sprintf("kt lowers from %d to %d", prior.Kt.Int(), ev.Kt().Int()))
	}
	if d.WitnessChange != "" {
		w = append(w, d.WitnessChange)
	}
	return w
}

func orNone(s string) string {
	if s == "" {
		return "(none given)"
	}
	return s
}

func memberByNext(r Roster, next string) (Member, bool) {
	for _, m := range r {
		if m.Next == next {
			return m, true
		}
	}
	return Member{}, false
}

// viewSeal decodes a seal and checks it against what this device holds.
func viewSeal(s kel.Seal, local *kel.Verifier, docs map[string][]byte) (SealView, error) {
	v := SealView{Seal: s}
	switch s.Kind {
	case kel.SealEvent:
		v.Text = fmt.Sprintf("anchors event %d of %s (said %s)", s.S, s.I, s.D)
		msgs := local.Messages(s.I)
		if s.S < uint64(len(msgs)) {
			held := msgs[s.S].Event
			if held.SAID() != s.D && local.MayRecoverAt(s.I, s.S) {
				v.Text += fmt.Sprintf(": not the %s this device holds there, which a recovery rotation may supersede (an approval of that rotation)", held.Ilk())
				return v, nil
			}
			if held.SAID() != s.D {
				return v, fmt.Errorf("%w: seal names %s at sn %d of %s, this device holds %s", ErrAnchorConflict, s.D, s.S, s.I, held.SAID())
			}
			v.Known = true
			v.Text += fmt.Sprintf(": the %s this device holds", held.Ilk())
		}
	case kel.SealDigest:
		v.Text = "commits to data with digest " + s.D
		for _, name := range slices.Sorted(maps.Keys(docs)) {
			if kel.Digest(docs[name]) == s.D {
				v.Known = true
				v.Text += fmt.Sprintf(": the document %q", name)
				break
			}
		}
	default:
		v.Text = fmt.Sprintf("%s seal %s", s.Kind, s)
	}
	return v, nil
}
