package cli

// Proposing: keremony group incept, keremony rotate contribute|propose|cancel,
// keremony anchor.

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/kel"
	"github.com/keremony/keremony/keystore"
	"github.com/keremony/keremony/transport"
)

const groupUsage = `usage: keremony group incept --group ALIAS (--card FILE | --member ALIAS)... [flags] [--out FILE]
       keremony group list

incept proposes a new group identifier (an icp; a dip with --delegator) and opens its
ceremony on this device. Members are taken in command-line order: --card FILE reads another
device's member card, --member ALIAS this device's own member. Write the proposal to --out
(default standard output) and send it to every member; each runs keremony sign.

incept flags:
  --group ALIAS     the group's alias on this device (and the suggested alias for the others)
  --card FILE       a member card (keremony member card); repeat, in roster order
  --member ALIAS    this device's member, at this position in the roster
  --kt T            signing threshold: an integer or weighted clauses such as
                    '["1/2","1/4","1/4"]' (default: every member)
  --nt T            next (rotation) threshold (default: --kt)
  --config TRAIT    EO (establishment only) or DND (do not delegate); repeatable
  --delegator AID   make a delegated inception (dip) of this identifier (alias or prefix)
  --out FILE        where to write the proposal
`

func runGroup(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	sub, args, code, ok := subcommand("group", groupUsage+commonFlagsUsage, args, stdout, stderr, "incept", "list")
	if !ok {
		return code
	}
	if sub == "incept" {
		return groupIncept(args, stdin, stdout, stderr)
	}
	return kelList(newCmd("group list", groupUsage, stdin, stdout, stderr), args)
}

func groupIncept(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := newCmd("group incept", groupUsage, stdin, stdout, stderr)
	c.expiresFlag()
	var members [][2]string
	c.fs.Var(orderedFlag{"card", &members}, "card", "member card file")
	c.fs.Var(orderedFlag{"member", &members}, "member", "this device's member")
	alias := c.fs.String("group", "", "group alias")
	kt := c.fs.String("kt", "", "signing threshold")
	nt := c.fs.String("nt", "", "next threshold")
	var config stringList
	c.fs.Var(&config, "config", "configuration trait")
	delegator := c.fs.String("delegator", "", "delegator")
	out := c.fs.String("out", "", "output file")
	pos, code, ok := c.parse(args)
	if !ok {
		return code
	}
	c.resultOnStdout(*out, true)
	switch {
	case len(pos) != 0:
		return c.usageErr("unexpected arguments %q", pos)
	case *alias == "":
		return c.usageErr("--group ALIAS is required")
	case keystore.CheckAlias(*alias) != nil:
		return c.usageErr("--group: %v", keystore.CheckAlias(*alias))
	case len(members) == 0:
		return c.usageErr("no members: give --card FILE or --member ALIAS for each")
	}
	var th []*kel.Threshold // kt, nt; nil when not given
	for _, f := range []struct{ name, v string }{{"kt", *kt}, {"nt", *nt}} {
		if f.v == "" {
			th = append(th, nil)
			continue
		}
		t, err := parseThresholdFlag(f.name, f.v)
		if err != nil {
			return c.fail(err)
		}
		th = append(th, &t)
	}
	d, err := c.open()
	if err != nil {
		return c.fail(err)
	}
	defer d.close()
	if err := c.incept(d, *alias, members, th[0], th[1], config, *delegator, *out); err != nil {
		return c.fail(err)
	}
	return 0
}

func (c *cmd) incept(d *device, alias string, members [][2]string, kt, nt *kel.Threshold, config []string, delegator, out string) error {
	var cards []ceremony.Card
	from := ""
	for _, m := range members {
		switch m[0] {
		case "card":
			pk, err := readPacket(m[1], c.stdin, transport.PacketCard)
			if err != nil {
				return err
			}
			cards = append(cards, cardOf(pk.(transport.Card)))
		case "member":
			mem, err := d.ks.Member(m[1])
			if err != nil {
				return err
			}
			cards = append(cards, memberCardOf(mem))
			if from == "" {
				from = mem.Alias
			}
		}
	}
	_, pk, err := c.proposeInception(d, alias, cards, from, kt, nt, config, delegator)
	if err != nil {
		return err
	}
	return c.writeOutput(out, pk.Marshal(), "the proposal")
}

// cardOf is a received member card as an inception member.
func cardOf(card transport.Card) ceremony.Card {
	return ceremony.Card{Label: card.Alias, Key: card.Key, Next: card.Next}
}

// memberCardOf is a member of this device as an inception member.
func memberCardOf(m keystore.Member) ceremony.Card {
	return ceremony.Card{Label: m.Alias, Key: kel.EncodeVerKey(m.PublicKey), Next: m.NextDigest}
}

// proposeInception proposes the inception of group alias with members cards
// (in roster order), from the proposer's label: it records and opens the
// ceremony and the alias, and returns the proposal packet to send. kt
// defaults to every member, nt to kt; delegator ("" for none) makes a dip.
func (c *cmd) proposeInception(d *device, alias string, cards []ceremony.Card, from string, ktIn, ntIn *kel.Threshold,
	config []string, delegator string) (*ceremony.Ceremony, transport.Proposal, error) {
	if err := keystore.CheckAlias(alias); err != nil {
		return nil, transport.Proposal{}, fmt.Errorf("%w: --group: %w", errUsage, err)
	}
	kt := kel.IntThreshold(len(cards))
	if ktIn != nil {
		kt = *ktIn
	}
	nt := kt
	if ntIn != nil {
		nt = *ntIn
	}
	params := ceremony.InceptionParams{Members: cards, Kt: kt, Nt: nt, Config: config}
	if delegator != "" {
		prefix, _, err := d.resolveAID(delegator)
		if err != nil {
			return nil, transport.Proposal{}, err
		}
		params.Delegator = prefix
	}
	p, err := ceremony.ProposeInception(params)
	if err != nil {
		return nil, transport.Proposal{}, err
	}
	ev, _ := kel.ParseEvent(p.Event)
	if prefix, ok := d.groups.lookup(alias); ok && prefix != ev.Prefix() {
		return nil, transport.Proposal{}, fmt.Errorf("%w: %q is %s here; choose another --group", errGroupAlias, alias, prefix)
	}
	cer, err := d.record(p, c.deadline())
	if err != nil {
		return nil, transport.Proposal{}, err
	}
	if _, err := d.groups.add(alias, ev.Prefix()); err != nil {
		return nil, transport.Proposal{}, err
	}
	pk, err := d.proposalPacket(cer, alias, from)
	if err != nil {
		return nil, transport.Proposal{}, err
	}
	c.printf("proposed the inception of group %s\n", alias)
	c.printf("  identifier  %s\n", ev.Prefix())
	c.printf("  ceremony    %s\n", cer.ID())
	c.printf("  event       %s, fingerprint %s\n", eventLine(ev), ceremony.Fingerprint(ev.SAID()))
	c.printf("  kt %s, nt %s, %d members: %s\n", kt, nt, len(cards), rosterLabels(cer.Roster()))
	c.printf("next: every member runs keremony sign PROPOSAL --member ALIAS and sends the signature back\n")
	return cer, pk, nil
}

// recordGroupProposal records a proposal for an existing group (rotation,
// anchoring) and makes its packet, sent as from (default: the local
// member among the group's keys).
func (d *device) recordGroupProposal(p ceremony.Proposal, deadline time.Time, prefix string, st kel.KeyState, from string) (*ceremony.Ceremony, transport.Proposal, error) {
	cer, err := d.record(p, deadline)
	if err != nil {
		return nil, transport.Proposal{}, err
	}
	if from == "" {
		from = d.fromLabel(prefix, st)
	}
	pk, err := d.proposalPacket(cer, d.groups.aliasOf(prefix), from)
	return cer, pk, err
}

// proposalPacket is the proposal packet of a ceremony of this device: its
// proposal, the group's alias here (a suggestion for the others), the
// proposer's label and the KELs the event builds on.
func (d *device) proposalPacket(cer *ceremony.Ceremony, alias, from string) (transport.Proposal, error) {
	body, err := cer.Proposal().Marshal()
	if err != nil {
		return transport.Proposal{}, err
	}
	return transport.NewProposal(alias, from, body, d.proposalContext(cer))
}

// proposalContext is the CESR stream of the KELs a ceremony's event builds
// on, as far as this device holds them: the delegator's KEL for a delegated
// inception; else the group's KEL before the event, then the KELs of the
// other identifiers whose events it anchors.
func (d *device) proposalContext(cer *ceremony.Ceremony) []byte {
	ev := cer.Event()
	v := d.store.Verifier()
	if cer.Kind() == ceremony.KindInception {
		if del := ev.Delegator(); del != "" {
			return v.Export(del)
		}
		return nil
	}
	var out []byte
	for _, m := range v.Messages(ev.Prefix()) {
		if m.Event.Sn() < ev.Sn() {
			out = append(out, m.Bytes()...)
		}
	}
	var with []string
	for _, s := range ev.Seals() {
		if s.Kind != kel.SealEvent || s.I == ev.Prefix() || slices.Contains(with, s.I) || s.S >= uint64(len(v.Messages(s.I))) {
			continue
		}
		with = append(with, s.I)
		out = append(out, v.Export(s.I)...)
	}
	return out
}

func rosterLabels(r ceremony.Roster) string {
	var l []string
	for _, m := range r {
		l = append(l, m.Label)
	}
	return strings.Join(l, ", ")
}

// fromLabel is the label of a local member among the group's current keys
// or next digests ("" when none).
func (d *device) fromLabel(prefix string, st kel.KeyState) string {
	ms, _ := d.ks.Members()
	book := d.addressBook(prefix)
	for _, m := range ms {
		cur := kel.EncodeVerKey(m.PublicKey)
		if slices.Contains(st.Keys, cur) || slices.Contains(st.Next, m.NextDigest) {
			if l := book[cur]; l != "" {
				return l
			}
			if l := book[m.NextDigest]; l != "" {
				return l
			}
			return m.Alias
		}
	}
	return ""
}

// Rotation.

const rotateUsage = `usage: keremony rotate contribute --group G [--member M] [--out FILE]
       keremony rotate propose --group G CONTRIBUTION... [--add-next CARD]... [--reserve LABEL[=DIGEST]]...
                               [--drop LABEL[=DIGEST]]... [--kt T] [--nt T] [--out FILE]
       keremony rotate cancel --member M

A rotation has two rounds. Round one: every member that rotates runs 'rotate contribute',
which prepares its rotation (reveals its pre-rotated next key and makes a fresh next key; the
member keeps signing with its current key until the rotation is final) and writes a signed
contribution for the proposer. Round two: the proposer runs 'rotate propose' with the
contributions, which builds the rot event and opens its ceremony; then every member signs it
(keremony sign). When the rotation is final on a device (keremony finalize, or kel import of
the finalized event), the device commits the rotation of its members: the revealed key becomes
current and the old one is destroyed. 'rotate cancel' discards a prepared rotation.

propose flags:
  --add-next CARD   a new member joins through the next commitment only (its card's next
                    digest goes into n); it can sign from the following rotation on
  --reserve LABEL   keep LABEL's committed digest in n unexposed (partial rotation);
                    LABEL=DIGEST names the digest when this device does not know it
  --drop LABEL      remove LABEL (its committed digest is neither revealed nor carried)
  --kt T, --nt T    thresholds of the new key and next lists (default: the current ones)
`

func runRotate(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	sub, args, code, ok := subcommand("rotate", rotateUsage+commonFlagsUsage, args, stdout, stderr, "contribute", "propose", "cancel")
	if !ok {
		return code
	}
	c := newCmd("rotate "+sub, rotateUsage, stdin, stdout, stderr)
	if sub == "propose" {
		c.expiresFlag()
	}
	group := c.fs.String("group", "", "group alias or prefix")
	member := c.fs.String("member", "", "this device's member")
	out := c.fs.String("out", "", "output file")
	var extra [][2]string
	var kt, nt *string
	if sub == "propose" {
		c.fs.Var(orderedFlag{"add-next", &extra}, "add-next", "card of a member joining through the next commitment")
		c.fs.Var(orderedFlag{"reserve", &extra}, "reserve", "member kept in reserve")
		c.fs.Var(orderedFlag{"drop", &extra}, "drop", "member dropped")
		kt = c.fs.String("kt", "", "signing threshold")
		nt = c.fs.String("nt", "", "next threshold")
	}
	pos, code, ok := c.parse(args)
	if !ok {
		return code
	}
	c.resultOnStdout(*out, sub != "cancel")
	switch {
	case sub != "propose" && len(pos) != 0:
		return c.usageErr("unexpected arguments %q", pos)
	case sub != "cancel" && *group == "":
		return c.usageErr("--group G is required")
	case sub == "cancel" && *member == "":
		return c.usageErr("--member M is required")
	case sub == "propose" && len(pos) == 0 && len(extra) == 0:
		return c.usageErr("no contributions given")
	}
	d, err := c.open()
	if err != nil {
		return c.fail(err)
	}
	defer d.close()
	switch sub {
	case "contribute":
		var contrib transport.Contribution
		if contrib, err = c.contribution(d, *group, *member); err == nil {
			err = c.writeOutput(*out, contrib.Marshal(), "the contribution")
		}
	case "propose":
		err = c.proposeRotation(d, *group, pos, extra, *kt, *nt, *member, *out)
	case "cancel":
		if _, err = d.ks.AbortRotation(*member); err == nil {
			c.printf("member %s: prepared rotation discarded; it keeps its current and next keys\n", *member)
		}
	}
	if err != nil {
		return c.fail(err)
	}
	return 0
}

// contribution prepares the rotation of member alias ("": the one member
// of this device whose next key group commits) in group and returns its
// signed contribution.
func (c *cmd) contribution(d *device, group, alias string) (transport.Contribution, error) {
	prefix, st, err := d.resolveAID(group)
	if err != nil {
		return transport.Contribution{}, err
	}
	if alias == "" {
		ms, err := d.ks.Members()
		if err != nil {
			return transport.Contribution{}, err
		}
		var found []string
		for _, m := range ms {
			if slices.Contains(st.Next, m.NextDigest) {
				found = append(found, m.Alias)
			}
		}
		switch len(found) {
		case 0:
			return transport.Contribution{}, fmt.Errorf("%w: no member of this device has its next key committed in %s", errNoMember, d.groupName(prefix))
		case 1:
			alias = found[0]
		default:
			return transport.Contribution{}, fmt.Errorf("%w: members %s all rotate in %s: choose one with --member", errAmbiguous, strings.Join(found, ", "), d.groupName(prefix))
		}
	}
	m, err := d.ks.Member(alias)
	if err != nil {
		return transport.Contribution{}, err
	}
	j := slices.Index(st.Next, m.NextDigest)
	if j < 0 {
		return transport.Contribution{}, fmt.Errorf("%w: the next key of member %s is not committed in the next list of %s, so it cannot rotate into it (a new member joins through 'rotate propose --add-next CARD')",
			errNoMember, alias, d.groupName(prefix))
	}
	label := alias
	if l := d.addressBook(prefix)[m.NextDigest]; l != "" {
		label = l
	}
	rot, err := d.ks.PrepareRotation(alias)
	if err != nil {
		return transport.Contribution{}, err
	}
	contrib := transport.Contribution{Group: prefix, Label: label, Role: string(ceremony.RoleRotate),
		Key: kel.EncodeVerKey(rot.NewKey), Next: rot.NewNextDigest, Signer: kel.EncodeVerKey(m.PublicKey)}
	if err := ceremony.CheckContribution(st, toCeremonyContribution(contrib)); err != nil {
		return transport.Contribution{}, err
	}
	contrib, err = transport.NewContribution(contrib, func(b []byte) ([]byte, error) { return d.ks.SignProof(alias, b) })
	if err != nil {
		return transport.Contribution{}, err
	}
	who := alias
	if label != alias {
		who = fmt.Sprintf("%s (%s in the group)", alias, label)
	}
	c.printf("member %s prepared its rotation in %s: reveals the key committed at n[%d], commits a fresh next key\n",
		who, d.groupName(prefix), j)
	c.printf("  revealed key  %s\n  new next      %s\n", contrib.Key, contrib.Next)
	c.printf("it signs with its current key until the rotation is final; send the contribution to the proposer\n")
	return contrib, nil
}

func toCeremonyContribution(t transport.Contribution) ceremony.Contribution {
	return ceremony.Contribution{Label: t.Label, Role: ceremony.Role(t.Role), Key: t.Key, Next: t.Next, Prior: t.Prior}
}

// labelDigest finds LABEL's digest in the group's current next list, or
// takes it from LABEL=DIGEST.
func (d *device) labelDigest(prefix string, st kel.KeyState, arg string) (string, string, error) {
	label, dig, hasDig := strings.Cut(arg, "=")
	if hasDig {
		if !slices.Contains(st.Next, dig) {
			return "", "", fmt.Errorf("%w: %s is not in the next list of %s", ceremony.ErrContribution, dig, d.groupName(prefix))
		}
		return label, dig, nil
	}
	for k, l := range d.addressBook(prefix) {
		if l == label && slices.Contains(st.Next, k) {
			return label, k, nil
		}
	}
	return "", "", usagef("this device does not know which next digest of %s is %q's: give %s=DIGEST (one of %s)",
		d.groupName(prefix), label, label, strings.Join(st.Next, ", "))
}

func (c *cmd) proposeRotation(d *device, group string, files []string, extra [][2]string, ktText, ntText, member, out string) error {
	prefix, st, err := d.resolveAID(group)
	if err != nil {
		return err
	}
	var members []ceremony.Contribution
	for _, f := range files {
		pk, err := readPacket(f, c.stdin, transport.PacketContribution)
		if err != nil {
			return err
		}
		t := pk.(transport.Contribution)
		if t.Group != prefix {
			return fmt.Errorf("%s: %w: the contribution is for %s, not %s", f, errWrongPacket, d.groupName(t.Group), d.groupName(prefix))
		}
		cc := toCeremonyContribution(t)
		if err := ceremony.CheckContribution(st, cc); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		if !slices.Contains(st.Keys, t.Signer) {
			c.note("warning: the contribution of %q (%s) is signed by %s, which is not a current key of %s: make sure it came from %s",
				t.Label, f, t.Signer, d.groupName(prefix), t.Label)
		}
		members = append(members, cc)
	}
	for _, e := range extra {
		switch e[0] {
		case "add-next":
			pk, err := readPacket(e[1], c.stdin, transport.PacketCard)
			if err != nil {
				return err
			}
			card := pk.(transport.Card)
			members = append(members, ceremony.Contribution{Label: card.Alias, Role: ceremony.RoleNextOnly, Next: card.Next})
		case "reserve", "drop":
			label, dig, err := d.labelDigest(prefix, st, e[1])
			if err != nil {
				return err
			}
			role := ceremony.RoleReserve
			if e[0] == "drop" {
				role = ceremony.RoleDrop
			}
			members = append(members, ceremony.Contribution{Label: label, Role: role, Prior: dig})
		}
	}
	var th [2]*kel.Threshold
	for i, f := range []struct{ name, v string }{{"kt", ktText}, {"nt", ntText}} {
		if f.v != "" {
			t, err := parseThresholdFlag(f.name, f.v)
			if err != nil {
				return err
			}
			th[i] = &t
		}
	}
	_, pk, err := c.proposeRotationOf(d, prefix, st, members, th[0], th[1], member)
	if err != nil {
		return err
	}
	return c.writeOutput(out, pk.Marshal(), "the proposal")
}

// proposeRotationOf proposes a rotation of group prefix (key state st) from
// the members' parts, in roster order, and records and opens its ceremony;
// it returns the proposal packet to send. kt and nt default to the current
// thresholds; from ("" for this device's member in the group) is the
// proposer's label.
func (c *cmd) proposeRotationOf(d *device, prefix string, st kel.KeyState, members []ceremony.Contribution, ktIn, ntIn *kel.Threshold,
	from string) (*ceremony.Ceremony, transport.Proposal, error) {
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
	if ktIn != nil {
		kt = *ktIn
	} else if kt.Validate(nKeys) != nil {
		return nil, transport.Proposal{}, usagef("the current kt %s does not fit %d keys: give --kt", kt, nKeys)
	}
	if ntIn != nil {
		nt = *ntIn
	} else if nt.Validate(nNext) != nil {
		return nil, transport.Proposal{}, usagef("the current nt %s does not fit %d next digests: give --nt", nt, nNext)
	}
	p, err := ceremony.ProposeRotation(st, ceremony.RotationParams{Prefix: prefix, Members: members, Kt: kt, Nt: nt})
	if err != nil {
		return nil, transport.Proposal{}, err
	}
	cer, pk, err := d.recordGroupProposal(p, c.deadline(), prefix, st, from)
	if err != nil {
		return nil, transport.Proposal{}, err
	}
	ev := cer.Event()
	c.printf("proposed a rotation of %s\n", d.groupName(prefix))
	c.printf("  ceremony  %s\n", cer.ID())
	c.printf("  event     %s, fingerprint %s\n", eventLine(ev), ceremony.Fingerprint(ev.SAID()))
	c.printf("  kt %s over %d keys, nt %s over %d next digests; prior nt %s\n", kt, len(ev.Keys()), nt, len(ev.Next()), st.Nt)
	for _, m := range cer.Roster() {
		c.printf("  %s: %s\n", m.Label, m.Role)
	}
	c.printf("next: the members that sign run keremony sign PROPOSAL --member ALIAS\n")
	return cer, pk, nil
}

// Anchoring.

const anchorUsage = `usage: keremony anchor --group G (--seal-event AID[:SN[:SAID]] | --seal-file FILE)... [--out FILE]

Proposes an interaction event (ixn) of group G that anchors seals, and opens its ceremony on
this device: --seal-event anchors an event of another identifier (AID is a prefix or a local
alias; SN and SAID default to that identifier's latest event on this device), --seal-file
commits to a document by its Blake3-256 digest. Seals are anchored in command-line order.
The proposal carries the group's KEL and the KELs of anchored identifiers this device holds.
`

func runAnchor(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := newCmd("anchor", anchorUsage, stdin, stdout, stderr)
	c.expiresFlag()
	group := c.fs.String("group", "", "group alias or prefix")
	member := c.fs.String("member", "", "proposer's label")
	var seals [][2]string
	c.fs.Var(orderedFlag{"event", &seals}, "seal-event", "event seal AID[:SN[:SAID]]")
	c.fs.Var(orderedFlag{"file", &seals}, "seal-file", "digest seal of a file")
	out := c.fs.String("out", "", "output file")
	pos, code, ok := c.parse(args)
	if !ok {
		return code
	}
	c.resultOnStdout(*out, true)
	switch {
	case len(pos) != 0:
		return c.usageErr("unexpected arguments %q", pos)
	case *group == "":
		return c.usageErr("--group G is required")
	case len(seals) == 0:
		return c.usageErr("no seals: give --seal-event or --seal-file")
	}
	d, err := c.open()
	if err != nil {
		return c.fail(err)
	}
	defer d.close()
	if err := c.anchor(d, *group, seals, *member, *out); err != nil {
		return c.fail(err)
	}
	return 0
}

// parseEventSeal reads AID[:SN[:SAID]], completing it from the local KEL.
func (d *device) parseEventSeal(arg string) (kel.Seal, error) {
	parts := strings.Split(arg, ":")
	if len(parts) > 3 || parts[0] == "" {
		return kel.Seal{}, usagef("--seal-event %q: want AID[:SN[:SAID]]", arg)
	}
	prefix, ok := d.groups.lookup(parts[0])
	if !ok {
		prefix = parts[0]
	}
	if _, err := kel.DecodeMatter(prefix, kel.CodeBlake3_256, kel.CodeEd25519, kel.CodeEd25519N); err != nil {
		return kel.Seal{}, usagef("--seal-event %q: %q is neither an alias nor an identifier: %v", arg, parts[0], err)
	}
	msgs := d.store.Verifier().Messages(prefix)
	var sn uint64
	switch {
	case len(parts) >= 2:
		n, err := strconv.ParseUint(parts[1], 10, 64)
		if err != nil {
			return kel.Seal{}, usagef("--seal-event %q: sequence number %q", arg, parts[1])
		}
		sn = n
	case len(msgs) == 0:
		return kel.Seal{}, fmt.Errorf("%w: this device holds no kel of %s: import it (keremony kel import) or give AID:SN:SAID", errGroupUnknown, prefix)
	default:
		sn = uint64(len(msgs) - 1)
	}
	held := sn < uint64(len(msgs))
	said := ""
	if len(parts) == 3 {
		said = parts[2]
		if _, err := kel.DecodeMatter(said, kel.CodeBlake3_256); err != nil {
			return kel.Seal{}, usagef("--seal-event %q: said: %v", arg, err)
		}
		if held && msgs[sn].Event.SAID() != said {
			return kel.Seal{}, fmt.Errorf("%w: event %d of %s is %s on this device, not %s", ceremony.ErrAnchorConflict, sn, prefix, msgs[sn].Event.SAID(), said)
		}
	} else if held {
		said = msgs[sn].Event.SAID()
	} else {
		return kel.Seal{}, fmt.Errorf("%w: this device holds no event %d of %s: give AID:SN:SAID", errGroupUnknown, sn, prefix)
	}
	return kel.EventSeal(prefix, sn, said), nil
}

func (c *cmd) anchor(d *device, group string, sealArgs [][2]string, member, out string) error {
	prefix, st, err := d.resolveAID(group)
	if err != nil {
		return err
	}
	var seals []kel.Seal
	for _, s := range sealArgs {
		switch s[0] {
		case "event":
			seal, err := d.parseEventSeal(s[1])
			if err != nil {
				return err
			}
			seals = append(seals, seal)
		case "file":
			data, err := os.ReadFile(s[1])
			if err != nil {
				return err
			}
			seals = append(seals, kel.DigestSeal(data))
		}
	}
	_, pk, err := c.proposeAnchoring(d, prefix, st, seals, member)
	if err != nil {
		return err
	}
	return c.writeOutput(out, pk.Marshal(), "the proposal")
}

// proposeAnchoring proposes an ixn of group prefix (key state st) anchoring
// seals, and records and opens its ceremony; it returns the proposal packet
// to send (from as proposeRotationOf).
func (c *cmd) proposeAnchoring(d *device, prefix string, st kel.KeyState, seals []kel.Seal, from string) (*ceremony.Ceremony, transport.Proposal, error) {
	book := d.addressBook(prefix)
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
	p, err := ceremony.ProposeAnchoring(st, ceremony.AnchoringParams{Prefix: prefix, Seals: seals, Members: cards})
	if err != nil {
		return nil, transport.Proposal{}, err
	}
	cer, pk, err := d.recordGroupProposal(p, c.deadline(), prefix, st, from)
	if err != nil {
		return nil, transport.Proposal{}, err
	}
	ev := cer.Event()
	c.printf("proposed an anchoring in %s\n", d.groupName(prefix))
	c.printf("  ceremony  %s\n", cer.ID())
	c.printf("  event     %s, fingerprint %s\n", eventLine(ev), ceremony.Fingerprint(ev.SAID()))
	for _, s := range ev.Seals() {
		c.printf("  seal      %s\n", s)
	}
	c.printf("  kt %s over the %d current keys\n", st.Kt, len(st.Keys))
	c.printf("next: the members that sign run keremony sign PROPOSAL --member ALIAS\n")
	return cer, pk, nil
}
