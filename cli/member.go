package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/keremony/keremony/device"
	"github.com/keremony/keremony/internal/safetext"
	"github.com/keremony/keremony/kel"
)

const memberUsage = `usage: keremony member new ALIAS            create member ALIAS: a current and a pre-rotated next key
       keremony member list                 list this device's members and their seats
       keremony member card ALIAS [--for GROUP] [--out FILE]
                                            write ALIAS's public card for a new group, signed with
                                            its current key
       keremony member check                prove every seat's keys are in the keystore and fit
                                            its group's kel (recovery drill)

A member sits in each group through a seat: a key pair of its own, which serves that group
only. A card is for a new group: it shows the member's seat in no group yet, or a fresh seat
made for it (--for names the group, so that each new group gets a seat of its own).

flags (any subcommand, before or after its arguments):
  --home DIR        data directory (env KEREMONY_HOME; default: the user config dir + /keremony)
  --keystore MODE   auto, keyring or file (env KEREMONY_KEYSTORE; default auto: the OS keyring
                    when it answers, else a passphrase-protected file in the data directory)

environment:
  KEREMONY_PASSPHRASE  passphrase of the file keystore, instead of asking on the terminal. Less
                       safe: the environment is visible to the user's other processes and tends
                       to end up in shell history and CI logs.
`

// runMember manages this device's member keys: exit 0 on success, 1 on
// failure (or members that are not ready), 2 on usage errors.
func runMember(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	sub, args, code, ok := subcommand("member", memberUsage, args, stdout, stderr, "new", "list", "card", "check")
	if !ok {
		return code
	}
	c := newCmd("member "+sub, memberUsage, stdin, stdout, stderr)
	c.fs.Usage = func() { fmt.Fprint(stderr, memberUsage) }
	out, forGroup := "", ""
	if sub == "card" {
		c.fs.StringVar(&out, "out", "", "write the card to FILE instead of standard output")
		c.fs.StringVar(&forGroup, "for", "", "the new group the card is for")
	}
	pos, err := parseInterleaved(c.fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return 2
	}
	want := map[string]int{"new": 1, "list": 0, "card": 1, "check": 0}[sub]
	if len(pos) != want {
		safetext.Fprintf(stderr, "keremony member %s: want %d argument(s), got %d\n", sub, want, len(pos))
		fmt.Fprint(stderr, memberUsage)
		return 2
	}
	fail := func(err error) int {
		safetext.Fprintf(stderr, "keremony member %s: %v\n", sub, err)
		switch {
		case errors.Is(err, device.ErrKeyringUnavailable):
			fmt.Fprintln(stderr, "keremony: hint: without a working OS keyring, use --keystore=file (a passphrase-protected file)")
		case errors.Is(err, device.ErrNoPassphrase):
			fmt.Fprintln(stderr, "keremony: hint: run in a terminal, or set KEREMONY_PASSPHRASE (less safe)")
		case errors.Is(err, device.ErrBusy):
			fmt.Fprintln(stderr, "keremony: hint: another keremony command is changing this home; wait for it to finish")
		}
		return 1
	}
	d, err := c.openWith(sub != "check")
	if sub == "check" && errors.Is(err, device.ErrStoreBusy) {
		// The TUI holds the ceremony store: check the keys alone.
		d, err = c.openWith(true)
	}
	if errors.Is(err, device.ErrRequest) {
		safetext.Fprintf(stderr, "keremony member %s: %s\n", sub, strings.TrimPrefix(err.Error(), device.ErrRequest.Error()+": "))
		return 2
	}
	if err != nil {
		return fail(err)
	}
	defer d.Close()

	switch sub {
	case "new":
		err = memberNew(d, pos[0], stdout)
	case "list":
		err = memberList(d, stdout)
	case "card":
		err = memberCard(c, d, pos[0], forGroup, out)
	case "check":
		var ready bool
		if ready, err = memberCheck(d, stdout); err == nil && !ready {
			return 1
		}
	}
	if err != nil {
		return fail(err)
	}
	return 0
}

func memberNew(d *device.Device, alias string, stdout io.Writer) error {
	m, err := d.CreateMember(alias)
	if err != nil {
		return err
	}
	ks := m.Seats[0]
	safetext.Fprintf(stdout, "created member %q, keys in %s\nkey   %s\nnext  %s\n",
		m.Alias, d.KeystoreName(), kel.EncodeVerKey(ks.PublicKey), ks.NextDigest)
	return nil
}

// memberList lists one line per seat: the member, the group it serves
// ("-" for a seat in no group yet, "for X" for one made for group X), its
// keys and whether a rotation is prepared.
func memberList(d *device.Device, stdout io.Writer) error {
	ms, err := d.Members()
	if err != nil {
		return err
	}
	if len(ms) == 0 {
		safetext.Fprintf(stdout, "no members in %s\n", d.Home())
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ALIAS\tGROUP\tKEY\tNEXT\tSTATE")
	for _, m := range ms {
		for _, ks := range m.Seats {
			group := "-"
			switch {
			case ks.Group != "":
				group = firstNonEmpty(d.AliasOf(ks.Group), ks.Group)
			case ks.For != "":
				group = "for " + ks.For
			}
			var state []string
			if ks.PendingNextDigest != "" {
				state = append(state, "rotation prepared")
			}
			if len(ks.SharesWith) > 0 {
				state = append(state, "shares keys (made before seats)")
			}
			if ks.Legacy {
				state = append(state, "made before seats (settled when a ceremony command or the TUI opens the home)")
			}
			if len(state) == 0 {
				state = []string{"-"}
			}
			safetext.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m.Alias, group, kel.EncodeVerKey(ks.PublicKey), ks.NextDigest, strings.Join(state, ", "))
		}
	}
	return tw.Flush()
}

func memberCard(c *cmd, d *device.Device, alias, forGroup, out string) error {
	card, ks, note, err := d.CardPacket(alias, forGroup)
	if err != nil {
		return err
	}
	if note != "" {
		safetext.Fprintf(c.stderr, "keremony member card: %s\n", note)
	}
	what := fmt.Sprintf("the card of member %q", alias)
	if ks.For != "" {
		what += " for " + ks.For
	}
	if out == "" {
		_, err = c.stdout.Write(card.Marshal())
		return err
	}
	if err := device.WriteFile(out, card.Marshal()); err != nil {
		return err
	}
	safetext.Fprintf(c.stderr, "wrote %s to %s\n", what, out)
	return nil
}

// memberCheck runs the recovery drill; ready is false when any seat (or
// the journal) is not ready, or there is no member at all.
func memberCheck(d *device.Device, stdout io.Writer) (ready bool, err error) {
	chk, err := d.CheckMembers()
	if err != nil {
		return false, err
	}
	if len(chk.Seats) == 0 {
		safetext.Fprintf(stdout, "no members in %s: nothing to sign with\n", d.Home())
		return false, nil
	}
	for _, l := range chk.Lines() {
		safetext.Fprintf(stdout, "%s\n", l)
	}
	return chk.Ready(), nil
}
