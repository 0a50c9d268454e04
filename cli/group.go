package cli

import (
	"io"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/device"
)

const groupUsage = `usage: keremony group incept --group ALIAS (--card FILE | --member ALIAS)... [--witness OOBI]... [flags] [--out FILE]
       keremony group list

incept proposes a new group identifier (an icp; a dip with --delegator) and opens its
ceremony on this device. Members are taken in command-line order: --card FILE reads another
device's member card, --member ALIAS this device's own member. Write the proposal to --out
(default standard output) and send it to every member; each runs keremony sign.

incept flags:
  --group ALIAS     the group's alias on this device (and the suggested alias for the others)
  --card FILE       a member card (keremony member card); repeat, in roster order
  --member ALIAS    this device's member, at this position in the roster; it joins through
                    its seat in no group yet, or a fresh seat (a key pair serves one group)
  --kt T            signing threshold: an integer or weighted clauses such as
                    '["1/2","1/4","1/4"]' or 1/2,1/4,1/4 (default: a majority,
                    n/2+1)
  --nt T            next (rotation) threshold (default: --kt)
  --config TRAIT    EO (establishment only) or DND (do not delegate); repeatable
  --delegator AID   make a delegated inception (dip) of this identifier (alias or prefix)
  --witness OOBI    a witness, by its OOBI URL (http://HOST:PORT/oobi/PREFIX/controller, with
                    ?name=NAME to name it); repeatable, in order. Each is resolved over the
                    network (its signed location) and its URL kept in this home
  --toad N          how many witness receipts every event needs (default: keripy's majority
                    of the witnesses: 1, 2, 3, 3, 4, 4, 5 for 1 to 7 witnesses)
  --out FILE        where to write the proposal
`

func runGroup(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	sub, args, code, ok := subcommand("group", groupUsage+commonFlagsUsage, args, stdout, stderr, "incept", "list")
	if !ok {
		return code
	}
	if sub == "incept" {
		return groupIncept(args, stdin, stdout, stderr)
	}
	return kelList(newCmd("group list", groupUsage, stdin, stdout, stderr), args)
}

func groupIncept(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := newCmd("group incept", groupUsage, stdin, stdout, stderr)
	c.expiresFlag()
	var members [][2]string
	c.fs.Var(orderedFlag{"card", &members}, "card", "member card file")
	c.fs.Var(orderedFlag{"member", &members}, "member", "this device's member")
	alias := c.fs.String("group", "", "group alias")
	kt := c.fs.String("kt", "", "signing threshold")
	nt := c.fs.String("nt", "", "next threshold")
	var config stringList
	c.fs.Var(&config, "config", "configuration trait")
	delegator := c.fs.String("delegator", "", "delegator")
	var witnesses stringList
	c.fs.Var(&witnesses, "witness", "witness oobi")
	toad := c.fs.Uint64("toad", 0, "witness threshold")
	out := c.fs.String("out", "", "output file")
	pos, code, ok := c.parse(args)
	if !ok {
		return code
	}
	c.resultOnStdout(*out, true)
	switch {
	case len(pos) != 0:
		return c.usageErr("unexpected arguments %q", pos)
	case *alias == "":
		return c.usageErr("--group ALIAS is required")
	case device.CheckAlias(*alias) != nil:
		return c.usageErr("--group: %v", device.CheckAlias(*alias))
	case len(members) == 0:
		return c.usageErr("no members: give --card FILE or --member ALIAS for each")
	}
	ktT, ntT, err := thresholdFlags(*kt, *nt)
	if err != nil {
		return c.fail(err)
	}
	d, err := c.open()
	if err != nil {
		return c.fail(err)
	}
	defer d.Close()
	req := device.Inception{Alias: *alias, Kt: ktT, Nt: ntT, Config: config, Delegator: *delegator, Expires: c.expiry(),
		Witnesses: witnesses, Toad: *toad}
	for _, m := range members {
		var card ceremony.Card
		switch m[0] {
		case "card":
			card, err = device.ReadCard(m[1])
		case "member":
			var note string
			card, note, err = d.MemberCard(m[1], *alias)
			if note != "" {
				c.printf("%s\n", note)
			}
			if err == nil && req.From == "" {
				req.From = card.Label
			}
		}
		if err != nil {
			return c.fail(err)
		}
		req.Members = append(req.Members, card)
	}
	p, err := d.ProposeInception(req)
	if err != nil {
		return c.fail(err)
	}
	cer := p.Ceremony
	ev := cer.Event()
	pr := cer.Proposal().Inception
	c.printf("proposed the inception of group %s\n", *alias)
	c.printf("  identifier  %s\n", ev.Prefix())
	c.printf("  ceremony    %s\n", cer.ID())
	c.printf("  event       %s, fingerprint %s\n", device.EventLine(ev), ceremony.Fingerprint(ev.SAID()))
	c.printf("  kt %s, nt %s, %d members: %s\n", pr.Kt, pr.Nt, len(req.Members), device.RosterLabels(cer.Roster()))
	if ws := ev.Witnesses(); len(ws) > 0 {
		c.printf("  witnesses %s\n", d.WitnessesText(ws, ev.Bt()))
	}
	c.printf("next: every member runs keremony sign PROPOSAL --member ALIAS and sends the signature back\n")
	if len(ev.Witnesses()) > 0 {
		c.printf("once finalized: keremony publish %s sends the event to the witnesses\n", *alias)
	}
	if err := c.writeOutput(*out, p.Packet.Marshal(), "the proposal"); err != nil {
		return c.fail(err)
	}
	return 0
}
