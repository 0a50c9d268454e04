package cli

// Collecting and closing: keremony collect, status, finalize, abort.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/kel"
	"github.com/keremony/keremony/transport"
)

const collectUsage = `usage: keremony collect [CEREMONY | PROPOSAL] SIGNATURES...

Adds the signatures of signature envelopes (keremony sign --out) to a ceremony of this device,
verifying each against the event and the key at its index, then shows the progress. The
ceremony is named by its id (or a unique prefix), the group's alias (its open ceremony), or
the proposal file (the ceremony is recorded first if this device does not have it yet);
without one, each envelope goes to the ceremony it names. A refused signature changes nothing
(the refusal is kept in the ceremony's transcript); the exit status is then 1.
`

const statusUsage = `usage: keremony status [CEREMONY | GROUP | PROPOSAL] [--log]

Without an argument, lists this device's ceremonies. With one, shows its live progress: one
line per member, the signing threshold (per-clause sums for weighted thresholds) and, for a
rotation, the prior next threshold its revealed keys must also meet. --log adds the transcript.
`

const finalizeUsage = `usage: keremony finalize CEREMONY [--out FILE]

Once the thresholds are met, joins the collected signatures into the fully signed event,
accepts it into this device's KEL (through authenticated replay) and writes it as a CESR
stream to FILE (default standard output) for the other devices (keremony kel import FILE).
Exit status 1, with the progress, when the thresholds are not met.
`

const abortUsage = `usage: keremony abort CEREMONY --reason TEXT [--member M] [--out FILE]
       keremony abort --record FILE

The first form closes an open ceremony of this device for good (it stays on record with its
transcript) and writes an abort record, signed by member M of this device, for the other
devices (--out). The second form applies another device's abort record: its signer must be a
member of the ceremony. Prepared rotations are kept: the same contributions can be proposed
again (keremony rotate cancel discards one).
`

func runCollect(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := newCmd("collect", collectUsage, stdin, stdout, stderr)
	pos, code, ok := c.parse(args)
	if !ok {
		return code
	}
	if len(pos) == 0 {
		return c.usageErr("want the signature envelopes to add")
	}
	d, err := c.open()
	if err != nil {
		return c.fail(err)
	}
	defer d.close()
	var target *ceremony.Ceremony
	files := pos
	if t, err := transport.Sniff(peekFile(pos[0])); err != nil || t != transport.PacketSignatures {
		files = pos[1:]
		if len(files) == 0 {
			return c.usageErr("want at least one signature envelope after %s", pos[0])
		}
		if target, err = c.collectTarget(d, pos[0]); err != nil {
			return c.fail(err)
		}
	}
	failed := 0
	var touched []*ceremony.Ceremony
	for _, f := range files {
		cer, intakes, err := c.collectFile(d, target, f)
		for _, in := range intakes {
			c.printf("%s: %s at k[%d] (%s): %s\n", f, orDash(in.Label), in.Index, in.Sig.Code, in.Outcome)
		}
		if err != nil {
			failed++
			c.note("%s: %v", f, err)
		}
		if cer != nil && !slices.Contains(touched, cer) {
			touched = append(touched, cer)
		}
	}
	for _, cer := range touched {
		c.printf("\n")
		c.printStatus(d, cer, false)
	}
	if failed > 0 {
		c.note("%d of %d files refused", failed, len(files))
		return 1
	}
	return 0
}

// peekFile reads the start of a file for sniffing (nil when unreadable).
func peekFile(path string) []byte {
	data, err := readLimitedFile(path, nil, transport.MaxPacketSize)
	if err != nil {
		return nil
	}
	return data
}

// collectTarget resolves collect's first argument; a proposal file this
// device has no ceremony for is recorded.
func (c *cmd) collectTarget(d *device, arg string) (*ceremony.Ceremony, error) {
	if fi, err := os.Stat(arg); err == nil && !fi.IsDir() {
		if t, err := transport.Sniff(peekFile(arg)); err == nil && t == transport.PacketProposal {
			in, err := readProposal(arg, c.stdin)
			if err != nil {
				return nil, err
			}
			cer, created, err := d.createFromProposal(c, in)
			if err != nil {
				return nil, err
			}
			if created {
				c.note("recorded ceremony %s from %s", cer.ID(), arg)
			}
			return cer, nil
		}
	}
	return d.resolveCeremony(arg, c.stdin)
}

// collectFile delivers the signatures of one envelope file to target (or,
// when target is nil, to the ceremony the envelope names). A file that is
// not a signature envelope, or names another event, changes nothing.
func (c *cmd) collectFile(d *device, target *ceremony.Ceremony, path string) (*ceremony.Ceremony, []ceremony.Intake, error) {
	pk, err := readPacket(path, c.stdin, transport.PacketSignatures)
	if err != nil {
		return nil, nil, err
	}
	env := pk.(transport.Signatures)
	if target == nil {
		if target, err = d.store.Ceremony(env.Ceremony); err != nil {
			return nil, nil, fmt.Errorf("%w: %w (receive the proposal first: keremony collect PROPOSAL %s)", ceremony.ErrWrongCeremony, err, path)
		}
	}
	return deliverSignatures(target, env)
}

// deliverSignatures adds the signatures of an envelope to cer, verifying
// each; an envelope that names another event changes nothing.
func deliverSignatures(cer *ceremony.Ceremony, env transport.Signatures) (*ceremony.Ceremony, []ceremony.Intake, error) {
	ev := cer.Event()
	if env.Ceremony == cer.ID() && env.SAID == ev.SAID() && (env.AID != ev.Prefix() || env.Sn != ev.Sn()) {
		return cer, nil, fmt.Errorf("%w: envelope names %s sn %d, the event is %s sn %d", ceremony.ErrWrongEvent, env.AID, env.Sn, ev.Prefix(), ev.Sn())
	}
	var out []ceremony.Intake
	var errs []error
	for _, s := range env.Sigs {
		in, err := cer.Receive(ceremony.Envelope{Ceremony: env.Ceremony, SAID: env.SAID, Sig: s, From: env.Signer})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, in)
	}
	return cer, out, errors.Join(errs...)
}

func runStatus(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := newCmd("status", statusUsage, stdin, stdout, stderr)
	showLog := c.fs.Bool("log", false, "show the transcript")
	pos, code, ok := c.parse(args)
	if !ok {
		return code
	}
	if len(pos) > 1 {
		return c.usageErr("want at most one CEREMONY")
	}
	d, err := c.open()
	if err != nil {
		return c.fail(err)
	}
	defer d.close()
	if len(pos) == 0 {
		c.listCeremonies(d)
		return 0
	}
	cer, err := d.resolveCeremony(pos[0], stdin)
	if err != nil {
		return c.fail(err)
	}
	c.printStatus(d, cer, *showLog)
	return 0
}

func (c *cmd) listCeremonies(d *device) {
	all := d.store.Ceremonies()
	if len(all) == 0 {
		c.printf("no ceremonies in %s\n", d.home)
		return
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CEREMONY\tKIND\tGROUP\tEVENT\tSTATE\tSIGNATURES\tCREATED")
	for _, cer := range all {
		ev := cer.Event()
		group := d.groups.aliasOf(ev.Prefix())
		if group == "" {
			group = ev.Prefix()[:12] + "…"
		}
		pr := cer.Progress()
		state := string(cer.State())
		if pr.Met && cer.State().Open() {
			state += " (ready)"
		}
		signed := len(pr.Signed)
		if final := cer.Finalized(); final != nil {
			if msgs, err := kel.ParseStream(final); err == nil && len(msgs) == 1 {
				signed = len(msgs[0].Sigs)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s sn %d\t%s\t%d of %d keys\t%s\n", cer.ID(), cer.Kind(), group, ev.Ilk(), ev.Sn(), state,
			signed, len(cer.SigningKeys()), cer.Created().Local().Format(time.DateTime))
	}
	tw.Flush()
}

// printStatus shows a ceremony's live progress.
func (c *cmd) printStatus(d *device, cer *ceremony.Ceremony, showLog bool) {
	ev := cer.Event()
	pr := cer.Progress()
	roster := cer.Roster()
	c.printf("ceremony %s: %s of %s\n", cer.ID(), cer.Kind(), d.groupName(ev.Prefix()))
	c.printf("event:       %s\n", eventLine(ev))
	c.printf("fingerprint: %s\n", ceremony.Fingerprint(ev.SAID()))
	state := string(cer.State())
	if r := cer.AbortReason(); r != "" {
		state += ": " + r
	}
	c.printf("state:       %s (created %s)\n", state, cer.Created().Local().Format(time.DateTime))
	c.printf("members:\n")
	for _, s := range pr.Slots {
		pos := "-"
		if s.Index >= 0 {
			pos = fmt.Sprintf("k[%d]", s.Index)
		}
		line := string(s.Status)
		switch s.Status {
		case ceremony.SlotSigned:
			line += " (" + s.Code
			if pr.Rotation {
				if s.Exposes {
					line += fmt.Sprintf(", reveals its key committed at prior n[%d]", s.Ondex)
				} else {
					line += ", counts toward kt only"
				}
			}
			line += ")"
		case ceremony.SlotInvalid:
			line += ": the last signature delivered was refused: " + s.Why
		case ceremony.SlotNotSigning:
			line += " (" + string(s.Role) + ")"
		}
		c.printf("  %-14s %-6s %s\n", s.Label, pos, line)
	}
	keyLabels := roster.KeyLabels(len(cer.SigningKeys()))
	c.printf("signing threshold kt %s (%s): %s\n", pr.KtThreshold, pr.KtText, satisfactionText(pr.Kt, keyLabels, pr.Signed, "signed"))
	for _, l := range clauseLines(pr.Kt, keyLabels) {
		c.printf("  %s\n", l)
	}
	if pr.Rotation {
		priorLabels := priorLabels(roster, pr.Exposed)
		c.printf("prior next threshold nt %s (%s): %s\n", pr.PriorNtThreshold, pr.PriorNtText, satisfactionText(pr.PriorNt, priorLabels, pr.Exposed, "revealed"))
		for _, l := range clauseLines(pr.PriorNt, priorLabels) {
			c.printf("  %s\n", l)
		}
	}
	switch {
	case cer.State() == ceremony.StateFinalized:
		c.printf("finalized: the event is in this device's kel\n")
	case !cer.State().Open():
		c.printf("closed: %s\n", cer.State())
	case pr.Met:
		c.printf("ready: keremony finalize %s --out EVENT\n", cer.ID())
	default:
		c.printf("not ready: %s\n", pr.Missing)
	}
	if showLog {
		c.printf("transcript:\n")
		for _, e := range cer.Transcript() {
			c.printf("  %s\n", e)
		}
	}
}

// priorLabels names prior next positions by the roster members that claim
// them (others "#i").
func priorLabels(r ceremony.Roster, exposed []int) []string {
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

// satisfactionText says how far the counted positions go toward a
// threshold.
func satisfactionText(s kel.Satisfaction, labels []string, idx []int, verb string) string {
	met := "not met"
	if s.Met {
		met = "met"
	}
	if len(s.Clauses) > 0 {
		return fmt.Sprintf("%s by %s: %s", verb, namesOf(labels, idx), met)
	}
	return fmt.Sprintf("%d %s, %d needed (%s): %s", s.Have, verb, s.Need, namesOf(labels, idx), met)
}

// clauseLines shows each weighted clause's sum.
func clauseLines(s kel.Satisfaction, labels []string) []string {
	var out []string
	for i, cl := range s.Clauses {
		met := "not met"
		if cl.Met {
			met = "met"
		}
		out = append(out, fmt.Sprintf("clause %d over %s: sum %s of 1 (%s): %s", i+1, namesOf(labels, cl.Leaves), cl.Sum.RatString(), namesOf(labels, cl.Counted), met))
	}
	return out
}

func namesOf(labels []string, idx []int) string {
	var out []string
	for _, i := range idx {
		if i >= 0 && i < len(labels) {
			out = append(out, labels[i])
		} else {
			out = append(out, fmt.Sprintf("#%d", i))
		}
	}
	if len(out) == 0 {
		return "nobody"
	}
	return strings.Join(out, ", ")
}

func runFinalize(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := newCmd("finalize", finalizeUsage, stdin, stdout, stderr)
	out := c.fs.String("out", "", "output file")
	pos, code, ok := c.parse(args)
	if !ok {
		return code
	}
	c.resultOnStdout(*out, true)
	if len(pos) != 1 {
		return c.usageErr("want one CEREMONY")
	}
	d, err := c.open()
	if err != nil {
		return c.fail(err)
	}
	defer d.close()
	cer, err := d.resolveCeremony(pos[0], stdin)
	if err != nil {
		return c.fail(err)
	}
	if err := c.finalize(d, cer, *out); err != nil {
		return c.fail(err)
	}
	return 0
}

func (c *cmd) finalize(d *device, cer *ceremony.Ceremony, out string) error {
	msg, fresh, err := c.finalEvent(d, cer)
	if err != nil {
		return err
	}
	if err := c.writeOutput(out, msg, "the finalized event"); err != nil || !fresh {
		return err
	}
	if err := c.afterKELChange(d); err != nil {
		return err
	}
	c.printf("next: send the event to the other devices (keremony kel import FILE)\n")
	return nil
}

// finalEvent finalizes cer: it joins the signatures into the fully signed
// event and accepts it into this device's KEL (fresh), or returns the event
// of a ceremony finalized before. The caller runs syncRotations.
func (c *cmd) finalEvent(d *device, cer *ceremony.Ceremony) (msg []byte, fresh bool, err error) {
	if cer.State() == ceremony.StateFinalized {
		c.note("ceremony %s was already finalized; writing its event again", cer.ID())
		return cer.Finalized(), false, nil
	}
	msg, err = cer.Finalize()
	if err != nil {
		if errors.Is(err, ceremony.ErrNotReady) || errors.Is(err, ceremony.ErrDelegationPending) {
			c.printStatus(d, cer, false)
		}
		return nil, false, err
	}
	c.printf("finalized %s with %d signatures; it is in this device's kel\n", eventLine(cer.Event()), len(cer.Signatures()))
	return msg, true, nil
}

func runAbort(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := newCmd("abort", abortUsage, stdin, stdout, stderr)
	reason := c.fs.String("reason", "", "why")
	member := c.fs.String("member", "", "member signing the abort record")
	record := c.fs.String("record", "", "abort record to apply")
	out := c.fs.String("out", "", "output file")
	pos, code, ok := c.parse(args)
	if !ok {
		return code
	}
	c.resultOnStdout(*out, false)
	switch {
	case *record != "" && (len(pos) != 0 || *reason != ""):
		return c.usageErr("--record takes no CEREMONY or --reason")
	case *record == "" && len(pos) != 1:
		return c.usageErr("want one CEREMONY")
	case *record == "" && *reason == "":
		return c.usageErr("--reason TEXT is required")
	}
	d, err := c.open()
	if err != nil {
		return c.fail(err)
	}
	defer d.close()
	if *record != "" {
		err = c.applyAbort(d, *record)
	} else {
		err = c.abort(d, pos[0], *reason, *member, *out)
	}
	if err != nil {
		return c.fail(err)
	}
	return 0
}

// memberKeys are the keys whose holders may abort a ceremony: its signing
// keys, its roster's keys and the group's current keys.
func (d *device) memberKeys(cer *ceremony.Ceremony) []string {
	keys := cer.SigningKeys()
	for _, m := range cer.Roster() {
		if m.Key != "" {
			keys = append(keys, m.Key)
		}
	}
	if st, ok := d.store.State(cer.Event().Prefix()); ok {
		keys = append(keys, st.Keys...)
	}
	return keys
}

func (c *cmd) abort(d *device, target, reason, member, out string) error {
	if err := checkReason(reason); err != nil {
		return err
	}
	cer, err := d.resolveCeremony(target, c.stdin)
	if err != nil {
		return err
	}
	rec, err := c.abortCeremony(d, cer, reason, member, out != "")
	if err != nil {
		return err
	}
	if out != "" {
		return c.writeOutput(out, rec.Marshal(), "the abort record")
	}
	if rec != nil {
		c.note("no abort record written (use --out FILE to tell the other devices)")
	}
	return nil
}

// localMembersIn names the members of this device whose current key is
// among keys.
func (d *device) localMembersIn(keys []string) ([]string, error) {
	ms, err := d.ks.Members()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range ms {
		if slices.Contains(keys, kel.EncodeVerKey(m.PublicKey)) {
			out = append(out, m.Alias)
		}
	}
	return out, nil
}

// abortCeremony closes the open ceremony cer for good and returns the abort
// record signed by member ("": the one member of this device in the
// ceremony), or nil when no member of this device belongs to it (an error
// when needRecord).
func (c *cmd) abortCeremony(d *device, cer *ceremony.Ceremony, reason, member string, needRecord bool) (*transport.Abort, error) {
	if !cer.State().Open() {
		return nil, fmt.Errorf("%w: ceremony %s is %s", ceremony.ErrNotCollecting, cer.ID(), cer.State())
	}
	keys := d.memberKeys(cer)
	if member == "" {
		found, err := d.localMembersIn(keys)
		if err != nil {
			return nil, err
		}
		if len(found) > 1 {
			return nil, fmt.Errorf("%w: several members of this device could sign the abort record: choose one with --member", errAmbiguous)
		}
		if len(found) == 1 {
			member = found[0]
		}
	}
	var rec *transport.Abort
	if member != "" {
		m, err := d.ks.Member(member)
		if err != nil {
			return nil, err
		}
		key := kel.EncodeVerKey(m.PublicKey)
		if !slices.Contains(keys, key) {
			return nil, fmt.Errorf("%w: member %s is not a member of ceremony %s", errNoMember, member, cer.ID())
		}
		label := member
		if rm, ok := cer.Roster().ByKey(key); ok {
			label = rm.Label
		}
		ev := cer.Event()
		a, err := transport.NewAbort(transport.Abort{Ceremony: cer.ID(), AID: ev.Prefix(), Sn: ev.Sn(), SAID: ev.SAID(),
			Reason: reason, By: label, Key: key}, func(b []byte) ([]byte, error) { return d.ks.SignProof(member, b) })
		if err != nil {
			return nil, err
		}
		rec = &a
	} else if needRecord {
		return nil, fmt.Errorf("%w: no member of this device belongs to ceremony %s, so no abort record can be signed", errNoMember, cer.ID())
	}
	if err := cer.Abort(reason); err != nil {
		return nil, err
	}
	c.printf("aborted ceremony %s (%s): %s\n", cer.ID(), eventLine(cer.Event()), reason)
	return rec, nil
}

func checkReason(reason string) error {
	if len(reason) > transport.MaxReasonSize || strings.ContainsFunc(reason, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return usagef("--reason: at most %d bytes on one line", transport.MaxReasonSize)
	}
	return nil
}

func (c *cmd) applyAbort(d *device, path string) error {
	pk, err := readPacket(path, c.stdin, transport.PacketAbort)
	if err != nil {
		return err
	}
	a := pk.(transport.Abort)
	cer, err := d.store.Ceremony(a.Ceremony)
	if err != nil {
		c.printf("this device has no ceremony %s (%s sn %d of %s): nothing to abort\n", a.Ceremony, a.SAID, a.Sn, d.groupName(a.AID))
		return nil
	}
	return c.applyAbortRecord(d, cer, a)
}

// applyAbortRecord closes cer as another device's abort record asks, if the
// record names its event and is signed by a member of the ceremony.
func (c *cmd) applyAbortRecord(d *device, cer *ceremony.Ceremony, a transport.Abort) error {
	ev := cer.Event()
	if a.SAID != ev.SAID() || a.AID != ev.Prefix() || a.Sn != ev.Sn() {
		return fmt.Errorf("%w: the record names %s sn %d %s, ceremony %s signs %s", ceremony.ErrWrongEvent, a.AID, a.Sn, a.SAID, cer.ID(), eventLine(ev))
	}
	if !slices.Contains(d.memberKeys(cer), a.Key) {
		return fmt.Errorf("%w: %s (%q) in ceremony %s", errAbortNotMember, a.Key, a.By, cer.ID())
	}
	if err := cer.Abort(fmt.Sprintf("aborted by %s: %s", a.By, a.Reason)); err != nil {
		return err
	}
	c.printf("aborted ceremony %s (%s) as %s asked: %s\n", cer.ID(), eventLine(ev), a.By, a.Reason)
	return nil
}
