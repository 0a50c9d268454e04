package cli

// Reviewing and signing: keremony review, keremony sign.

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/kel"
	"github.com/keremony/keremony/transport"
)

const reviewUsage = `usage: keremony review PROPOSAL [--member M] [--doc FILE]...

Rebuilds the proposed event from the proposal's parameters and this device's copy of the KELs
(plus the KELs that came with the proposal, checked by authenticated replay), and prints what
signing it means: the event and the fingerprint of its SAID (compare it with the other
members), which signing position is yours, the key and threshold changes, whether your next
key is committed, the seals and any warnings. Exit status 1 when the review fails: then
keremony sign refuses the proposal too.

  --member M     review as this device's member M (default: the member that takes part)
  --doc FILE     a document a digest seal may commit to; repeatable
`

const signUsage = `usage: keremony sign PROPOSAL [--member M] [--doc FILE]... [--group ALIAS] [--out FILE]

Reviews the proposal (as keremony review), refuses it if the review fails, then records the
ceremony on this device and signs the event with member M's key (for a rotation: the next key
it reveals, which needs 'keremony rotate contribute' first). The signature is journaled before
it is made. --out writes the signature envelope to send to whoever collects the signatures
('-' for standard output); the proposer's own signature stays in its local ceremony.

  --member M     sign as this device's member M (default: the member that takes part)
  --doc FILE     a document a digest seal may commit to; repeatable
  --group ALIAS  this device's alias for the group (default: the proposal's)
  --out FILE     where to write the signature envelope
`

func runReview(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return reviewOrSign("review", reviewUsage, args, stdin, stdout, stderr)
}

func runSign(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return reviewOrSign("sign", signUsage, args, stdin, stdout, stderr)
}

func reviewOrSign(name, usage string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := newCmd(name, usage, stdin, stdout, stderr)
	c.expiresFlag()
	member := c.fs.String("member", "", "this device's member")
	var docs stringList
	c.fs.Var(&docs, "doc", "document for digest seals")
	var group, out *string
	if name == "sign" {
		group = c.fs.String("group", "", "local group alias")
		out = c.fs.String("out", "", "signature envelope file")
	}
	pos, code, ok := c.parse(args)
	if !ok {
		return code
	}
	if out != nil {
		c.resultOnStdout(*out, false)
	}
	if len(pos) != 1 {
		return c.usageErr("want one PROPOSAL file, got %d arguments", len(pos))
	}
	in, err := readProposal(pos[0], stdin)
	if err != nil {
		return c.fail(err)
	}
	documents := map[string][]byte{}
	for _, f := range docs {
		data, err := os.ReadFile(f)
		if err != nil {
			return c.fail(err)
		}
		documents[filepath.Base(f)] = data
	}
	d, err := c.open()
	if err != nil {
		return c.fail(err)
	}
	defer d.close()
	r, err := c.review(d, in, *member, documents)
	if err != nil {
		return c.fail(err)
	}
	r.print(c, d)
	if !r.passed() {
		c.printf("review FAILED: do not sign\n")
		return c.fail(fmt.Errorf("%w: %s", errReviewFailed, strings.Join(r.refusals, "; ")))
	}
	if name == "review" {
		if r.seat.key != "" {
			c.printf("review passed: you may sign (keremony sign %s --member %s)\n", in.path, r.seat.alias)
		} else {
			c.printf("review passed\n")
		}
		return 0
	}
	if err := c.sign(d, in, r, *group, *out); err != nil {
		return c.fail(err)
	}
	return 0
}

// reviewResult is a review on this device, with the CLI's own refusals.
type reviewResult struct {
	in       *proposalIn
	rev      *ceremony.Review
	err      error // ReviewProposal's verdict
	seat     seat
	hasSeat  bool
	fresh    []string // identifiers first seen in the proposal's kel
	refusals []string // reasons this device must not sign
	warnings []string
	local    *ceremony.Ceremony // this device's ceremony of the proposal, if any
}

func (r *reviewResult) passed() bool { return r.err == nil && len(r.refusals) == 0 }

// review reviews a proposal against this device's KELs and the KELs that
// came with it, as member want (or the member that takes part).
func (c *cmd) review(d *device, in *proposalIn, want string, docs map[string][]byte) (*reviewResult, error) {
	r := &reviewResult{in: in}
	v, fresh, err := d.contextVerifier(in.packet.KEL)
	if err != nil {
		r.err = err
		r.refusals = append(r.refusals, err.Error())
		return r, nil
	}
	r.fresh = fresh
	if cer, err := d.store.Ceremony(in.p.ID); err == nil {
		r.local = cer
	}
	signing, next := seatLists(in, v)
	r.seat, r.hasSeat, err = d.chooseSeat(want, in.p.Kind, in.ev, signing, next)
	if err != nil {
		return nil, err
	}
	me := ceremony.Reviewer{Key: r.seat.key, Next: r.seat.next, Labels: d.addressBook(in.ev.Prefix()), Documents: docs}
	r.rev, r.err = ceremony.ReviewProposal(in.p, v, me)
	if r.err != nil {
		r.refusals = append(r.refusals, r.err.Error())
		if r.local != nil && !r.local.State().Open() {
			r.refusals = append(r.refusals, fmt.Sprintf("this device's ceremony %s of this proposal is %s", r.local.ID(), r.local.State()))
		}
		return r, nil
	}
	if slices.Contains(fresh, in.ev.Prefix()) {
		r.warnings = append(r.warnings, fmt.Sprintf("this device did not hold the kel of %s: it came with the proposal and replays, but only the other members can confirm it is their group: compare the identifier and its fingerprint %s",
			in.ev.Prefix(), ceremony.Fingerprint(in.ev.Prefix())))
	}
	for _, p := range fresh {
		if p != in.ev.Prefix() {
			r.warnings = append(r.warnings, fmt.Sprintf("the kel of %s came with the proposal (it replays; this device did not hold it)", p))
		}
	}
	if r.seat.reveals {
		switch m := r.seat.m; {
		case m.PendingNextDigest == "":
			r.refusals = append(r.refusals, fmt.Sprintf("member %s has not prepared this rotation: run keremony rotate contribute --group %s --member %s first",
				m.Alias, d.groupName(in.ev.Prefix()), m.Alias))
		case !slices.Contains(in.ev.Next(), m.PendingNextDigest):
			r.refusals = append(r.refusals, fmt.Sprintf("the rotation reveals the next key of member %s but does not commit its prepared next digest %s: signing would leave it unable to rotate again",
				m.Alias, m.PendingNextDigest))
		}
	}
	if r.local != nil && !r.local.State().Open() {
		r.refusals = append(r.refusals, fmt.Sprintf("this device's ceremony %s of this proposal is %s", r.local.ID(), r.local.State()))
	}
	return r, nil
}

// seatLists are the signing keys and the next list that say who takes part
// in a proposed event: the event's own, or for an anchoring the group's
// current ones (in v).
func seatLists(in *proposalIn, v *kel.Verifier) (signing, next []string) {
	if in.p.Kind == ceremony.KindAnchoring {
		st, _ := v.State(in.ev.Prefix())
		return st.Keys, st.Next
	}
	return in.ev.Keys(), in.ev.Next()
}

// print writes the review for the user.
func (r *reviewResult) print(c *cmd, d *device) {
	in := r.in
	ev := in.ev
	from := ""
	if in.packet.From != "" {
		from = " from " + in.packet.From
	}
	group := d.groupName(ev.Prefix())
	if d.groups.aliasOf(ev.Prefix()) == "" && in.packet.Group != "" {
		group = fmt.Sprintf("%s (%s)", in.packet.Group, ev.Prefix())
	}
	c.printf("proposal %s: %s%s for group %s\n", in.p.ID, in.p.Kind, from, group)
	c.printf("event:       %s\n", eventLine(ev))
	c.printf("fingerprint: %s   (compare with the other members before signing)\n", ceremony.Fingerprint(ev.SAID()))
	rev := r.rev
	if rev == nil {
		for _, w := range r.warnings {
			c.printf("warning: %s\n", w)
		}
		for _, why := range r.refusals {
			c.printf("REFUSED: %s\n", why)
		}
		return
	}
	switch {
	case !r.hasSeat:
		c.printf("you:         no member of this device takes part in this event\n")
	case rev.Index >= 0:
		line := fmt.Sprintf("member %s signs at k[%d]", memberAs(r.seat.alias, rev.Label), rev.Index)
		if rev.Kind == ceremony.KindRotation {
			if rev.Ondex >= 0 {
				line += fmt.Sprintf(", revealing the key committed at prior n[%d]", rev.Ondex)
			} else {
				line += " with a key that was not pre-committed (B code)"
			}
		}
		c.printf("you:         %s\n", line)
	default:
		c.printf("you:         member %s does not sign this event\n", memberAs(r.seat.alias, rev.Label))
	}
	if r.hasSeat {
		c.printf("next key:    %s\n", rev.NextText)
	}
	labels := rev.Roster.KeyLabels(len(signingKeys(in, rev)))
	c.printf("signers:     %s\n", strings.Join(labels, ", "))
	c.printf("kt %s:  %s\n", rev.Kt, rev.KtText)
	c.printf("nt %s:  %s\n", rev.Nt, rev.NtText)
	if df := rev.Diff; df != nil {
		c.printf("changes:\n")
		c.printf("  keys kept %d, added %d, removed %d; next digests kept %d, added %d, removed %d\n",
			len(df.KeptKeys), len(df.AddedKeys), len(df.RemovedKeys), len(df.KeptNext), len(df.AddedNext), len(df.RemovedNext))
		c.printf("  kt %s -> %s (%s)\n", df.KtBefore, df.KtAfter, df.KtAfterText)
		c.printf("  nt %s -> %s (%s)\n", df.NtBefore, df.NtAfter, df.NtAfterText)
		c.printf("  prior nt %s must be met by the revealed keys: %s\n", df.NtBefore, df.NtBeforeText)
		for _, m := range df.Members {
			c.printf("  - %s\n", m)
		}
	}
	for _, s := range rev.Seals {
		mark := "unchecked"
		if s.Known {
			mark = "checked"
		}
		c.printf("seal (%s):  %s\n", mark, s.Text)
	}
	if len(rev.Witnesses) > 0 {
		c.printf("witnesses:   %s (bt %d)\n", strings.Join(rev.Witnesses, ", "), rev.Bt)
	}
	if len(rev.Config) > 0 {
		c.printf("config:      %s\n", strings.Join(rev.Config, ", "))
	}
	if rev.Delegator != "" {
		c.printf("delegator:   %s\n", rev.Delegator)
	}
	for _, w := range append(slices.Clone(rev.Warnings), r.warnings...) {
		c.printf("warning: %s\n", w)
	}
	for _, why := range r.refusals {
		c.printf("REFUSED: %s\n", why)
	}
}

func signingKeys(in *proposalIn, rev *ceremony.Review) []string {
	n := len(in.ev.Keys())
	if rev.Kind == ceremony.KindAnchoring {
		n = 0
		for _, m := range rev.Roster {
			if m.Index >= 0 {
				n = max(n, m.Index+1)
			}
		}
	}
	return make([]string, n)
}

// memberAs names a local member with its label in the group when the two
// differ.
func memberAs(alias, label string) string {
	if label == "" || label == alias {
		return alias
	}
	return fmt.Sprintf("%s (%q in the group)", alias, label)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// sign signs a reviewed proposal and writes the signature envelope to out
// ("": it stays in this device's ceremony).
func (c *cmd) sign(d *device, in *proposalIn, r *reviewResult, alias, out string) error {
	cer, env, err := c.signReviewed(d, in, r, alias)
	if err != nil {
		return err
	}
	if out != "" {
		if err := c.writeOutput(out, env.Marshal(), "the signature envelope"); err != nil {
			return err
		}
	} else {
		c.note("the signature is in this device's ceremony %s; use --out FILE to send it to another device", cer.ID())
	}
	return c.afterKELChange(d)
}

// signReviewed signs a reviewed proposal: it records the ceremony (and the
// KELs that came with the proposal) if this device does not have it yet,
// records the group alias (default: the proposal's), reviews again on the
// stored KELs, signs through the keystore (which journals first) and
// returns the signature envelope for the other devices. The caller runs
// syncRotations, since the proposal may have brought events.
func (c *cmd) signReviewed(d *device, in *proposalIn, r *reviewResult, alias string) (*ceremony.Ceremony, transport.Signatures, error) {
	if !r.hasSeat || r.seat.key == "" {
		if r.hasSeat {
			return nil, transport.Signatures{}, fmt.Errorf("%w: member %s has no key among the signing keys of this %s", ceremony.ErrNotSigner, r.seat.alias, in.ev.Ilk())
		}
		return nil, transport.Signatures{}, fmt.Errorf("%w: no member of this device signs this %s", errNoMember, in.ev.Ilk())
	}
	if alias == "" {
		alias = in.packet.Group
	}
	cer, created, err := d.createFromProposal(c, in)
	if err != nil {
		return nil, transport.Signatures{}, err
	}
	if created {
		c.note("recorded ceremony %s", cer.ID())
	}
	if alias != "" {
		if _, err := d.groups.add(alias, in.ev.Prefix()); err != nil {
			c.note("warning: group alias not recorded: %v (use --group ALIAS)", err)
		}
	}
	// The review that authorizes the signature is made again on the stored
	// KELs, now that they hold whatever came with the proposal.
	me := ceremony.Reviewer{Key: r.seat.key, Next: r.seat.next, Labels: d.addressBook(in.ev.Prefix()), Documents: nil}
	rev, err := d.store.Review(in.p, me)
	if err != nil {
		return nil, transport.Signatures{}, fmt.Errorf("%w: %w", errReviewFailed, err)
	}
	signerFor := d.ks.Signer
	if r.seat.reveals {
		signerFor = d.ks.RotationSigner
	}
	ksSigner, err := signerFor(r.seat.alias)
	if err != nil {
		return nil, transport.Signatures{}, err
	}
	if got := kel.EncodeVerKey(ksSigner.PublicKey()); got != r.seat.key {
		return nil, transport.Signatures{}, fmt.Errorf("%w: member %s holds %s, the event expects %s", ceremony.ErrNotSigner, r.seat.alias, got, r.seat.key)
	}
	intake, err := cer.SignLocal(ksSigner, rev)
	if err != nil {
		return nil, transport.Signatures{}, err
	}
	label := rev.Label
	if label == "" {
		label = r.seat.alias
	}
	env, err := transport.NewSignatures(transport.Signatures{Ceremony: cer.ID(), AID: in.ev.Prefix(), Sn: in.ev.Sn(), SAID: in.ev.SAID(),
		Signer: label, Sigs: []string{intake.Sig.Qb64()}})
	if err != nil {
		return nil, transport.Signatures{}, err
	}
	c.printf("member %s signed %s at k[%d] (%s)\n", r.seat.alias, eventLine(in.ev), intake.Index, intake.Sig.Code)
	if cer.Progress().Met {
		c.printf("this device now holds enough signatures: keremony finalize %s --out EVENT\n", cer.ID())
	}
	return cer, env, nil
}
