package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/device"
	"github.com/keremony/keremony/kel"
)

const rotateUsage = `usage: keremony rotate contribute --group G [--member M] [--out FILE]
       keremony rotate propose --group G CONTRIBUTION... [--add-next CARD]... [--reserve LABEL[=DIGEST]]...
                               [--drop LABEL[=DIGEST]]... [--kt T] [--nt T] [--recover [--at SN]]
                               [--witness-add OOBI]... [--witness-cut NAME]... [--toad N] [--out FILE]
       keremony rotate cancel --member M [--group G]

A rotation has two rounds. Round one: every member that rotates runs 'rotate contribute',
which prepares its rotation (reveals its pre-rotated next key and makes a fresh next key; the
member keeps signing with its current key until the rotation is final) and writes a signed
contribution for the proposer. Round two: the proposer runs 'rotate propose' with the
contributions, which builds the rot event and opens its ceremony; then every member signs it
(keremony sign). When the rotation is final on a device (keremony finalize, or kel import of
the finalized event), the device commits the rotation of its members: the revealed key becomes
current and the old one is destroyed (once no identifier held on the device lists it). Only the
group's own kel moves the keys of a member's seat in it. 'rotate cancel' discards a prepared
rotation (--group G when the member prepared rotations in several groups).

propose flags:
  --add-next CARD   a new member joins through the next commitment only (its card's next
                    digest goes into n); it can sign from the following rotation on
  --reserve LABEL   keep LABEL's committed digest in n unexposed (partial rotation);
                    LABEL=DIGEST names the digest when this device does not know it
  --drop LABEL      remove LABEL (its committed digest is neither revealed nor carried)
  --kt T, --nt T    thresholds of the new key and next lists (default: the current ones)
  --witness-add OOBI  add a witness, by its OOBI URL (resolved over the network); repeatable
  --witness-cut NAME  remove a witness, by its name on this device or its prefix; repeatable
  --toad N          the witness threshold after the rotation (default: the current one, or
                    keripy's majority of the new witness list when witnesses change)
  --recover         a recovery rotation: when the group's latest events are interactions (for
                    instance signed by a compromised key), the rotation takes the sn of the first
                    of them and supersedes them all; they stay on record as superseded. Members
                    contribute as for any rotation (the revealed next keys sign). A delegated
                    group may supersede only its latest interaction, and its delegator must
                    anchor the rotation.
  --at SN           with --recover: supersede from sn SN on (default: the first interaction after
                    the last establishment event)
  --member M        the member of this device that signs the proposal (default: the first
                    one holding a current key of the group, or revealing one: only those may
                    propose)
`

func runRotate(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	sub, args, code, ok := subcommand("rotate", rotateUsage+commonFlagsUsage, args, stdout, stderr, "contribute", "propose", "cancel")
	if !ok {
		return code
	}
	c := newCmd("rotate "+sub, rotateUsage, stdin, stdout, stderr)
	if sub == "propose" {
		c.expiresFlag()
	}
	group := c.fs.String("group", "", "group alias or prefix")
	member := c.fs.String("member", "", "this device's member")
	out := c.fs.String("out", "", "output file")
	var extra [][2]string
	var kt, nt *string
	var wAdd, wCut stringList
	toad := ""
	var recover *bool
	var at *uint64
	if sub == "propose" {
		c.fs.Var(orderedFlag{"add-next", &extra}, "add-next", "card of a member joining through the next commitment")
		c.fs.Var(orderedFlag{"reserve", &extra}, "reserve", "member kept in reserve")
		c.fs.Var(orderedFlag{"drop", &extra}, "drop", "member dropped")
		kt = c.fs.String("kt", "", "signing threshold")
		nt = c.fs.String("nt", "", "next threshold")
		c.fs.Var(&wAdd, "witness-add", "witness oobi to add")
		c.fs.Var(&wCut, "witness-cut", "witness to remove")
		c.fs.StringVar(&toad, "toad", "", "witness threshold")
		recover = c.fs.Bool("recover", false, "a recovery rotation superseding the latest interactions")
		at = c.fs.Uint64("at", 0, "with --recover: the first sn to supersede")
	}
	pos, code, ok := c.parse(args)
	if !ok {
		return code
	}
	c.resultOnStdout(*out, sub != "cancel")
	switch {
	case sub != "propose" && len(pos) != 0:
		return c.usageErr("unexpected arguments %q", pos)
	case sub != "cancel" && *group == "":
		return c.usageErr("--group G is required")
	case sub == "cancel" && *member == "":
		return c.usageErr("--member M is required")
	case sub == "propose" && len(pos) == 0 && len(extra) == 0:
		return c.usageErr("no contributions given")
	}
	d, err := c.open()
	if err != nil {
		return c.fail(err)
	}
	defer d.Close()
	switch sub {
	case "contribute":
		err = rotateContribute(c, d, *group, *member, *out)
	case "propose":
		req := device.Rotation{Group: *group, Files: pos, Extra: extra, From: *member, Expires: c.expiry(), WitnessAdd: wAdd, WitnessCut: wCut,
			Recover: *recover, At: *at}
		if toad != "" {
			n, perr := strconv.ParseUint(toad, 10, 64)
			if perr != nil {
				return c.usageErr("--toad %q is not a number", toad)
			}
			req.Toad = &n
		}
		err = rotatePropose(c, d, req, *kt, *nt, *out)
	case "cancel":
		if _, err = d.CancelRotation(*member, *group); err == nil {
			c.printf("member %s: prepared rotation discarded; it keeps its current and next keys\n", *member)
		}
	}
	if err != nil {
		return c.fail(err)
	}
	return 0
}

func rotateContribute(c *cmd, d *device.Device, group, member, out string) error {
	t, err := d.Contribute(group, member)
	if err != nil {
		return err
	}
	who := t.Alias
	if t.Label != t.Alias {
		who = fmt.Sprintf("%s (%s in the group)", t.Alias, t.Label)
	}
	c.printf("member %s prepared its rotation in %s: reveals the key committed at n[%d], commits a fresh next key\n",
		who, d.GroupName(t.Prefix), t.Ondex)
	c.printf("  revealed key  %s\n  new next      %s\n", t.Packet.Key, t.Packet.Next)
	c.printf("it signs with its current key until the rotation is final; send the contribution to the proposer\n")
	return c.writeOutput(out, t.Packet.Marshal(), "the contribution")
}

func rotatePropose(c *cmd, d *device.Device, req device.Rotation, kt, nt, out string) error {
	var err error
	if req.Kt, req.Nt, err = thresholdFlags(kt, nt); err != nil {
		return err
	}
	p, err := d.ProposeRotation(req)
	if err != nil {
		return err
	}
	c.notes(p.Notices)
	cer := p.Ceremony
	ev := cer.Event()
	c.printf("proposed a rotation of %s\n", d.GroupName(ev.Prefix()))
	c.printf("  ceremony  %s\n", cer.ID())
	c.printf("  event     %s, fingerprint %s\n", device.EventLine(ev), ceremony.Fingerprint(ev.SAID()))
	if req.Recover {
		_, events := d.Recoverable(ev.Prefix())
		var sup []string
		for _, e := range events {
			if e.Sn >= ev.Sn() {
				sup = append(sup, fmt.Sprintf("%s sn %d %s", e.Ilk, e.Sn, e.SAID))
			}
		}
		c.printf("  RECOVERY  supersedes %s\n", strings.Join(sup, ", "))
	}
	c.printf("  kt %s over %d keys, nt %s over %d next digests; prior nt %s\n", ev.Kt(), len(ev.Keys()), ev.Nt(), len(ev.Next()), p.Prior.Nt)
	for _, m := range cer.Roster() {
		c.printf("  %s: %s\n", m.Label, m.Role)
	}
	if len(ev.Cuts()) > 0 || len(ev.Adds()) > 0 || ev.Bt() != p.Prior.Bt {
		wits, _ := kel.RotateWitnesses(p.Prior.Witnesses, ev.Cuts(), ev.Adds())
		c.printf("  witnesses %s -> %s\n", d.WitnessesText(p.Prior.Witnesses, p.Prior.Bt), d.WitnessesText(wits, ev.Bt()))
	}
	c.printf("next: the members that sign run keremony sign PROPOSAL --member ALIAS\n")
	return c.writeOutput(out, p.Packet.Marshal(), "the proposal")
}
