package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/device"
	"github.com/keremony/keremony/internal/safetext"
)

const signUsage = `usage: keremony sign PROPOSAL [--member M] [--doc FILE]... [--group ALIAS] [--out FILE] [--yes]

Reviews the proposal (as keremony review), refuses it if the review fails, then records the
ceremony on this device and signs the event with member M's key (for a rotation: the next key
it reveals, which needs 'keremony rotate contribute' first). On a terminal it shows the review,
repeats the warnings that matter and asks 'sign? [y/N]' first; --yes signs without asking (for
scripts). The signature is journaled before it is made. --out writes the signature envelope to
send to whoever collects the signatures ('-' for standard output); the proposer's own
signature stays in its local ceremony.

  --member M     sign as this device's member M (default: the member that takes part)
  --doc FILE     a document a digest seal may commit to; repeatable
  --group ALIAS  this device's alias for the group (default: the proposal's)
  --out FILE     where to write the signature envelope
  --yes          sign without asking, even on a terminal
`

func runSign(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return reviewOrSign("sign", signUsage, args, stdin, stdout, stderr)
}

// errNotSigned: the user did not answer y to the question.
var errNotSigned = errors.New("not signed: the answer was not y")

// signOnTerminal reports whether sign asks before signing: its standard
// input is a terminal (a seam for tests).
var signOnTerminal = func(stdin io.Reader) bool {
	f, ok := stdin.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// confirmSign repeats the warnings that matter and the six words, and asks
// "sign? [y/N]" on standard error; only y or yes signs.
func confirmSign(c *cmd, r *device.Reviewed, stdin io.Reader) error {
	w := c.stderr
	for _, crit := range r.Critical {
		safetext.Fprintf(w, "WARNING: %s\n", crit)
	}
	who := r.Member
	if r.Review != nil && r.Review.Index >= 0 {
		who = fmt.Sprintf("%s at k[%d]", memberAs(r.Member, r.Review.Label), r.Review.Index)
	}
	safetext.Fprintf(w, "words: %s\n", strings.Join(ceremony.FingerprintWords(r.In.Event.SAID()), " "))
	safetext.Fprintf(w, "you sign as %s: only if every other member reads the same six words.\n", who)
	fmt.Fprint(w, "sign? [y/N] ")
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && line == "" {
		fmt.Fprintln(w)
		return errNotSigned
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return errNotSigned
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
