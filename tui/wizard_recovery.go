package tui

// The rotation wizard's recovery: when the group's latest events are
// interactions, R makes the rotation a recovery that supersedes them.

import (
	"fmt"
	"slices"
	"strings"

	"github.com/keremony/keremony/kel"
)

// cycleRecovery steps the recovery choice: off, then from each
// interaction a recovery may supersede, then off again.
func (w *rotationWizard) cycleRecovery() {
	g, ok := w.group()
	if !ok || len(g.Recoverable) == 0 {
		w.supersede = 0
		return
	}
	i := slices.IndexFunc(g.Recoverable, func(e kel.EventRef) bool { return e.Sn == w.supersede })
	if i+1 < len(g.Recoverable) {
		w.supersede = g.Recoverable[i+1].Sn
	} else {
		w.supersede = 0
	}
}

// superseded lists the events the recovery supersedes.
func (w *rotationWizard) superseded(g GroupInfo) []kel.EventRef {
	if w.supersede == 0 {
		return nil
	}
	var out []kel.EventRef
	for _, e := range g.Recoverable {
		if e.Sn >= w.supersede {
			out = append(out, e)
		}
	}
	return out
}

// recoveryLines say whether the rotation recovers, and what it supersedes
// (with how to change it on the members step).
func (w *rotationWizard) recoveryLines(g GroupInfo, width int) []string {
	st := w.c.styles
	if len(g.Recoverable) == 0 {
		return nil
	}
	sup := w.superseded(g)
	if len(sup) == 0 {
		first, last := g.Recoverable[0].Sn, g.Recoverable[len(g.Recoverable)-1].Sn
		span := fmt.Sprintf("sn %d", first)
		if last != first {
			span = fmt.Sprintf("sn %d to %d", first, last)
		}
		return wizWrap(st.Subtle.Render(fmt.Sprintf("The latest events of %s are interactions (%s). If a compromised key signed them, R makes this a RECOVERY rotation that supersedes them.", g.Name(), span)), width, "  ")
	}
	var names []string
	for _, e := range sup {
		names = append(names, fmt.Sprintf("%s sn %d %s", e.Ilk, e.Sn, shortID(e.SAID)))
	}
	text := fmt.Sprintf("RECOVERY at sn %d: supersedes %s; they stay on record as superseded", w.supersede, strings.Join(names, ", "))
	if w.step == rotMembers {
		text += " (R: change)"
	}
	return wizWrap(st.Warn.Render("! ")+text, width, "  ")
}
