package cli

// Key event logs on this device: keremony kel import|export|list|show.

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/keremony/keremony/device"
	"github.com/keremony/keremony/internal/safetext"
	"github.com/keremony/keremony/kel"
)

const kelUsage = `usage: keremony kel import FILE... [--group ALIAS]
       keremony kel fetch OOBI [--group ALIAS]
       keremony kel export AID... [--since SN] [--out FILE]
       keremony kel list
       keremony kel show AID

import   accepts CESR event streams (a finalized event from another device, a whole KEL) into
         this device's KELs, each event only after authenticated replay (signatures against the
         key state that authorizes them). An event that finalizes an open ceremony of this
         device closes it; a rotation that makes a member's revealed key current commits the
         member's prepared rotation. --group records a local alias for the stream's identifier.
         A delegated event (dip, drt) is accepted only once this device holds its delegator's
         anchoring seal: until then it is kept PENDING (with the later events of its identifier)
         and accepted when the delegator's kel is imported. A recovery rotation supersedes the
         interactions after the last establishment event; they stay on record as superseded.
         Exit status 1 when any event is refused (pending events are not refused).
fetch    fetches an identifier's KEL, with its witness receipts, from the witness an OOBI names
         (http://HOST:PORT/oobi/AID/witness/WITNESS: the OOBI, else the witness's KEL query) and
         imports it as import does: how a late joiner or a replacement device gets a group's
         state. The witness's signed location, when it comes along, is kept for publishing.
export   writes the KELs of the identifiers (aliases or prefixes), in order, as one CESR stream
         (default standard output): plain KERI that keremony verify and other KERI tools read,
         with the witness receipts held as witness signatures. --since SN leaves out the events
         before sn SN: the catch-up bundle for a device that holds sn 0 to SN-1 (a review that
         finds this device behind a proposal names the command).
list     the identifiers this device holds a KEL for, with their aliases and key state.
show     one identifier's events, with the seals they anchor and the events that anchor them.
`

func runKEL(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	sub, args, code, ok := subcommand("kel", kelUsage+commonFlagsUsage, args, stdout, stderr, "import", "fetch", "export", "list", "show")
	if !ok {
		return code
	}
	c := newCmd("kel "+sub, kelUsage, stdin, stdout, stderr)
	if sub == "list" {
		return kelList(c, args)
	}
	group := ""
	out := ""
	if sub == "import" || sub == "fetch" {
		c.fs.StringVar(&group, "group", "", "alias for the imported identifier")
	}
	var since uint64
	if sub == "export" {
		c.fs.StringVar(&out, "out", "", "output file")
		c.fs.Uint64Var(&since, "since", 0, "leave out the events before this sequence number")
	}
	pos, code, ok := c.parse(args)
	if !ok {
		return code
	}
	c.resultOnStdout(out, sub == "export")
	switch {
	case len(pos) == 0:
		return c.usageErr("want at least one argument")
	case sub == "show" && len(pos) != 1:
		return c.usageErr("want one AID")
	case sub == "fetch" && len(pos) != 1:
		return c.usageErr("want one OOBI")
	}
	d, err := c.open()
	if err != nil {
		return c.fail(err)
	}
	defer d.Close()
	switch sub {
	case "import":
		err = kelImport(c, d, pos, group)
	case "fetch":
		err = kelFetch(c, d, pos[0], group)
	case "export":
		var stream []byte
		if stream, err = d.ExportSince(since, pos...); err == nil {
			err = c.writeOutput(out, stream, "the kel")
		}
	case "show":
		err = kelShow(c, d, pos[0])
	}
	if err != nil {
		return c.fail(err)
	}
	return 0
}

// kelImport imports streams; the error reports the first refusal.
func kelImport(c *cmd, d *device.Device, files []string, alias string) error {
	var firstErr error
	for _, f := range files {
		res, err := d.ImportFile(f, c.stdin, alias)
		if res != nil {
			printImported(c, d, res)
			if c.lines(res.Notices) && err == nil {
				err = errRotations
			}
		}
		if err != nil {
			c.note("%s: %v", f, err)
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	return firstErr
}

// kelFetch fetches a KEL from a witness and imports it.
func kelFetch(c *cmd, d *device.Device, oobi, alias string) error {
	f, err := d.FetchKEL(context.Background(), oobi, alias)
	if f == nil {
		return err
	}
	c.printf("fetched the kel of %s from %s\n", d.GroupName(f.Prefix), f.From)
	printImported(c, d, f.Imported)
	for _, w := range f.Located {
		c.printf("witness %s (%s) is at %s\n", d.WitnessName(w.Prefix), w.Prefix, w.URL)
	}
	if _, st, serr := d.ResolveAID(f.Prefix); serr == nil {
		for sn := uint64(0); sn <= st.Sn; sn++ {
			if w, ok := d.Witnessing(f.Prefix, sn); ok {
				c.printf("sn %d %s\n", sn, w.Line)
			}
		}
	}
	if c.lines(f.Imported.Notices) && err == nil {
		err = errRotations
	}
	return err
}

// printImported says what became of each imported event.
func printImported(c *cmd, d *device.Device, res *device.Imported) {
	same := func(a kel.Result) func(kel.Result) bool {
		return func(b kel.Result) bool { return a.Prefix == b.Prefix && a.SAID == b.SAID }
	}
	for _, r := range res.Results {
		verdict := "accepted"
		switch {
		case r.Held:
			verdict = "PENDING: kept until its delegator's anchor arrives (import the delegator's kel): " + r.Err.Error()
		case !r.OK():
			verdict = "REFUSED: " + r.Err.Error()
		case slices.ContainsFunc(res.Known, same(r)) && slices.Contains(r.Warnings, "superseded_event"):
			verdict = "already held (superseded by a recovery rotation)"
		case slices.ContainsFunc(res.Known, same(r)):
			verdict = "already held"
		case len(r.Supersedes) > 0:
			verdict = "accepted: RECOVERY rotation, supersedes " + supersededList(r.Supersedes)
		}
		c.printf("%s sn %d %s %s: %s\n", d.GroupName(r.Prefix), r.Sn, r.Ilk, r.SAID, verdict)
		for _, cer := range res.Closed {
			if cer.SAID() == r.SAID {
				c.printf("  ceremony %s is finalized: the fully signed event arrived\n", cer.ID())
			}
		}
	}
	for _, r := range res.Released {
		verdict := "accepted: its delegator's anchor arrived"
		if !r.OK() {
			verdict = "REFUSED now that its delegator's anchor arrived: " + r.Err.Error()
		}
		c.printf("%s sn %d %s %s (pending before): %s\n", d.GroupName(r.Prefix), r.Sn, r.Ilk, r.SAID, verdict)
	}
	if len(res.Pending) > 0 {
		c.note("%d events pending: import the kel of their delegator, which must anchor them", len(res.Pending))
	}
	if res.Receipts > 0 {
		c.printf("%d new witness receipts kept\n", res.Receipts)
	}
}

// supersededList names superseded events in one line.
func supersededList(refs []kel.EventRef) string {
	var parts []string
	for _, s := range refs {
		parts = append(parts, fmt.Sprintf("%s sn %d %s", s.Ilk, s.Sn, s.SAID))
	}
	return strings.Join(parts, ", ")
}

func kelList(c *cmd, args []string) int {
	pos, code, ok := c.parse(args)
	if !ok {
		return code
	}
	if len(pos) != 0 {
		return c.usageErr("unexpected arguments %q", pos)
	}
	d, err := c.open()
	if err != nil {
		return c.fail(err)
	}
	defer d.Close()
	groups := d.Groups()
	if len(groups) == 0 {
		c.printf("no key event logs in %s\n", d.Home())
	} else {
		tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ALIAS\tIDENTIFIER\tSN\tLAST\tKT\tKEYS\tNT\tNEXT")
		for _, g := range groups {
			st := g.State
			safetext.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%d\t%s\t%d\n", device.OrDash(g.Alias), g.Prefix, st.Sn, st.LastIlk, st.Kt, len(st.Keys), st.Nt, len(st.Next))
		}
		tw.Flush()
	}
	// Aliases of groups still being incepted.
	for _, a := range d.Aliases() {
		if !slices.ContainsFunc(groups, func(g device.Group) bool { return g.Prefix == a.Prefix }) {
			c.printf("%s: %s, inception not finalized on this device\n", a.Alias, a.Prefix)
		}
	}
	return 0
}

func kelShow(c *cmd, d *device.Device, name string) error {
	k, err := d.ShowKEL(name)
	if err != nil {
		return err
	}
	c.printf("identifier %s\n", d.GroupName(k.Prefix))
	for _, e := range k.Events {
		ev := e.Message.Event
		c.printf("sn %d %s %s (%d signatures)\n", ev.Sn(), ev.Ilk(), ev.SAID(), len(e.Message.Sigs))
		if e.SupersededBy != nil {
			c.printf("  SUPERSEDED by the recovery %s sn %d (%s): no longer part of the kel, anchors nothing\n", e.SupersededBy.Ilk, e.SupersededBy.Sn, e.SupersededBy.SAID)
		} else if w, ok := d.Witnessing(k.Prefix, ev.Sn()); ok {
			c.printf("  %s\n", w.Line)
		}
		if len(e.Supersedes) > 0 {
			c.printf("  RECOVERY: supersedes %s\n", supersededList(e.Supersedes))
		}
		if ev.IsEstablishment() {
			c.printf("  kt %s: %s\n", ev.Kt(), labelled(ev.Keys(), k.Labels))
			c.printf("  nt %s: %s\n", ev.Nt(), labelled(ev.Next(), k.Labels))
		}
		if ev.Delegator() != "" {
			c.printf("  delegated by %s\n", d.GroupName(ev.Delegator()))
		}
		for i, s := range ev.Seals() {
			line := "  seal " + s.String()
			if s.Kind == kel.SealEvent {
				line = fmt.Sprintf("  anchors event %d of %s (said %s)", s.S, d.GroupName(s.I), s.D)
				if ilk := e.Anchored[i]; ilk != "" {
					line += fmt.Sprintf(": the %s this device holds", ilk)
				} else {
					line += ": not held here"
				}
			}
			c.printf("%s\n", line)
		}
		for _, a := range e.AnchoredBy {
			c.printf("  anchored by %s sn %d (%s)\n", d.GroupName(a.Prefix), a.Sn, a.SAID)
		}
	}
	st := k.State
	c.printf("current: sn %d, kt %s over %d keys, nt %s over %d next digests\n", st.Sn, st.Kt, len(st.Keys), st.Nt, len(st.Next))
	return nil
}

// labelled lists keys or digests with the labels this device knows.
func labelled(items []string, book map[string]string) string {
	var out []string
	for i, it := range items {
		s := fmt.Sprintf("[%d] %s", i, it)
		if l := book[it]; l != "" {
			s += " (" + l + ")"
		}
		out = append(out, s)
	}
	return strings.Join(out, ", ")
}
