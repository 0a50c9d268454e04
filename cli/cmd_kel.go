package cli

// Key event logs on this device: keremony kel import|export|list|show.

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/kel"
	"github.com/keremony/keremony/transport"
)

const kelUsage = `usage: keremony kel import FILE... [--group ALIAS]
       keremony kel export AID... [--out FILE]
       keremony kel list
       keremony kel show AID

import   accepts CESR event streams (a finalized event from another device, a whole KEL) into
         this device's KELs, each event only after authenticated replay (signatures against the
         key state that authorizes them). An event that finalizes an open ceremony of this
         device closes it; a rotation that makes a member's revealed key current commits the
         member's prepared rotation. --group records a local alias for the stream's identifier.
         Exit status 1 when any event is refused.
export   writes the KELs of the identifiers (aliases or prefixes), in order, as one CESR stream
         (default standard output): plain KERI that keremony verify and other KERI tools read.
list     the identifiers this device holds a KEL for, with their aliases and key state.
show     one identifier's events, with the seals they anchor and the events that anchor them.
`

func runKEL(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	sub, args, code, ok := subcommand("kel", kelUsage+commonFlagsUsage, args, stdout, stderr, "import", "export", "list", "show")
	if !ok {
		return code
	}
	c := newCmd("kel "+sub, kelUsage, stdin, stdout, stderr)
	if sub == "list" {
		return kelList(c, args)
	}
	group := ""
	out := ""
	if sub == "import" {
		c.fs.StringVar(&group, "group", "", "alias for the imported identifier")
	}
	if sub == "export" {
		c.fs.StringVar(&out, "out", "", "output file")
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
	}
	d, err := c.open()
	if err != nil {
		return c.fail(err)
	}
	defer d.close()
	switch sub {
	case "import":
		err = c.kelImport(d, pos, group)
	case "export":
		err = c.kelExport(d, pos, out)
	case "show":
		err = c.kelShow(d, pos[0])
	}
	if err != nil {
		return c.fail(err)
	}
	return 0
}

// kelImport imports streams; the error reports the first refusal.
func (c *cmd) kelImport(d *device, files []string, alias string) error {
	var firstErr error
	for _, f := range files {
		if err := c.importFile(d, f, alias); err != nil {
			c.note("%s: %v", f, err)
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	if err := c.afterKELChange(d); err != nil && firstErr == nil {
		firstErr = err
	}
	return firstErr
}

func (c *cmd) importFile(d *device, path, alias string) error {
	pk, err := readPacket(path, c.stdin, transport.PacketCESR)
	if err != nil {
		return err
	}
	_, err = c.importStream(d, pk.(transport.Stream), alias)
	return err
}

// imported is what importStream did.
type imported struct {
	fresh   []kel.Result         // events new on this device
	refused []kel.Result         // events refused
	closed  []*ceremony.Ceremony // open ceremonies the stream finalized
}

// importStream accepts a CESR stream into this device's KELs through
// authenticated replay, saying what became of each event, and records
// alias ("": none) for the stream's one identifier. The error reports the
// first refusal. The caller runs syncRotations.
func (c *cmd) importStream(d *device, s transport.Stream, alias string) (imported, error) {
	var out imported
	prefixes := uniquePrefixes(s.Raw)
	if alias != "" && len(prefixes) != 1 {
		return out, usagef("--group: the stream holds %d identifiers, want one", len(prefixes))
	}
	before := map[string]int{}
	for _, p := range prefixes {
		if st, ok := d.store.State(p); ok {
			before[p] = int(st.Sn) + 1
		}
	}
	open := map[string]*ceremony.Ceremony{}
	for _, cer := range d.store.Ceremonies() {
		if cer.State().Open() {
			open[cer.SAID()] = cer
		}
	}
	results, err := d.store.ImportKEL(s.Raw)
	for _, r := range results {
		verdict := "accepted"
		switch {
		case !r.OK():
			verdict = "REFUSED: " + r.Err.Error()
			out.refused = append(out.refused, r)
		case int(r.Sn) < before[r.Prefix]:
			verdict = "already held"
		default:
			out.fresh = append(out.fresh, r)
		}
		c.printf("%s sn %d %s %s: %s\n", d.groupName(r.Prefix), r.Sn, r.Ilk, r.SAID, verdict)
		if cer, ok := open[r.SAID]; ok && r.OK() && cer.State() == ceremony.StateFinalized {
			c.printf("  ceremony %s is finalized: the fully signed event arrived\n", cer.ID())
			out.closed = append(out.closed, cer)
		}
	}
	if alias != "" {
		if _, aerr := d.groups.add(alias, prefixes[0]); aerr != nil && err == nil {
			err = aerr
		}
	}
	return out, err
}

func (c *cmd) kelExport(d *device, names []string, out string) error {
	var stream []byte
	for _, n := range names {
		prefix, _, err := d.resolveAID(n)
		if err != nil {
			return err
		}
		stream = append(stream, d.store.Export(prefix)...)
	}
	return c.writeOutput(out, stream, "the kel")
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
	defer d.close()
	v := d.store.Verifier()
	if len(v.Prefixes()) == 0 {
		c.printf("no key event logs in %s\n", d.home)
	} else {
		tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ALIAS\tIDENTIFIER\tSN\tLAST\tKT\tKEYS\tNT\tNEXT")
		for _, p := range v.Prefixes() {
			st, _ := v.State(p)
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%d\t%s\t%d\n", orDash(d.groups.aliasOf(p)), p, st.Sn, st.LastIlk, st.Kt, len(st.Keys), st.Nt, len(st.Next))
		}
		tw.Flush()
	}
	// Aliases of groups still being incepted.
	for _, g := range d.groups.Groups {
		if !slices.Contains(v.Prefixes(), g.Prefix) {
			c.printf("%s: %s, inception not finalized on this device\n", g.Alias, g.Prefix)
		}
	}
	return 0
}

func (c *cmd) kelShow(d *device, name string) error {
	prefix, st, err := d.resolveAID(name)
	if err != nil {
		return err
	}
	v := d.store.Verifier()
	book := d.addressBook(prefix)
	c.printf("identifier %s\n", d.groupName(prefix))
	for _, m := range v.Messages(prefix) {
		ev := m.Event
		c.printf("sn %d %s %s (%d signatures)\n", ev.Sn(), ev.Ilk(), ev.SAID(), len(m.Sigs))
		if ev.IsEstablishment() {
			c.printf("  kt %s: %s\n", ev.Kt(), labelled(ev.Keys(), book))
			c.printf("  nt %s: %s\n", ev.Nt(), labelled(ev.Next(), book))
		}
		if ev.Delegator() != "" {
			c.printf("  delegated by %s\n", d.groupName(ev.Delegator()))
		}
		for _, s := range ev.Seals() {
			line := "  seal " + s.String()
			if s.Kind == kel.SealEvent {
				line = fmt.Sprintf("  anchors event %d of %s (said %s)", s.S, d.groupName(s.I), s.D)
				if msgs := v.Messages(s.I); s.S < uint64(len(msgs)) && msgs[s.S].Event.SAID() == s.D {
					line += fmt.Sprintf(": the %s this device holds", msgs[s.S].Event.Ilk())
				} else {
					line += ": not held here"
				}
			}
			c.printf("%s\n", line)
		}
		for _, a := range v.AnchorsOf(prefix, ev.Sn(), ev.SAID()) {
			c.printf("  anchored by %s sn %d (%s)\n", d.groupName(a.Prefix), a.Sn, a.SAID)
		}
	}
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
