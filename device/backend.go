package device

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/device/api"
	"github.com/keremony/keremony/kel"
	"github.com/keremony/keremony/keystore"
	"github.com/keremony/keremony/transport"
)

// backend is a Device as the TUI's api.Backend: the same operations,
// addressed by ids and returning the TUI's plain data.
type backend struct{ d *Device }

// Backend is the device as the TUI drives it.
func (d *Device) Backend() api.Backend { return backend{d} }

func (b backend) Close() error                 { return b.d.Close() }
func (b backend) NewMember(alias string) error { return b.d.NewMember(alias) }
func (b backend) Poll() ([]api.Notice, error)  { return b.d.Poll() }
func (b backend) Receive(src string, data []byte) ([]api.Notice, error) {
	return b.d.Receive(src, data)
}
func (b backend) Drop(name string, data []byte) (string, error) { return b.d.Drop(name, data) }

// WriteFile writes data to path atomically.
func (b backend) WriteFile(path string, data []byte) error { return WriteFile(path, data) }

// ReadFile reads a file of at most limit bytes ("-" is a file of that
// name, not standard input).
func (b backend) ReadFile(path string, limit int) ([]byte, error) {
	if path == "-" {
		path = "." + string(filepath.Separator) + path
	}
	return ReadBounded(path, nil, limit, nil)
}

// Drop puts data in the drop folder as name, atomically (the folder never
// sees a half-written file).
func (d *Device) Drop(name string, data []byte) (string, error) {
	if d.drop == nil {
		return "", ErrNoDropFolder
	}
	if name == "" || filepath.Base(name) != name || strings.HasPrefix(name, ".") || name == transport.RejectedDir {
		return "", requestf("drop file name %q", name)
	}
	path := filepath.Join(d.drop.Dir(), name)
	if err := writeFile(path, data, 0o644); err != nil {
		return "", err
	}
	return path, nil
}

// Snapshot describes the device.
func (b backend) Snapshot() (api.Snapshot, error) {
	d := b.d
	s := api.Snapshot{Home: d.home, Keystore: d.KeystoreName()}
	if d.drop != nil {
		s.DropDir = d.drop.Dir()
	}
	ms, err := d.ks.Members()
	if err != nil {
		return api.Snapshot{}, err
	}
	var seats []keystore.Seat
	for _, m := range ms {
		seats = append(seats, m.Seats...)
		s.Members = append(s.Members, d.memberInfo(m))
	}
	// One group whose stored KEL does not restore is shown as such; the
	// rest of the device stays usable.
	prefixes := d.store.Prefixes() // first-seen order
	unreadable := map[string]error{}
	var readable []string
	for _, p := range prefixes {
		if err := d.store.Restore(p); err != nil {
			unreadable[p] = err
		} else {
			readable = append(readable, p)
		}
	}
	v, err := d.store.VerifierOf(readable...) // restored above: a copy
	if err != nil {
		return api.Snapshot{}, err
	}
	superseded := map[string]bool{}
	for _, p := range prefixes {
		st, _ := d.store.State(p)
		g := d.groupInfo(v, p, st, seats) // an unreadable group's events are not in v
		if err := unreadable[p]; err != nil {
			g.Unreadable = err.Error()
		}
		s.Groups = append(s.Groups, g)
		for _, sup := range v.Superseded(p) {
			superseded[sup.Message.Event.SAID()] = true
		}
	}
	var rev map[string]revealed // only when a card or an open ceremony needs it
	revs := func() map[string]revealed {
		if rev == nil {
			rev = d.revelations(v, prefixes)
		}
		return rev
	}
	all := d.store.Ceremonies()
	for i := len(all) - 1; i >= 0; i-- {
		ci := d.ceremonyInfo(all[i], seats)
		if all[i].State().Open() && all[i].Kind() != ceremony.KindAnchoring {
			ci.Stale = d.staleMembers(all[i], revs())
		}
		ci.Superseded = ci.State == ceremony.StateFinalized && superseded[ci.SAID]
		s.Ceremonies = append(s.Ceremonies, ci)
	}
	d.pruneInbox()
	keys, nexts := d.ownKeys(seats)
	for i := len(d.items) - 1; i >= 0; i-- {
		it := d.items[i].item
		if it.Kind == api.InboxCard {
			if ownCard(it.Card, keys, nexts) {
				continue
			}
			it.Stale = d.staleWhy(it.Card.Label, it.Card.Next, revs())
		}
		s.Inbox = append(s.Inbox, it)
	}
	return s, nil
}

// memberInfo describes one member of this device and its seats.
func (d *Device) memberInfo(m keystore.Member) api.MemberInfo {
	mi := api.MemberInfo{Alias: m.Alias}
	show := m.Seats[0]
	for _, ks := range m.Seats {
		si := d.seatInfo(ks)
		mi.Seats = append(mi.Seats, si)
		if ks.PendingNextDigest != "" {
			mi.RotationPending = true
		}
		switch {
		case si.Group != "":
			mi.Groups = append(mi.Groups, si.Group)
		case !ks.Legacy:
			for _, p := range d.listing(ks) {
				mi.Groups = append(mi.Groups, firstNonEmpty(d.groups.aliasOf(p), p))
			}
		}
		if ks.Group == "" && !ks.Legacy && !mi.Free {
			mi.Free, show = true, ks
		}
	}
	mi.Key, mi.Next = kel.EncodeVerKey(show.PublicKey), show.NextDigest
	return mi
}

// seatInfo describes one seat of this device.
func (d *Device) seatInfo(ks keystore.Seat) api.SeatInfo {
	si := api.SeatInfo{Member: ks.Member, N: ks.N, Name: d.seatName(ks), Prefix: ks.Group, For: ks.For,
		Key: kel.EncodeVerKey(ks.PublicKey), Next: ks.NextDigest, RotationPending: ks.PendingNextDigest != ""}
	switch {
	case ks.Group != "":
		si.Group = firstNonEmpty(d.groups.aliasOf(ks.Group), ks.Group)
		sc := SeatCheck{Seat: ks, Ready: true}
		d.checkInGroup(&sc)
		si.Role = sc.Role
		if sc.Err != nil {
			si.Role = sc.Err.Error()
		}
	case len(d.listing(ks)) > 0:
		var names []string
		for _, p := range d.listing(ks) {
			names = append(names, d.nameOf(p))
		}
		si.Role = fmt.Sprintf("listed by %s, whose inception this device did not sign: it joins when it first signs or contributes there", strings.Join(names, ", "))
	default:
		si.Role = "in no group yet"
	}
	return si
}

// listing names the identifiers held here whose key state lists the key
// or next digest of a seat in no group yet (a group incepted by the other
// members without this device's signature).
func (d *Device) listing(ks keystore.Seat) []string {
	if ks.Group != "" {
		return nil
	}
	cur := kel.EncodeVerKey(ks.PublicKey)
	var out []string
	for _, p := range d.store.Prefixes() {
		if st, _ := d.store.State(p); slices.Contains(st.Keys, cur) || slices.Contains(st.Next, ks.NextDigest) {
			out = append(out, p)
		}
	}
	return out
}

// groupInfo describes one identifier whose KEL this device holds.
func (d *Device) groupInfo(v *kel.Verifier, prefix string, st kel.KeyState, seats []keystore.Seat) api.GroupInfo {
	book := d.labelBook(prefix)
	g := api.GroupInfo{Alias: d.groups.aliasOf(prefix), Prefix: prefix, State: st,
		Labels: labelsIn(book, st.Keys), NextLabels: labelsIn(book, st.Next)}
	g.KtText, g.NtText = st.Kt.Describe(g.Labels), st.Nt.Describe(g.NextLabels)
	_, g.Recoverable = recoverableIn(v, prefix)
	g.Superseded = v.Superseded(prefix)
	for _, ks := range seats {
		if ks.Group != prefix && !slices.Contains(d.listing(ks), prefix) {
			continue
		}
		if slices.Contains(st.Keys, kel.EncodeVerKey(ks.PublicKey)) && !slices.Contains(g.Mine, ks.Member) {
			g.Mine = append(g.Mine, ks.Member)
		}
		g.Seats = append(g.Seats, d.seatInfo(ks))
	}
	return g
}

// ceremonyInfo describes one ceremony of this device.
func (d *Device) ceremonyInfo(cer *ceremony.Ceremony, seats []keystore.Seat) api.CeremonyInfo {
	ev := cer.Event()
	pr := cer.Progress()
	roster := cer.Roster()
	signing := cer.SigningKeys()
	ci := api.CeremonyInfo{ID: cer.ID(), ProposalID: cer.Proposal().ID, Kind: cer.Kind(), Group: firstNonEmpty(d.groups.aliasOf(ev.Prefix()), ev.Prefix()),
		Prefix: ev.Prefix(), Ilk: ev.Ilk(), Sn: ev.Sn(), SAID: ev.SAID(), State: cer.State(), Reason: cer.AbortReason(),
		Created: cer.Created(), Deadline: cer.Deadline(), Progress: pr, Roster: roster, KeyLabels: roster.KeyLabels(len(signing)),
		Transcript: cer.Transcript()}
	if pr.Rotation {
		ci.PriorLabels = PriorLabels(roster, pr.Exposed)
	}
	if cer.State() == ceremony.StateFinalized {
		if w, ok := d.Witnessing(ev.Prefix(), ev.Sn()); ok {
			ci.Witnessing = &w
		}
	}
	for _, s := range seatsIn(seats, cer.Kind(), ev, signing, ev.Next()) {
		i := slices.Index(signing, s.key)
		switch {
		case i < 0:
		case slices.Contains(pr.Signed, i):
			ci.Signed = true
		case cer.State().Open():
			ci.CanSign = true
		}
	}
	return ci
}

// PriorLabels names prior next positions by the roster members that claim
// them (others "#i").
func PriorLabels(r ceremony.Roster, exposed []int) []string {
	n := 0
	for _, m := range r {
		n = max(n, m.Ondex+1)
	}
	for _, i := range exposed {
		n = max(n, i+1)
	}
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("#%d", i)
	}
	for _, m := range r {
		if m.Ondex >= 0 {
			out[m.Ondex] = m.Label
		}
	}
	return out
}

// Card is member alias's signed card for a new group (forGroup, "" when
// unnamed): its seat in no group yet, or a fresh seat made now.
func (b backend) Card(alias, forGroup string) (api.Outgoing, error) {
	card, ks, note, err := b.d.CardPacket(alias, forGroup)
	if err != nil {
		return api.Outgoing{}, err
	}
	title := "member card of " + alias
	switch {
	case ks.For != "":
		title += " for " + ks.For
	case len(mustMember(b.d, alias).Seats) > 1:
		title += " for a new group"
	}
	if note != "" {
		title += " (a fresh seat: " + alias + " already sits in another group)"
		b.d.later = append(b.d.later, api.Notice{Text: note})
	}
	return api.Outgoing{Title: title, Name: dropName("card", alias, card.Key[1:7]) + ".json", Data: card.Marshal()}, nil
}

// mustMember is member alias, empty when it cannot be read.
func mustMember(d *Device, alias string) keystore.Member {
	m, _ := d.ks.Member(alias)
	return m
}

// Check is the recovery drill.
func (b backend) Check() (api.CheckReport, error) {
	c, err := b.d.CheckMembers()
	if err != nil {
		return api.CheckReport{}, err
	}
	r := api.CheckReport{Ready: c.Ready(), Lines: c.Lines()}
	for _, s := range c.Seats {
		if !s.Ready {
			r.NotReady = append(r.NotReady, s.Name)
		}
	}
	if c.JournalErr != nil || len(c.Disagreements) > 0 {
		r.NotReady = append(r.NotReady, "the signing journal")
	}
	if len(c.Seats) == 0 {
		r.NotReady = append(r.NotReady, "no member")
	}
	return r, nil
}

// Contribute prepares member alias's rotation in group and returns its
// signed contribution.
func (b backend) Contribute(group, alias string) (api.Outgoing, error) {
	c, err := b.d.Contribute(group, alias)
	if err != nil {
		return api.Outgoing{}, err
	}
	t := c.Packet
	return api.Outgoing{Title: fmt.Sprintf("rotation contribution of %s to %s", t.Label, b.d.nameOf(t.Group)),
		Name: dropName("contribution", t.Group[1:9], t.Label) + ".json", Data: t.Marshal()}, nil
}

// thresholdOrDefault is nil for a zero threshold (the request leaves it to
// the default).
func thresholdOrDefault(t kel.Threshold) *kel.Threshold {
	if t.Equal(kel.Threshold{}) {
		return nil
	}
	return &t
}

// ProposeInception proposes a group inception: this device's members
// (req.Local) and the others' cards, in the order of req.Order (default:
// Local, then Cards).
func (b backend) ProposeInception(req api.InceptionRequest) (string, error) {
	byLabel := map[string]ceremony.Card{}
	var labels, local []string
	add := func(card ceremony.Card) error {
		if _, dup := byLabel[card.Label]; dup {
			return requestf("member %q appears twice", card.Label)
		}
		byLabel[card.Label] = card
		labels = append(labels, card.Label)
		return nil
	}
	for _, alias := range req.Local {
		card, note, err := b.d.MemberCard(alias, req.Alias)
		if err != nil {
			return "", err
		}
		if note != "" {
			b.d.later = append(b.d.later, api.Notice{Text: note})
		}
		if err := add(card); err != nil {
			return "", err
		}
		local = append(local, card.Label)
	}
	for _, card := range req.Cards {
		if err := add(card); err != nil {
			return "", err
		}
	}
	order := req.Order
	if len(order) == 0 {
		order = labels
	}
	in := Inception{Alias: req.Alias, Kt: thresholdOrDefault(req.Kt), Nt: thresholdOrDefault(req.Nt), Config: req.Config, Expires: req.Expires,
		Witnesses: req.Witnesses, Toad: req.Toad}
	for _, l := range order {
		card, ok := byLabel[l]
		if !ok {
			return "", requestf("the order names %q, which is no member of the request (or appears twice)", l)
		}
		delete(byLabel, l)
		in.Members = append(in.Members, card)
		if in.From == "" && slices.Contains(local, l) {
			in.From = l
		}
	}
	if len(byLabel) > 0 {
		return "", requestf("the order leaves out %d members", len(byLabel))
	}
	p, err := b.d.ProposeInception(in)
	if err != nil {
		return "", err
	}
	return p.Ceremony.ID(), nil
}

// ProposeRotation proposes a rotation of req.Group from the contributions
// req.Parts and those of this device's members req.Local. The members keep
// the order of their digests in the group's current next list; members
// without one follow in the order given. Zero thresholds keep the current
// ones.
func (b backend) ProposeRotation(req api.RotationRequest) (string, error) {
	p, err := b.d.ProposeRotation(Rotation{Group: req.Group, Parts: req.Parts, Local: req.Local, ByPriorOrder: true,
		Kt: thresholdOrDefault(req.Kt), Nt: thresholdOrDefault(req.Nt), Expires: req.Expires,
		Recover: req.Supersede != 0, At: req.Supersede})
	if err != nil {
		return "", err
	}
	return p.Ceremony.ID(), nil
}

// ProposeAnchoring proposes an ixn of req.Group anchoring req.Seals.
func (b backend) ProposeAnchoring(req api.AnchoringRequest) (string, error) {
	p, err := b.d.ProposeAnchoring(Anchoring{Group: req.Group, Seals: req.Seals, Documents: req.Documents, Expires: req.Expires})
	if err != nil {
		return "", err
	}
	return p.Ceremony.ID(), nil
}

// proposal finds a proposal by id: one in the inbox or made here, else the
// proposal of a ceremony of this device.
func (d *Device) proposal(id string) (*Incoming, error) {
	if in, ok := d.seen[id]; ok {
		return in, nil
	}
	cer, err := d.store.Ceremony(id)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrNoProposal, id)
	}
	return d.ProposalOf(cer)
}

// review reviews a proposal by id for the member of this device that takes
// part, against the documents docs.
func (b backend) review(proposalID string, docs map[string][]byte) (*Reviewed, error) {
	in, err := b.d.proposal(proposalID)
	if err != nil {
		return nil, err
	}
	return b.d.Review(in, "", docs)
}

// Review reviews a proposal (of the inbox or of a ceremony of this device)
// for the member of this device that takes part; documents are files a
// digest seal may commit to.
func (b backend) Review(proposalID string, documents ...string) (api.ReviewInfo, error) {
	in, err := b.d.proposal(proposalID)
	if err != nil {
		return api.ReviewInfo{}, err
	}
	docs, checks := readDocuments(documents, in.Event.Seals())
	r, err := b.review(proposalID, docs)
	if err != nil {
		return api.ReviewInfo{}, err
	}
	info := api.ReviewInfo{ProposalID: proposalID, From: in.Packet.From, FromKey: in.ProposerKey(), Event: in.Event, Review: r.Review, Refusals: r.Refusals,
		Warnings: r.Warnings, Critical: r.Critical, Roster: r.Roster, Documents: checks, Group: r.Group, Member: r.Member,
		Signed: r.Signed(), CanSign: r.CanSign(), Effect: r.Effect}
	if r.Local != nil {
		info.CeremonyID = r.Local.ID()
	}
	return info, nil
}

// Sign reviews a proposal and signs it: the ceremony is recorded if needed
// (the signatures held for it are applied), the proposal leaves the inbox,
// and the signature envelope goes to the drop folder.
func (b backend) Sign(proposalID string) (api.Outgoing, error) {
	r, err := b.review(proposalID, nil)
	if err != nil {
		return api.Outgoing{}, err
	}
	s, err := b.d.Sign(r, "", 0)
	if err != nil {
		return api.Outgoing{}, err
	}
	b.d.later = append(b.d.later, s.Notices...)
	b.d.later = append(b.d.later, s.Rotations...)
	cer, env := s.Ceremony, s.Envelope
	out := api.Outgoing{Title: fmt.Sprintf("signature of %s for ceremony %s", env.Signer, ShortID(cer.ID())),
		Name: signaturesName(cer.ID(), env.Signer), Data: env.Marshal()}
	out.Dropped = b.d.dropLater(cer.ID(), out.Title, out.Name, out.Data)
	return out, nil
}

// Finalize finalizes a ceremony whose thresholds are met and returns the
// group's whole KEL (also put in the drop folder), so that every member
// can import it.
func (b backend) Finalize(ceremonyID string) (api.Outgoing, error) {
	cer, err := b.d.Ceremony(ceremonyID)
	if err != nil {
		return api.Outgoing{}, err
	}
	f, err := b.d.Finalize(cer)
	if err != nil {
		return api.Outgoing{}, err
	}
	b.d.later = append(b.d.later, f.Notices...)
	out, err := b.d.kelOutgoing(cer.Event().Prefix())
	if err != nil {
		return api.Outgoing{}, err
	}
	out.Dropped = b.d.dropLater(cer.ID(), out.Title, out.Name, out.Data)
	return out, nil
}

// Abort closes an open ceremony for good; the abort record, signed by a
// member of this device in the ceremony, goes to the drop folder.
func (b backend) Abort(ceremonyID, reason string) error {
	if err := CheckReason(reason); err != nil {
		return err
	}
	cer, err := b.d.Ceremony(ceremonyID)
	if err != nil {
		return err
	}
	found, err := b.d.localMembersIn(b.d.memberKeys(cer))
	if err != nil {
		return err
	}
	member := ""
	if len(found) > 0 {
		member = found[0]
	}
	rec, err := b.d.Abort(cer, reason, member, false)
	if err != nil {
		return err
	}
	if rec != nil {
		b.d.dropLater(cer.ID(), "the abort record", dropName("abort", fileID(cer.ID()), rec.By)+".json", rec.Marshal())
	}
	return nil
}

// Export is a packet of a ceremony: its proposal, the signatures of this
// device's members, or (once finalized) the group's KEL.
func (b backend) Export(ceremonyID string, what api.ExportKind) (api.Outgoing, error) {
	if what == api.ExportProposal {
		in, err := b.d.proposal(ceremonyID)
		if err != nil {
			return api.Outgoing{}, err
		}
		return api.Outgoing{Title: fmt.Sprintf("proposal %s (%s)", ShortID(ceremonyID), b.d.proposalLabel(in)),
			Name: proposalName(ceremonyID), Data: in.Packet.Marshal()}, nil
	}
	cer, err := b.d.Ceremony(ceremonyID)
	if err != nil {
		return api.Outgoing{}, err
	}
	switch what {
	case api.ExportSignatures:
		return b.d.ownSignatures(cer)
	case api.ExportKEL:
		// Before finalizing, a rotation's or anchoring's group KEL is the
		// catch-up bundle for a member whose review finds it behind.
		_, held := b.d.store.State(cer.Event().Prefix())
		if cer.State() != ceremony.StateFinalized && (cer.Kind() == ceremony.KindInception || !held) {
			return api.Outgoing{}, fmt.Errorf("%w: ceremony %s is %s", ErrNotFinalized, cer.ID(), cer.State())
		}
		return b.d.kelOutgoing(cer.Event().Prefix())
	}
	return api.Outgoing{}, requestf("export %q", what)
}

// ownSignatures is the envelope of the signatures this device's members
// made for cer.
func (d *Device) ownSignatures(cer *ceremony.Ceremony) (api.Outgoing, error) {
	seats, err := d.ks.Seats()
	if err != nil {
		return api.Outgoing{}, err
	}
	ev := cer.Event()
	signing := cer.SigningKeys()
	env := transport.Signatures{Ceremony: cer.ID(), AID: ev.Prefix(), Sn: ev.Sn(), SAID: ev.SAID()}
	for _, s := range seatsIn(seats, cer.Kind(), ev, signing, ev.Next()) {
		i := slices.Index(signing, s.key)
		for _, sig := range cer.Signatures() {
			if i >= 0 && sig.Index == i {
				env.Sigs = append(env.Sigs, sig.Qb64())
				if env.Signer == "" {
					env.Signer = s.alias()
					if m, ok := cer.Roster().ByIndex(i); ok {
						env.Signer = m.Label
					}
				}
			}
		}
	}
	if len(env.Sigs) == 0 {
		return api.Outgoing{}, fmt.Errorf("%w: %s", ErrNothingSigned, cer.ID())
	}
	env, err = transport.NewSignatures(env)
	if err != nil {
		return api.Outgoing{}, err
	}
	return api.Outgoing{Title: fmt.Sprintf("signature of %s for ceremony %s", env.Signer, ShortID(cer.ID())),
		Name: signaturesName(cer.ID(), env.Signer), Data: env.Marshal()}, nil
}
