package cli

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/device"
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

func runReview(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return reviewOrSign("review", reviewUsage, args, stdin, stdout, stderr)
}

// reviewOrSign runs keremony review and keremony sign: both review; sign
// then signs with the review's result.
func reviewOrSign(name, usage string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := newCmd(name, usage, stdin, stdout, stderr)
	c.expiresFlag()
	member := c.fs.String("member", "", "this device's member")
	var docs stringList
	c.fs.Var(&docs, "doc", "document for digest seals")
	var group, out *string
	var yes *bool
	if name == "sign" {
		group = c.fs.String("group", "", "local group alias")
		out = c.fs.String("out", "", "signature envelope file")
		yes = c.fs.Bool("yes", false, "sign without asking")
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
	in, err := device.ReadProposal(pos[0], stdin)
	if err != nil {
		return c.fail(err)
	}
	documents := map[string][]byte{}
	for _, f := range docs {
		data, err := device.ReadBounded(f, nil, maxDocument, nil)
		if err != nil {
			return c.fail(err)
		}
		documents[filepath.Base(f)] = data
	}
	d, err := c.open()
	if err != nil {
		return c.fail(err)
	}
	defer d.Close()
	r, err := d.Review(in, *member, documents)
	if err != nil {
		return c.fail(err)
	}
	printReview(c, d, r)
	if !r.Passed() {
		c.printf("review FAILED: do not sign\n")
		return c.fail(fmt.Errorf("%w: %s", device.ErrReviewFailed, strings.Join(r.Refusals, "; ")))
	}
	if name == "review" {
		if r.SignKey != "" {
			c.printf("review passed: you may sign (keremony sign %s --member %s)\n", in.Source, r.Member)
		} else {
			c.printf("review passed\n")
		}
		return 0
	}
	if !*yes && signOnTerminal(stdin) {
		if err := confirmSign(c, r, stdin); err != nil {
			return c.fail(err)
		}
	}
	if err := sign(c, d, r, *group, *out); err != nil {
		return c.fail(err)
	}
	return 0
}

// maxDocument caps a document read for a digest seal.
const maxDocument = 1 << 30

// printReview writes the review for the user.
func printReview(c *cmd, d *device.Device, r *device.Reviewed) {
	in := r.In
	ev := in.Event
	from := ""
	if in.Packet.From != "" {
		from = " from " + in.Packet.From
	}
	group := d.GroupName(ev.Prefix())
	if d.AliasOf(ev.Prefix()) == "" && in.Packet.Group != "" {
		group = fmt.Sprintf("%s (%s)", in.Packet.Group, ev.Prefix())
	}
	c.printf("proposal %s: %s%s for group %s\n", in.ID(), in.Proposal.Kind, from, group)
	c.printf("proposer:    %s, whose key %s signed the proposal\n", in.Packet.From, in.ProposerKey())
	c.printf("event:       %s\n", device.EventLine(ev))
	c.printf("fingerprint: %s   (compare with the other members before signing)\n", ceremony.Fingerprint(ev.SAID()))
	if words := ceremony.FingerprintWords(ev.SAID()); len(words) > 0 {
		c.printf("words:       %s   (read them aloud: every member must see the same six)\n", strings.Join(words, " "))
	}
	rev := r.Review
	if rev == nil {
		for _, w := range r.Warnings {
			c.printf("warning: %s\n", w)
		}
		for _, why := range r.Refusals {
			c.printf("REFUSED: %s\n", why)
		}
		return
	}
	switch {
	case !r.HasSeat():
		c.printf("you:         no member of this device takes part in this event\n")
	case rev.Index >= 0:
		line := fmt.Sprintf("member %s signs at k[%d]", memberAs(r.Member, rev.Label), rev.Index)
		if rev.Kind == ceremony.KindRotation {
			if rev.Ondex >= 0 {
				line += fmt.Sprintf(", revealing the key committed at prior n[%d]", rev.Ondex)
			} else {
				line += " with a key that was not pre-committed (B code)"
			}
		}
		c.printf("you:         %s\n", line)
	default:
		c.printf("you:         member %s does not sign this event\n", memberAs(r.Member, rev.Label))
	}
	if r.Effect != "" {
		c.printf("for you:     %s\n", r.Effect)
	}
	if r.HasSeat() {
		c.printf("next key:    %s\n", rev.NextText)
	}
	labels := rev.Roster.KeyLabels(r.SigningCount())
	c.printf("signers:     %s\n", strings.Join(labels, ", "))
	c.printf("kt %s:  %s\n", rev.Kt, rev.KtText)
	c.printf("nt %s:  %s\n", rev.Nt, rev.NtText)
	if rev.Recovery {
		if len(rev.SupersedesText) == 0 {
			c.printf("RECOVERY:    a recovery rotation at sn %d, but this device holds no event there to supersede\n", rev.Sn)
		} else {
			c.printf("RECOVERY:    this rotation takes sn %d and supersedes these %d events of the group's kel:\n", rev.Sn, len(rev.SupersedesText))
			for _, line := range rev.SupersedesText {
				c.printf("  - %s\n", line)
			}
			c.printf("             they stay on record as superseded; what they anchored is no longer anchored by the group\n")
		}
	}
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
		c.printf("witnesses:   %s\n", rev.WitnessText)
	}
	if len(rev.Config) > 0 {
		c.printf("config:      %s\n", strings.Join(rev.Config, ", "))
	}
	if rev.Delegator != "" {
		c.printf("delegator:   %s\n", rev.Delegator)
	}
	for _, w := range slices.Clone(r.Warnings) {
		c.printf("warning: %s\n", w)
	}
	for _, why := range r.Refusals {
		c.printf("REFUSED: %s\n", why)
	}
}

// memberAs names a local member with its label in the group when the two
// differ.
func memberAs(alias, label string) string {
	if label == "" || label == alias {
		return alias
	}
	return fmt.Sprintf("%s (%q in the group)", alias, label)
}
