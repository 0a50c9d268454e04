package device

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/device/api"
	"github.com/keremony/keremony/kel"
	"github.com/keremony/keremony/keystore"
	"github.com/keremony/keremony/transport"
)

// Proposed is a proposal made on this device: its ceremony (recorded and
// open), the packet to send every member, and the group's key state before
// the event (zero for an inception).
type Proposed struct {
	Ceremony *ceremony.Ceremony
	Packet   transport.Proposal
	Prior    kel.KeyState
	// Notices are warnings about the request (a contribution signed by a
	// key that is not a current one, …).
	Notices []api.Notice
}

// Inception is a request to propose a group's inception.
type Inception struct {
	Alias string // the group's alias on this device
	// Members in roster order (MemberCard makes the card of a member of
	// this device).
	Members []ceremony.Card
	// From is the proposer's label ("": none).
	From string
	// Kt and Nt are the thresholds; nil takes ceremony.DefaultThreshold of the
	// number of members (Nt: Kt).
	Kt, Nt *kel.Threshold
	// Config: "EO", "DND".
	Config []string
	// Delegator (alias or prefix, "" for none) makes a delegated inception.
	Delegator string
	// Witnesses are the witnesses' OOBI URLs, resolved through the network
	// (their prefixes go into b, their URLs into this home); Toad is the
	// witness threshold (0: keripy's default majority, kel.Ample).
	Witnesses []string
	Toad      uint64
	Expires   time.Duration
}

// ReadCard reads a member card packet file and returns it as an inception
// member.
func ReadCard(path string) (ceremony.Card, error) {
	pk, err := ReadPacket(path, nil, transport.PacketCard)
	if err != nil {
		return ceremony.Card{}, err
	}
	return pk.(transport.Card).Card, nil
}

// ProposeInception proposes the inception of a group: it records and opens
// the ceremony and the alias, and returns the proposal packet to send.
func (d *Device) ProposeInception(req Inception) (*Proposed, error) {
	if err := keystore.CheckAlias(req.Alias); err != nil {
		return nil, fmt.Errorf("%w: --group: %w", ErrRequest, err)
	}
	kt := ceremony.DefaultThreshold(len(req.Members))
	if req.Kt != nil {
		kt = *req.Kt
	}
	nt := kt
	if req.Nt != nil {
		nt = *req.Nt
	}
	members, err := d.signLocalCards(req.Members)
	if err != nil {
		return nil, err
	}
	params := ceremony.InceptionParams{Members: members, Kt: kt, Nt: nt, Config: req.Config}
	if len(req.Witnesses) > 0 || req.Toad != 0 {
		wits, err := d.resolveWitnesses(context.Background(), req.Witnesses)
		if err != nil {
			return nil, err
		}
		params.Witnesses, params.Bt = wits, req.Toad
		if params.Bt == 0 {
			params.Bt = kel.Ample(len(wits))
		}
		if err := checkToad(params.Bt, len(wits)); err != nil {
			return nil, err
		}
	}
	if req.Delegator != "" {
		prefix, _, err := d.ResolveAID(req.Delegator)
		if err != nil {
			return nil, err
		}
		params.Delegator = prefix
	}
	p, err := ceremony.ProposeInception(params)
	if err != nil {
		return nil, err
	}
	ev, _ := kel.ParseEvent(p.Event)
	if prefix, ok := d.groups.lookup(req.Alias); ok && prefix != ev.Prefix() {
		return nil, fmt.Errorf("%w: %q is %s here; choose another --group", ErrGroupAlias, req.Alias, prefix)
	}
	if foreign, err := d.foreignKeys(ev.Prefix(), ev.Keys(), ev.Next()); err != nil {
		return nil, err
	} else if len(foreign) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrSeatBound, strings.Join(foreign, "; "))
	}
	p.ID = ceremony.NewID()
	if err := d.signProposal(&p, ev.Keys(), req.From, req.Alias, nil); err != nil {
		return nil, err
	}
	cer, err := d.record(p, d.deadline(req.Expires))
	if err != nil {
		return nil, err
	}
	if err := d.bindSeats(ev.Prefix(), ev.Keys(), ev.Next()); err != nil {
		return nil, err
	}
	if _, err := d.groups.add(req.Alias, ev.Prefix()); err != nil {
		return nil, err
	}
	pk, err := d.proposalPacket(cer)
	if err != nil {
		return nil, err
	}
	d.proposed(cer, pk)
	return &Proposed{Ceremony: cer, Packet: pk}, nil
}

// recordGroupProposal signs a proposal for an existing group (rotation,
// anchoring) as this device's member from (default: the first member of
// this device among the group's current keys), records it and makes its
// packet.
func (d *Device) recordGroupProposal(p ceremony.Proposal, expires time.Duration, prefix string, st kel.KeyState, from string) (*Proposed, error) {
	p.ID = ceremony.NewID()
	ev, err := kel.ParseEvent(p.Event)
	if err != nil {
		return nil, err
	}
	if err := d.signProposal(&p, proposerKeys(st, ev, p.Kind == ceremony.KindRotation), from, d.groups.aliasOf(prefix), d.rosterBook(prefix)); err != nil {
		return nil, err
	}
	cer, err := d.record(p, d.deadline(expires))
	if err != nil {
		return nil, err
	}
	pk, err := d.proposalPacket(cer)
	if err != nil {
		return nil, err
	}
	d.proposed(cer, pk)
	return &Proposed{Ceremony: cer, Packet: pk, Prior: st}, nil
}

// Contributed is a prepared rotation: the member, its position in the
// group's prior next list and the signed contribution to send.
type Contributed struct {
	Alias, Label string
	Prefix       string
	Ondex        int
	Packet       transport.Contribution
}

// Contribute prepares the rotation of member alias's seat in group ("":
// the one member of this device whose seat's next key group commits) and
// returns its signed contribution. A seat in no group yet whose next key
// the group commits (a member that joined through the next commitment)
// comes to serve the group now.
func (d *Device) Contribute(group, alias string) (*Contributed, error) {
	prefix, st, err := d.ResolveAID(group)
	if err != nil {
		return nil, err
	}
	ks, err := d.rotatingSeat(prefix, st, alias)
	if err != nil {
		return nil, err
	}
	alias = ks.Member
	j := slices.Index(st.Next, ks.NextDigest)
	if ks.Group == "" {
		if ks, err = d.ks.BindSeat(ks.SeatRef, prefix); err != nil {
			return nil, err
		}
	}
	label := alias
	if l := d.rosterBook(prefix)[ks.NextDigest]; l != "" {
		label = l
	}
	rot, err := d.ks.PrepareRotation(ks.SeatRef)
	if err != nil {
		return nil, err
	}
	contrib := transport.Contribution{Group: prefix, Contribution: ceremony.Contribution{
		Label: label, Role: ceremony.RoleRotate, Key: kel.EncodeVerKey(rot.NewKey), Next: rot.NewNextDigest, Signer: kel.EncodeVerKey(ks.PublicKey)}}
	if err := ceremony.CheckContribution(st, contrib.Contribution); err != nil {
		return nil, err
	}
	sign := func(b []byte) ([]byte, error) { return d.ks.SignProof(ks.SeatRef, b) }
	if ks.LostCurrent {
		// The current key is gone: the key the contribution reveals signs.
		contrib.Signer = contrib.Key
		sign = func(b []byte) ([]byte, error) { return d.ks.SignProofRevealing(ks.SeatRef, b) }
	}
	contrib, err = transport.NewContribution(contrib, sign)
	if err != nil {
		return nil, err
	}
	return &Contributed{Alias: alias, Label: label, Prefix: prefix, Ondex: j, Packet: contrib}, nil
}

// Rotation is a request to propose a rotation.
type Rotation struct {
	Group string // alias or prefix
	// Files are contribution packet files; Parts contributions already
	// read (in roster order after the files' ones); Local names members of
	// this device that contribute here (as Contribute does).
	Files []string
	Parts []ceremony.Contribution
	Local []string
	// Extra are --add-next CARD, --reserve LABEL[=DIGEST] and --drop
	// LABEL[=DIGEST] in command-line order ({"add-next", file}, …).
	Extra [][2]string
	// Kt and Nt default to the current thresholds (nil).
	Kt, Nt *kel.Threshold
	// From is the proposer's label ("": this device's member in the group).
	From string
	// ByPriorOrder sorts the parts by their digest's position in the
	// group's next list (the TUI's order); otherwise the order given.
	ByPriorOrder bool
	// WitnessAdd are OOBIs of witnesses to add (resolved through the
	// network), WitnessCut names or prefixes of witnesses to remove; Toad
	// is the new witness threshold (nil: the current one when the
	// witnesses stay, else keripy's default majority of the new list).
	WitnessAdd []string
	WitnessCut []string
	Toad       *uint64
	// Recover makes a recovery rotation superseding the interaction events
	// from sn At on (0: the first one a recovery may supersede).
	Recover bool
	At      uint64
	Expires time.Duration
}

// ProposeRotation proposes a rotation of a group from the members' parts
// and records and opens its ceremony.
func (d *Device) ProposeRotation(req Rotation) (*Proposed, error) {
	prefix, st, err := d.ResolveAID(req.Group)
	if err != nil {
		return nil, err
	}
	if req.At != 0 && !req.Recover {
		return nil, requestf("--at SN is for a recovery rotation: add --recover")
	}
	var supersede uint64
	if req.Recover {
		if supersede, err = d.recoverySn(prefix, req.At); err != nil {
			return nil, err
		}
	}
	var notices []api.Notice
	var members []ceremony.Contribution
	for _, f := range req.Files {
		pk, err := ReadPacket(f, nil, transport.PacketContribution)
		if err != nil {
			return nil, err
		}
		t := pk.(transport.Contribution)
		if t.Group != prefix {
			return nil, fmt.Errorf("%s: %w: the contribution is for %s, not %s", f, ErrWrongPacket, d.GroupName(t.Group), d.GroupName(prefix))
		}
		cc := t.Contribution
		if err := ceremony.CheckContribution(st, cc); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		if !slices.Contains(st.Keys, t.Signer) {
			notices = append(notices, api.Notice{Text: fmt.Sprintf("warning: the contribution of %q (%s) is signed by %s, which is not a current key of %s: make sure it came from %s",
				t.Label, f, t.Signer, d.GroupName(prefix), t.Label)})
		}
		members = append(members, cc)
	}
	parts, err := d.signLocalParts(prefix, req.Parts)
	if err != nil {
		return nil, err
	}
	for _, p := range parts {
		if err := ceremony.CheckContribution(st, p); err != nil {
			return nil, err
		}
		members = append(members, p)
	}
	for _, alias := range req.Local {
		c, err := d.Contribute(prefix, alias)
		if err != nil {
			return nil, err
		}
		members = append(members, c.Packet.Contribution)
	}
	for _, e := range req.Extra {
		switch e[0] {
		case "add-next":
			pk, err := ReadPacket(e[1], nil, transport.PacketCard)
			if err != nil {
				return nil, err
			}
			card := pk.(transport.Card)
			members = append(members, JoinByCard(card.Card))
		case "reserve", "drop":
			label, dig, err := d.labelDigest(prefix, st, e[1])
			if err != nil {
				return nil, err
			}
			role := ceremony.RoleReserve
			if e[0] == "drop" {
				role = ceremony.RoleDrop
			}
			members = append(members, ceremony.Contribution{Label: label, Role: role, Prior: dig})
		}
	}
	if req.ByPriorOrder {
		position := func(p ceremony.Contribution) int {
			prior := p.Prior
			if prior == "" && p.Key != "" {
				prior = kel.NextDigest(p.Key)
			}
			if i := slices.Index(st.Next, prior); i >= 0 {
				return i
			}
			return len(st.Next)
		}
		slices.SortStableFunc(members, func(a, b ceremony.Contribution) int { return position(a) - position(b) })
	}
	nKeys, nNext := 0, 0
	for _, m := range members {
		if m.Key != "" {
			nKeys++
		}
		if m.Next != "" || m.Role == ceremony.RoleReserve {
			nNext++
		}
	}
	kt, nt := st.Kt, st.Nt
	if req.Kt != nil {
		kt = *req.Kt
	} else if kt.Validate(nKeys) != nil {
		return nil, requestf("the current kt %s does not fit %d keys: give --kt", kt, nKeys)
	}
	if req.Nt != nil {
		nt = *req.Nt
	} else if nt.Validate(nNext) != nil {
		return nil, requestf("the current nt %s does not fit %d next digests: give --nt", nt, nNext)
	}
	params := ceremony.RotationParams{Prefix: prefix, Members: members, Kt: kt, Nt: nt, Supersede: supersede}
	if err := d.witnessChange(req, st, &params); err != nil {
		return nil, err
	}
	v, err := d.store.VerifierOf(prefix)
	if err != nil {
		return nil, err
	}
	base, err := ceremony.RotationBase(v, params)
	if err != nil {
		return nil, err
	}
	p, err := ceremony.ProposeRotation(base, params)
	if err != nil {
		return nil, err
	}
	out, err := d.recordGroupProposal(p, req.Expires, prefix, base, req.From)
	if err != nil {
		return nil, err
	}
	out.Notices = notices
	return out, nil
}

// JoinByCard is the part of a member joining a rotation through the next
// commitment of its card: its label and next digest, bound by the card's
// key and signature.
func JoinByCard(c ceremony.Card) ceremony.Contribution {
	return ceremony.Contribution{Label: c.Label, Role: ceremony.RoleNextOnly, Next: c.Next, Signer: c.Key, Sig: c.Sig}
}

// labelDigest finds LABEL's digest in the group's current next list, or
// takes it from LABEL=DIGEST.
func (d *Device) labelDigest(prefix string, st kel.KeyState, arg string) (string, string, error) {
	label, dig, hasDig := strings.Cut(arg, "=")
	if hasDig {
		if !slices.Contains(st.Next, dig) {
			return "", "", fmt.Errorf("%w: %s is not in the next list of %s", ceremony.ErrContribution, dig, d.GroupName(prefix))
		}
		return label, dig, nil
	}
	for k, l := range d.rosterBook(prefix) {
		if l == label && slices.Contains(st.Next, k) {
			return label, k, nil
		}
	}
	return "", "", requestf("this device does not know which next digest of %s is %q's: give %s=DIGEST (one of %s)",
		d.GroupName(prefix), label, label, strings.Join(st.Next, ", "))
}

// Anchoring is a request to propose an interaction event anchoring seals.
type Anchoring struct {
	Group string
	// Seals are anchored in order; SealArgs ({"event", "AID[:SN[:SAID]]"}
	// or {"file", path}) follow them.
	Seals    []kel.Seal
	SealArgs [][2]string
	// Documents are notes on the documents behind Seals (file name and
	// size, for the co-signers); documents of SealArgs get theirs here.
	Documents []ceremony.DocumentNote
	From      string
	Expires   time.Duration
}

// ProposeAnchoring proposes an ixn of a group anchoring seals, and records
// and opens its ceremony.
func (d *Device) ProposeAnchoring(req Anchoring) (*Proposed, error) {
	prefix, st, err := d.ResolveAID(req.Group)
	if err != nil {
		return nil, err
	}
	seals := slices.Clone(req.Seals)
	notes := slices.Clone(req.Documents)
	for _, s := range req.SealArgs {
		switch s[0] {
		case "event":
			seal, err := d.ParseEventSeal(s[1])
			if err != nil {
				return nil, err
			}
			seals = append(seals, seal)
		case "file":
			data, err := ReadBounded(s[1], nil, maxDocument, nil)
			if err != nil {
				return nil, err
			}
			seal := kel.DigestSeal(data)
			seals = append(seals, seal)
			if n, ok := ceremony.NoteDocument(s[1], seal.D, int64(len(data))); ok && !slices.ContainsFunc(notes, func(o ceremony.DocumentNote) bool { return o.Digest == n.Digest }) {
				notes = append(notes, n)
			}
		}
	}
	book := d.rosterBook(prefix)
	var cards []ceremony.Card
	for _, k := range st.Keys {
		if l := book[k]; l != "" && !slices.ContainsFunc(cards, func(c ceremony.Card) bool { return c.Label == l }) {
			card := ceremony.Card{Label: l, Key: k}
			for _, n := range st.Next {
				if book[n] == l {
					card.Next = n
				}
			}
			cards = append(cards, card)
		}
	}
	p, err := ceremony.ProposeAnchoring(st, ceremony.AnchoringParams{Prefix: prefix, Seals: seals, Members: cards, Documents: notes})
	if err != nil {
		return nil, err
	}
	return d.recordGroupProposal(p, req.Expires, prefix, st, req.From)
}

// maxDocument caps a document read for a digest seal.
const maxDocument = 1 << 30

// ParseEventSeal reads AID[:SN[:SAID]] (AID may be a local alias),
// completing it from the local KEL.
func (d *Device) ParseEventSeal(arg string) (kel.Seal, error) {
	parts := strings.Split(arg, ":")
	if len(parts) > 3 || parts[0] == "" {
		return kel.Seal{}, requestf("--seal-event %q: want AID[:SN[:SAID]]", arg)
	}
	prefix, ok := d.groups.lookup(parts[0])
	if !ok {
		prefix = parts[0]
	}
	if _, err := kel.DecodeMatter(prefix, kel.CodeBlake3_256, kel.CodeEd25519, kel.CodeEd25519N); err != nil {
		return kel.Seal{}, requestf("--seal-event %q: %q is neither an alias nor an identifier: %v", arg, parts[0], err)
	}
	v, err := d.store.VerifierOf(prefix)
	if err != nil {
		return kel.Seal{}, err
	}
	msgs := v.Messages(prefix)
	var sn uint64
	switch {
	case len(parts) >= 2:
		n, err := strconv.ParseUint(parts[1], 10, 64)
		if err != nil {
			return kel.Seal{}, requestf("--seal-event %q: sequence number %q", arg, parts[1])
		}
		sn = n
	case len(msgs) == 0:
		return kel.Seal{}, fmt.Errorf("%w: this device holds no kel of %s: import it (keremony kel import) or give AID:SN:SAID", ErrGroupUnknown, prefix)
	default:
		sn = uint64(len(msgs) - 1)
	}
	held := sn < uint64(len(msgs))
	said := ""
	if len(parts) == 3 {
		said = parts[2]
		if _, err := kel.DecodeMatter(said, kel.CodeBlake3_256); err != nil {
			return kel.Seal{}, requestf("--seal-event %q: said: %v", arg, err)
		}
		if held && msgs[sn].Event.SAID() != said && !v.MayRecoverAt(prefix, sn) {
			return kel.Seal{}, fmt.Errorf("%w: event %d of %s is %s on this device, not %s", ceremony.ErrAnchorConflict, sn, prefix, msgs[sn].Event.SAID(), said)
		}
	} else if held {
		said = msgs[sn].Event.SAID()
	} else {
		return kel.Seal{}, fmt.Errorf("%w: this device holds no event %d of %s: give AID:SN:SAID", ErrGroupUnknown, sn, prefix)
	}
	return kel.EventSeal(prefix, sn, said), nil
}

// RosterLabels lists a roster's labels.
func RosterLabels(r ceremony.Roster) string {
	var l []string
	for _, m := range r {
		l = append(l, m.Label)
	}
	return strings.Join(l, ", ")
}

// rotatingSeat is the seat of member alias ("": of the one member of this
// device) whose next digest the group's next list commits: the member's
// seat in the group, or a seat of it in no group yet.
func (d *Device) rotatingSeat(prefix string, st kel.KeyState, alias string) (keystore.Seat, error) {
	all, err := d.ks.Seats()
	if err != nil {
		return keystore.Seat{}, err
	}
	if alias != "" {
		if _, err := d.ks.Member(alias); err != nil {
			return keystore.Seat{}, err
		}
	}
	var found []keystore.Seat
	for _, ks := range all {
		if (alias == "" || ks.Member == alias) && (ks.Group == prefix || ks.Group == "" && !ks.Legacy) && slices.Contains(st.Next, ks.NextDigest) {
			found = append(found, ks)
		}
	}
	switch {
	case len(found) == 1:
		return found[0], nil
	case len(found) > 1:
		var names []string
		for _, ks := range found {
			names = append(names, ks.Member)
		}
		return keystore.Seat{}, fmt.Errorf("%w: members %s all rotate in %s: choose one with --member", ErrAmbiguous, strings.Join(names, ", "), d.GroupName(prefix))
	case alias == "":
		return keystore.Seat{}, fmt.Errorf("%w: no member of this device has its next key committed in %s", ErrNoMember, d.GroupName(prefix))
	}
	return keystore.Seat{}, fmt.Errorf("%w: the next key of member %s is not committed in the next list of %s, so it cannot rotate into it (a new member joins through 'rotate propose --add-next CARD')",
		ErrNoMember, alias, d.GroupName(prefix))
}

// bindSeats makes the seats of this device in no group yet that an event
// of prefix lists (current key among keys, next digest among next) serve
// prefix for good.
func (d *Device) bindSeats(prefix string, keys, next []string) error {
	all, err := d.ks.Seats()
	if err != nil {
		return err
	}
	for _, ks := range all {
		if ks.Group != "" || ks.Legacy {
			continue
		}
		if slices.Contains(keys, kel.EncodeVerKey(ks.PublicKey)) || slices.Contains(next, ks.NextDigest) {
			if _, err := d.ks.BindSeat(ks.SeatRef, prefix); err != nil {
				return err
			}
		}
	}
	return nil
}
