package cli

import (
	"io"

	"github.com/keremony/keremony/device"
)

const abortUsage = `usage: keremony abort CEREMONY --reason TEXT [--member M] [--out FILE]
       keremony abort --record FILE

The first form closes an open ceremony of this device for good (it stays on record with its
transcript) and writes an abort record, signed by member M of this device, for the other
devices (--out). The second form applies another device's abort record: its signer must be a
member of the ceremony. Prepared rotations are kept: the same contributions can be proposed
again (keremony rotate cancel discards one).
`

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
	defer d.Close()
	if *record != "" {
		err = applyAbort(c, d, *record)
	} else {
		err = abort(c, d, pos[0], *reason, *member, *out)
	}
	if err != nil {
		return c.fail(err)
	}
	return 0
}

func abort(c *cmd, d *device.Device, target, reason, member, out string) error {
	if err := device.CheckReason(reason); err != nil {
		return err
	}
	cer, err := d.ResolveCeremony(target, c.stdin)
	if err != nil {
		return err
	}
	rec, err := d.Abort(cer, reason, member, out != "")
	if err != nil {
		return err
	}
	c.printf("aborted ceremony %s (%s): %s\n", cer.ID(), device.EventLine(cer.Event()), reason)
	if out != "" {
		return c.writeOutput(out, rec.Marshal(), "the abort record")
	}
	if rec != nil {
		c.note("no abort record written (use --out FILE to tell the other devices)")
	}
	return nil
}

func applyAbort(c *cmd, d *device.Device, path string) error {
	a, err := d.ApplyAbortFile(path, c.stdin)
	if err != nil {
		return err
	}
	r := a.Record
	if a.Ceremony == nil {
		c.printf("this device has no ceremony %s (%s sn %d of %s): nothing to abort\n", r.Ceremony, r.SAID, r.Sn, d.GroupName(r.AID))
		return nil
	}
	c.printf("aborted ceremony %s (%s) as %s asked: %s\n", a.Ceremony.ID(), device.EventLine(a.Ceremony.Event()), r.By, r.Reason)
	return nil
}
