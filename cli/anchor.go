package cli

import (
	"io"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/device"
)

const anchorUsage = `usage: keremony anchor --group G (--seal-event AID[:SN[:SAID]] | --seal-file FILE)... [--out FILE]

Proposes an interaction event (ixn) of group G that anchors seals, and opens its ceremony on
this device: --seal-event anchors an event of another identifier (AID is a prefix or a local
alias; SN and SAID default to that identifier's latest event on this device), --seal-file
commits to a document by its Blake3-256 digest. Seals are anchored in command-line order.
The proposal carries the group's KEL and the KELs of anchored identifiers this device holds.

  --member M     the member of this device that signs the proposal (default: the first one
                 holding a current key of the group: only those may propose)
`

func runAnchor(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := newCmd("anchor", anchorUsage, stdin, stdout, stderr)
	c.expiresFlag()
	group := c.fs.String("group", "", "group alias or prefix")
	member := c.fs.String("member", "", "this device's member that proposes (signs the proposal)")
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
	defer d.Close()
	p, err := d.ProposeAnchoring(device.Anchoring{Group: *group, SealArgs: seals, From: *member, Expires: c.expiry()})
	if err != nil {
		return c.fail(err)
	}
	cer := p.Ceremony
	ev := cer.Event()
	c.printf("proposed an anchoring in %s\n", d.GroupName(ev.Prefix()))
	c.printf("  ceremony  %s\n", cer.ID())
	c.printf("  event     %s, fingerprint %s\n", device.EventLine(ev), ceremony.Fingerprint(ev.SAID()))
	for _, s := range ev.Seals() {
		c.printf("  seal      %s\n", s)
	}
	c.printf("  kt %s over the %d current keys\n", p.Prior.Kt, len(p.Prior.Keys))
	c.printf("next: the members that sign run keremony sign PROPOSAL --member ALIAS\n")
	if err := c.writeOutput(*out, p.Packet.Marshal(), "the proposal"); err != nil {
		return c.fail(err)
	}
	return 0
}
