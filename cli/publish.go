package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/keremony/keremony/device"
)

const publishUsage = `usage: keremony publish GROUP [--sn N] [--witness OOBI]... [--out FILE]

Sends the group's finalized events to their witnesses over the network and keeps their
receipts: every event that lacks the receipt of one of its witnesses (or only event N), fully
signed, to each witness of the key state that governs it (POST /receipts). Each receipt is
checked (it names the event, its witness is in the event's witness list, its signature covers
the event's bytes) before it is stored; then each witness gets the others' receipts. A witness
added by a rotation is first sent the group's earlier events. A witness that is down, slow or
answers garbage is retried a few times with back-off, then reported with the reason; nothing
stored changes for it. The signing ceremony itself never needs the network: only the device
that publishes does.

  --sn N          publish only event N
  --witness OOBI  a witness's OOBI (http://HOST:PORT/oobi/PREFIX/controller[?name=NAME]), for a
                  witness whose URL this device does not know yet; repeatable
  --out FILE      write the published events with their receipts, for the other devices
                  (keremony kel import FILE keeps the receipts)

Exit status 0 only when every published event holds its witness threshold (toad) of receipts.
`

func runPublish(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := newCmd("publish", publishUsage, stdin, stdout, stderr)
	sn := c.fs.String("sn", "", "publish only this event")
	var oobis stringList
	c.fs.Var(&oobis, "witness", "witness oobi")
	out := c.fs.String("out", "", "output file")
	pos, code, ok := c.parse(args)
	if !ok {
		return code
	}
	c.resultOnStdout(*out, false)
	if len(pos) != 1 {
		return c.usageErr("want one GROUP")
	}
	req := device.Publish{Group: pos[0], Witnesses: oobis}
	if *sn != "" {
		n, err := strconv.ParseUint(*sn, 10, 64)
		if err != nil {
			return c.usageErr("--sn %q is not a sequence number", *sn)
		}
		req.Sn = &n
	}
	d, err := c.open()
	if err != nil {
		return c.fail(err)
	}
	defer d.Close()
	p, err := d.Publish(context.Background(), req)
	if err != nil {
		return c.fail(err)
	}
	if err := printPublished(c, d, p, *out); err != nil {
		return c.fail(err)
	}
	return 0
}

var errNotWitnessed = errors.New("not every published event holds its toad of receipts")

// printPublished says what each witness did for each event.
func printPublished(c *cmd, d *device.Device, p *device.Published, out string) error {
	if len(p.Events) == 0 {
		c.printf("%s: every event holds a receipt from each of its witnesses; nothing to publish\n", d.GroupName(p.Prefix))
		return nil
	}
	c.printf("published %s to its witnesses\n", d.GroupName(p.Prefix))
	var short []string
	for _, e := range p.Events {
		c.printf("sn %d %s %s\n", e.Sn, e.Ilk, e.SAID)
		for _, o := range e.Outcomes {
			line := o.State
			if o.Err != nil {
				line += ": " + o.Err.Error()
			}
			if o.Warning != "" {
				line += " (warning: " + o.Warning + ")"
			}
			c.printf("  %-8s %s\n", o.Name, line)
		}
		c.printf("  %s\n", e.Witnessing.Line)
		if !e.Witnessing.Complete {
			short = append(short, fmt.Sprintf("sn %d holds %d of toad %d", e.Sn, e.Witnessing.Held, e.Witnessing.Toad))
		}
	}
	c.notes(p.Notices)
	if out != "" {
		if err := c.writeOutput(out, p.Packet.Data, "the receipts"); err != nil {
			return err
		}
	}
	if !p.Complete {
		return fmt.Errorf("%w: %v; run keremony publish again once the witnesses answer", errNotWitnessed, short)
	}
	c.printf("every published event holds its toad of receipts\n")
	return nil
}
