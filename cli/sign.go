package cli

import (
	"io"

	"github.com/keremony/keremony/device"
)

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

func runSign(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return reviewOrSign("sign", signUsage, args, stdin, stdout, stderr)
}

// sign signs a passed review and writes the signature envelope to out
// ("": it stays in this device's ceremony).
func sign(c *cmd, d *device.Device, r *device.Reviewed, alias, out string) error {
	s, err := d.Sign(r, alias, c.expiry())
	if err != nil {
		return err
	}
	c.notes(s.Notices)
	ev := r.In.Event
	c.printf("member %s signed %s at k[%d] (%s)\n", s.Member, device.EventLine(ev), s.Intake.Index, s.Intake.Sig.Code)
	if s.Ceremony.Progress().Met {
		c.printf("this device now holds enough signatures: keremony finalize %s --out EVENT\n", s.Ceremony.ID())
	}
	if out != "" {
		if err := c.writeOutput(out, s.Envelope.Marshal(), "the signature envelope"); err != nil {
			return err
		}
	} else {
		c.note("the signature is in this device's ceremony %s; use --out FILE to send it to another device", s.Ceremony.ID())
	}
	if c.lines(s.Rotations) {
		return errRotations
	}
	return nil
}
