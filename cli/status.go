package cli

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/device"
	"github.com/keremony/keremony/internal/safetext"
	"github.com/keremony/keremony/kel"
)

const statusUsage = `usage: keremony status [CEREMONY | GROUP | PROPOSAL] [--log]

Without an argument, lists this device's ceremonies. With one, shows its live progress: one
line per member, the signing threshold (per-clause sums for weighted thresholds) and, for a
rotation, the prior next threshold its revealed keys must also meet. --log adds the transcript.
`

func runStatus(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := newCmd("status", statusUsage, stdin, stdout, stderr)
	showLog := c.fs.Bool("log", false, "show the transcript")
	pos, code, ok := c.parse(args)
	if !ok {
		return code
	}
	if len(pos) > 1 {
		return c.usageErr("want at most one CEREMONY")
	}
	d, err := c.open()
	if err != nil {
		return c.fail(err)
	}
	defer d.Close()
	if len(pos) == 0 {
		listCeremonies(c, d)
		return 0
	}
	cer, err := d.ResolveCeremony(pos[0], stdin)
	if err != nil {
		return c.fail(err)
	}
	printStatus(c, d, cer, *showLog)
	return 0
}

func listCeremonies(c *cmd, d *device.Device) {
	all := d.Ceremonies()
	if len(all) == 0 {
		c.printf("no ceremonies in %s\n", d.Home())
		return
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CEREMONY\tKIND\tGROUP\tEVENT\tSTATE\tSIGNATURES\tCREATED")
	for _, cer := range all {
		ev := cer.Event()
		group := d.AliasOf(ev.Prefix())
		if group == "" {
			group = ev.Prefix()[:12] + "…"
		}
		pr := cer.Progress()
		state := string(cer.State())
		if pr.Met && cer.State().Open() {
			state += " (ready)"
		}
		signed := len(pr.Signed)
		if final := cer.Finalized(); final != nil {
			if msgs, err := kel.ParseStream(final); err == nil && len(msgs) == 1 {
				signed = len(msgs[0].Sigs)
			}
		}
		safetext.Fprintf(tw, "%s\t%s\t%s\t%s sn %d\t%s\t%d of %d keys\t%s\n", cer.ID(), cer.Kind(), group, ev.Ilk(), ev.Sn(), state,
			signed, len(cer.SigningKeys()), cer.Created().Local().Format(time.DateTime))
	}
	tw.Flush()
}

// printStatus shows a ceremony's live progress.
func printStatus(c *cmd, d *device.Device, cer *ceremony.Ceremony, showLog bool) {
	ev := cer.Event()
	pr := cer.Progress()
	roster := cer.Roster()
	c.printf("ceremony %s: %s of %s\n", cer.ID(), cer.Kind(), d.GroupName(ev.Prefix()))
	c.printf("event:       %s\n", device.EventLine(ev))
	c.printf("fingerprint: %s\n", ceremony.Fingerprint(ev.SAID()))
	state := string(cer.State())
	if r := cer.AbortReason(); r != "" {
		state += ": " + r
	}
	c.printf("state:       %s (created %s)\n", state, cer.Created().Local().Format(time.DateTime))
	c.printf("members:\n")
	for _, s := range pr.Slots {
		pos := "-"
		if s.Index >= 0 {
			pos = fmt.Sprintf("k[%d]", s.Index)
		}
		line := string(s.Status)
		switch s.Status {
		case ceremony.SlotSigned:
			line += " (" + s.Code
			if pr.Rotation {
				if s.Exposes {
					line += fmt.Sprintf(", reveals its key committed at prior n[%d]", s.Ondex)
				} else {
					line += ", counts toward kt only"
				}
			}
			line += ")"
		case ceremony.SlotInvalid:
			line += ": the last signature delivered was refused: " + s.Why
		case ceremony.SlotNotSigning:
			line += " (" + string(s.Role) + ")"
		}
		c.printf("  %-14s %-6s %s\n", s.Label, pos, line)
	}
	keyLabels := roster.KeyLabels(len(cer.SigningKeys()))
	c.printf("signing threshold kt %s (%s): %s\n", pr.KtThreshold, pr.KtText, satisfactionText(pr.Kt, keyLabels, pr.Signed, "signed"))
	for _, l := range clauseLines(pr.Kt, keyLabels) {
		c.printf("  %s\n", l)
	}
	if pr.Rotation {
		priorLabels := device.PriorLabels(roster, pr.Exposed)
		c.printf("prior next threshold nt %s (%s): %s\n", pr.PriorNtThreshold, pr.PriorNtText, satisfactionText(pr.PriorNt, priorLabels, pr.Exposed, "revealed"))
		for _, l := range clauseLines(pr.PriorNt, priorLabels) {
			c.printf("  %s\n", l)
		}
	}
	if w, ok := d.Witnessing(ev.Prefix(), ev.Sn()); ok && cer.State() == ceremony.StateFinalized {
		c.printf("%s\n", w.Line)
	}
	switch {
	case cer.State() == ceremony.StateFinalized:
		c.printf("finalized: the event is in this device's kel\n")
	case !cer.State().Open():
		c.printf("closed: %s\n", cer.State())
	case pr.Met:
		c.printf("ready: keremony finalize %s --out EVENT\n", cer.ID())
	default:
		c.printf("not ready: %s\n", pr.Missing)
	}
	if showLog {
		c.printf("transcript:\n")
		for _, e := range cer.Transcript() {
			c.printf("  %s\n", e)
		}
	}
}

// satisfactionText says how far the counted positions go toward a
// threshold.
func satisfactionText(s kel.Satisfaction, labels []string, idx []int, verb string) string {
	met := "not met"
	if s.Met {
		met = "met"
	}
	if len(s.Clauses) > 0 {
		return fmt.Sprintf("%s by %s: %s", verb, namesOf(labels, idx), met)
	}
	return fmt.Sprintf("%d %s, %d needed (%s): %s", s.Have, verb, s.Need, namesOf(labels, idx), met)
}

// clauseLines shows each weighted clause's sum.
func clauseLines(s kel.Satisfaction, labels []string) []string {
	var out []string
	for i, cl := range s.Clauses {
		met := "not met"
		if cl.Met {
			met = "met"
		}
		out = append(out, fmt.Sprintf("clause %d over %s: sum %s of 1 (%s): %s", i+1, namesOf(labels, cl.Leaves), cl.Sum.RatString(), namesOf(labels, cl.Counted), met))
	}
	return out
}

func namesOf(labels []string, idx []int) string {
	var out []string
	for _, i := range idx {
		if i >= 0 && i < len(labels) {
			out = append(out, labels[i])
		} else {
			out = append(out, fmt.Sprintf("#%d", i))
		}
	}
	if len(out) == 0 {
		return "nobody"
	}
	return strings.Join(out, ", ")
}
