package cli

import (
	"errors"
	"io"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/device"
)

const finalizeUsage = `usage: keremony finalize CEREMONY [--out FILE]

Once the thresholds are met, joins the collected signatures into the fully signed event,
accepts it into this device's KEL (through authenticated replay) and writes it as a CESR
stream to FILE (default standard output) for the other devices (keremony kel import FILE).
Exit status 1, with the progress, when the thresholds are not met.
`

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
	defer d.Close()
	cer, err := d.ResolveCeremony(pos[0], stdin)
	if err != nil {
		return c.fail(err)
	}
	if err := finalize(c, d, cer, *out); err != nil {
		return c.fail(err)
	}
	return 0
}

func finalize(c *cmd, d *device.Device, cer *ceremony.Ceremony, out string) error {
	f, err := d.Finalize(cer)
	if err != nil {
		if errors.Is(err, ceremony.ErrNotReady) || errors.Is(err, ceremony.ErrDelegationPending) {
			printStatus(c, d, cer, false)
		}
		return err
	}
	if !f.Fresh {
		c.note("ceremony %s was already finalized; writing its event again", cer.ID())
	} else {
		c.printf("finalized %s with %d signatures; it is in this device's kel\n", device.EventLine(cer.Event()), len(cer.Signatures()))
	}
	if err := c.writeOutput(out, f.Message, "the finalized event"); err != nil || !f.Fresh {
		return err
	}
	if c.lines(f.Notices) {
		return errRotations
	}
	c.printf("next: send the event to the other devices (keremony kel import FILE)\n")
	return nil
}
