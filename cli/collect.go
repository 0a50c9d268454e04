package cli

import (
	"io"
	"slices"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/device"
	"github.com/keremony/keremony/device/api"
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
	defer d.Close()
	var target *ceremony.Ceremony
	files := pos
	if device.SniffFile(pos[0]) != transport.PacketSignatures {
		files = pos[1:]
		if len(files) == 0 {
			return c.usageErr("want at least one signature envelope after %s", pos[0])
		}
		var ns []api.Notice
		if target, ns, err = d.CollectTarget(pos[0], stdin); err != nil {
			return c.fail(err)
		}
		for _, n := range ns {
			if n.Ceremony != "" {
				c.note("%s from %s", n.Text, pos[0])
			} else {
				c.note("%s", n.Text)
			}
		}
	}
	failed := 0
	var touched []*ceremony.Ceremony
	for _, f := range files {
		cer, intakes, err := d.CollectFile(target, f)
		for _, in := range intakes {
			c.printf("%s: %s at k[%d] (%s): %s\n", f, device.OrDash(in.Label), in.Index, in.Sig.Code, in.Outcome)
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
		printStatus(c, d, cer, false)
	}
	if failed > 0 {
		c.note("%d of %d files refused", failed, len(files))
		return 1
	}
	return 0
}
