package tui

import (
	"errors"
	"fmt"
	"strings"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/internal/safetext"
)

func (w *rotationWizard) View() string {
	st := w.c.styles
	width, height := w.c.width, w.c.bodyHeight()
	g, ok := w.group()
	if !ok {
		return wizBody([]string{st.Bad.Render("✗ ") + safetext.Sprintf("%v: %s", errNoGroup, w.prefix)}, nil, width, height)
	}
	main := []string{wizTrail(st, rotSteps, w.step, width)}
	var hints []string
	switch w.step {
	case rotMembers:
		main = append(main, wizWrap(safetext.Sprintf("%s now: sn %d, keys %s; signing %s; rotation %s.", g.Name(), g.State.Sn,
			strings.Join(labelsOf(g.Labels, len(g.State.Keys)), ", "), g.KtText, g.NtText), width, "  ")...)
		var tail []string
		if r, ok := w.rows.current(); ok {
			tail = append(tail, wizWrap(st.Subtle.Render(show(r.label)+": "+rotRoleWords[r.role][1]), width, "  ")...)
		}
		switch who, reading, err := w.priorNext(); {
		case err != nil:
			tail = append(tail, wizWrap(st.Bad.Render("✗ ")+show(err.Error()), width, "  ")...)
		default:
			tail = append(tail, wizWrap(st.Good.Render("✓ ")+safetext.Sprintf("the current rotation threshold (%s) is met by %s", reading, strings.Join(who, ", ")), width, "  ")...)
		}
		tail = append(tail, w.recoveryLines(g, width)...)
		if !errors.Is(w.err, errPriorNext) {
			tail = append(tail, w.errLines(st, width)...)
		}
		for _, r := range w.refused {
			tail = append(tail, wizWrap(st.Warn.Render("! ")+"contribution refused: "+r, width, "  ")...)
		}
		rows := w.rows.lines(st, width, max(height-len(main)-len(tail)-1, 2), true, w.row)
		main = append(append(append(main, rows...), ""), tail...)
		hints = wizWrap(st.Subtle.Render("Each member that rotates first sends a contribution (t on the group on the home screen); import them with i. A member without a contribution in the inbox cannot rotate: keep it in reserve or drop it."), width, "")
	case rotThresholds:
		keys, next := w.labels()
		main = append(main, st.Strong.Render("Signing threshold")+fmt.Sprintf(" (kt) of the %d new keys; now %s", len(keys), thresholdShort(g.State.Kt, len(g.State.Keys))))
		main = append(main, w.kt.lines(st, width)...)
		main = append(main, st.Strong.Render("Rotation threshold")+fmt.Sprintf(" (nt) of the %d next keys; now %s", len(next), thresholdShort(g.State.Nt, len(g.State.Next))))
		main = append(main, w.nt.lines(st, width)...)
		main = append(main, expiryLines(w.c, w.expires, width)...)
		if w.kt.err == nil && w.nt.err == nil {
			main = append(main, wizWrap("changes: "+w.changes(g), width, "  ")...)
		}
		main = append(main, w.errLines(st, width)...)
		hints = wizThresholdHints(st, width)
	case rotPropose:
		main, hints = w.summary(g, main, width, height)
	}
	return wizBody(main, hints, width, height)
}

// labelsOf names n positions by labels, "#i" where unknown.
func labelsOf(labels []string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = label(labels, i)
	}
	return out
}

// changes says what the rotation changes: "signing 2 of 2 → 2 of 3,
// rotation 2 of 2 → 2 of 3".
func (w *rotationWizard) changes(g GroupInfo) string {
	kt, nt := w.thresholdChanges(g)
	return fmt.Sprintf("signing %s, rotation %s", kt, nt)
}

// thresholdChanges reads each threshold before and after: "2 of 2 → 2 of
// 3", or "2 of 3 (unchanged)".
func (w *rotationWizard) thresholdChanges(g GroupInfo) (kt, nt string) {
	keys, next := w.labels()
	arrow := func(before, after string) string {
		if before == after {
			return before + " (unchanged)"
		}
		return before + " → " + after
	}
	return arrow(thresholdShort(g.State.Kt, len(g.State.Keys)), thresholdShort(w.kt.th, len(keys))),
		arrow(thresholdShort(g.State.Nt, len(g.State.Next)), thresholdShort(w.nt.th, len(next)))
}

// row renders a member: n[1] bob   rotate   contribution · bob.json
func (w *rotationWizard) row(_ int, r rotRow) string {
	pos := "+"
	if r.kind == rotCurrent {
		pos = fmt.Sprintf("n[%d]", r.prior)
	}
	var src string
	switch {
	case r.kind == rotCurrent && r.local != "":
		src = "this device"
		if r.local != r.label {
			src += " (" + show(r.local) + ")"
		}
	case r.kind == rotCurrent && r.contrib != nil:
		src = "contribution · " + r.source
	case r.kind == rotCurrent:
		src = "no contribution yet"
	case r.kind == rotJoin:
		src = "contribution · " + r.source
	default:
		src = "card · " + r.source
	}
	return fmt.Sprintf("%-5s %-14s %-12s %s", pos, truncate(show(r.label), 14), "["+rotRoleWords[r.role][0]+"]", src)
}

func (w *rotationWizard) summary(g GroupInfo, main []string, width, height int) ([]string, []string) {
	st := w.c.styles
	if w.supersede != 0 {
		main = append(main, st.Section.Render(fmt.Sprintf("RECOVERY rotation of %s at sn %d", g.Name(), w.supersede)))
		main = append(main, w.recoveryLines(g, width)...)
	} else {
		main = append(main, st.Section.Render(safetext.Sprintf("Rotation of %s to sn %d", g.Name(), g.State.Sn+1)))
	}
	var parts []rotRow
	for _, r := range w.rows.items {
		if r.role != "" {
			parts = append(parts, r)
		}
	}
	rows := max(height-10, 2)
	for i, r := range parts {
		if i == rows-1 && len(parts) > rows {
			main = append(main, st.Subtle.Render(fmt.Sprintf("  … and %d more", len(parts)-i)))
			break
		}
		how := rotRoleWords[r.role][0]
		if r.local != "" && r.role == ceremony.RoleRotate {
			how += " (this device makes its contribution now)"
		}
		main = append(main, fmt.Sprintf("  %-14s %s", truncate(show(r.label), 14), show(how)))
	}
	keys, _ := w.labels()
	kt, nt := w.thresholdChanges(g)
	main = append(main, wizWrap(fmt.Sprintf("  keys      %s → %s", strings.Join(labelsOf(g.Labels, len(g.State.Keys)), ", "), strings.Join(keys, ", ")), width, "            ")...)
	main = append(main, wizWrap(fmt.Sprintf("  signing   %s: %s", kt, w.kt.reading), width, "            ")...)
	main = append(main, wizWrap(fmt.Sprintf("  rotation  %s: %s", nt, w.nt.reading), width, "            ")...)
	exp, _ := parseExpiry(w.expires.Value())
	main = append(main, "  expires   "+expiryWords(w.c, exp))
	main = append(main, w.statusLines(st, width)...)
	hints := wizWrap(st.Subtle.Render("p proposes: this device records the ceremony and writes the proposal to the drop folder (when there is one); every member then reviews and signs it."), width, "")
	return main, hints
}
