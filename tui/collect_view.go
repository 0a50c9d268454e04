package tui

import (
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/kel"
)

// The screen's rows: the header and thresholds on top, the members in
// the middle (scrolling), the mode's panel and the status at the bottom.

func (s *collectScreen) top(ci CeremonyInfo) []string {
	st := s.c.styles
	w := s.c.width
	left := fmt.Sprintf("%s of %s · sn %d · %s", ci.Kind, show(ci.Group), ci.Sn, ci.State)
	right := ""
	if !ci.Deadline.IsZero() && ci.State.Open() {
		if d := ci.Deadline.Sub(s.c.now()); d > 0 {
			right = "expires in " + roundDuration(d)
		} else {
			right = st.Warn.Render("deadline passed")
		}
	}
	out := []string{fit(st.Strong.Render(left), right, w)}
	out = append(out, fingerprintLines(st, ci.SAID, w)...)
	out = append(out, s.thresholdLines(ci)...)
	if ci.Witnessing != nil {
		out = append(out, s.witnessLine(*ci.Witnessing))
	}
	return out
}

// thresholdLines measure the signing threshold and, for rotations, the
// prior next threshold over the revealed digests.
func (s *collectScreen) thresholdLines(ci CeremonyInfo) []string {
	p := ci.Progress
	out := s.satLines("signatures", "signed", p.Kt, p.KtText, ci.KeyLabels)
	if p.Rotation {
		out = append(out, s.satLines("prior next keys", "revealed", p.PriorNt, p.PriorNtText, ci.PriorLabels)...)
	}
	return out
}

// maxClauseLines caps the clause lines of one weighted threshold.
const maxClauseLines = 4

// satLines render one threshold's satisfaction: "signatures: 1 signed, 2
// needed (any 2 of 3)", or for a weighted threshold one line per clause.
func (s *collectScreen) satLines(name, verb string, sat kel.Satisfaction, text string, labels []string) []string {
	st := s.c.styles
	w := s.c.width
	met := func(ok bool) string {
		if ok {
			return st.Good.Render("✓ met")
		}
		return st.Warn.Render("not met")
	}
	if len(sat.Clauses) == 0 {
		frac := 0.0
		if sat.Need > 0 {
			frac = min(float64(sat.Have)/float64(sat.Need), 1)
		}
		line := fmt.Sprintf("%s: %d %s, %d needed (%s)", name, sat.Have, verb, sat.Need, show(thresholdHead(text)))
		return []string{fit(line, bar(frac, 10)+" "+met(sat.Met), w)}
	}
	nmet := 0
	for _, cl := range sat.Clauses {
		if cl.Met {
			nmet++
		}
	}
	out := []string{fit(fmt.Sprintf("%s: weighted, %d of %d clauses met", name, nmet, len(sat.Clauses)), met(sat.Met), w)}
	for i, cl := range sat.Clauses {
		if i == maxClauseLines-1 && len(sat.Clauses) > maxClauseLines {
			out = append(out, st.Subtle.Render(fmt.Sprintf("  … %d more clauses", len(sat.Clauses)-i)))
			break
		}
		sum := cl.Sum
		if sum == nil {
			sum = new(big.Rat)
		}
		frac, _ := sum.Float64()
		var who []string
		for _, j := range cl.Counted {
			who = append(who, show(labelAt(labels, j)))
		}
		names := "nobody"
		if len(who) > 0 {
			names = strings.Join(who, ", ")
		}
		state := "not met"
		if cl.Met {
			state = "met"
		}
		line := fmt.Sprintf("  clause %d: %s of 1 (%s) — %s", i+1, sum.RatString(), names, state)
		right := bar(min(frac, 1), 10)
		if lw := w - len(right) - 1; len(line) > lw {
			// Keep the sum and the verdict; shorten the names.
			tail := fmt.Sprintf(") — %s", state)
			head := fmt.Sprintf("  clause %d: %s of 1 (", i+1, sum.RatString())
			line = head + truncate(names, max(lw-len(head)-len(tail), 1)) + tail
		}
		out = append(out, fit(line, right, w))
	}
	return out
}

// thresholdHead is a threshold's words without the names: "any 2 of 3".
func thresholdHead(text string) string {
	if i := strings.Index(text, ": "); i > 0 && strings.HasPrefix(text, "any ") {
		return text[:i]
	}
	if strings.HasPrefix(text, "all of ") && strings.Count(text, ", ") >= 3 {
		return fmt.Sprintf("all %d", strings.Count(text, ", ")+1)
	}
	return text
}

func labelAt(labels []string, i int) string {
	if i >= 0 && i < len(labels) && labels[i] != "" {
		return labels[i]
	}
	return fmt.Sprintf("#%d", i)
}

// bottom is the mode's panel and the status lines.
func (s *collectScreen) bottom(ci CeremonyInfo) []string {
	st := s.c.styles
	w := s.c.width
	var out []string
	switch s.mode {
	case collectExportMenu:
		out = append(out, st.Strong.Render("Export what?")+st.Subtle.Render("  1 2 3 or ↑/↓ enter · esc cancels"))
		for i, ch := range exportChoices {
			mark := "  "
			text := fmt.Sprintf("%d %s", i+1, ch.text)
			if i == s.cursor {
				mark = st.Cursor.Render("> ")
				text = st.Selected.Render(text)
			}
			out = append(out, truncate(mark+text, w))
		}
		return out
	case collectAbortReason:
		return []string{
			st.Strong.Render("Abort the ceremony for good?") + st.Subtle.Render(" enter goes on · esc keeps it"),
			truncate(fieldLine(st, s.reason), w),
		}
	case collectAbortConfirm:
		return []string{
			truncate(st.Bad.Render("abort ceremony "+shortID(s.id)+" for good?")+" reason: "+show(strings.TrimSpace(s.reason.Value())), w),
			st.Key.Render("y") + " aborts · any other key keeps it",
		}
	}
	p := ci.Progress
	// The status may take up to three lines, fewer in a low window.
	n := 3
	if h := s.c.bodyHeight(); h < 12 {
		n = 1
	} else if h < 18 {
		n = 2
	}
	for _, why := range ci.Stale {
		out = append(out, para(st.Bad.Render, "✗ ", why, w)...)
	}
	if ci.State.Open() && ci.CanSign {
		out = append(out, truncate(st.Warn.Render("your signature is needed: ")+st.Key.Render("s")+" reviews and signs", w))
	}
	switch {
	case ci.State == ceremony.StateFinalized && ci.Witnessing != nil && !ci.Witnessing.Complete:
		out = append(out, st.Good.Render("finalized")+" — "+st.Warn.Render("press p to publish to the witnesses"))
	case ci.State == ceremony.StateFinalized:
		out = append(out, st.Good.Render("finalized"))
	case ci.State == ceremony.StateAborted:
		out = append(out, paraN(st.Bad.Render, "", "aborted: "+show(orText(ci.Reason, "no reason given")), w, min(n, 2))...)
	case ci.State == ceremony.StateExpired:
		out = append(out, st.Bad.Render("expired: the deadline passed before the thresholds were met"))
	case p.Met:
		out = append(out, st.Good.Render("threshold met — press f to finalize"))
	case p.Blocked != nil:
		out = append(out, paraN(st.Bad.Render, "✗ blocked: ", show(orText(p.Missing, p.Blocked.Error())), w, n)...)
	default:
		out = append(out, paraN(st.Warn.Render, "", show(orText(p.Missing, "waiting for signatures")), w, n)...)
	}
	return out
}

// slotRows is the number of member rows that fit.
func (s *collectScreen) slotRows(ci CeremonyInfo) int {
	return max(s.c.bodyHeight()-len(s.top(ci))-len(s.bottom(ci))-2-legendRows(ci), 1)
}

// legendRows is 1 when the signature codes need their legend.
func legendRows(ci CeremonyInfo) int {
	if codeLegend(ci.Progress.Slots) != "" {
		return 1
	}
	return 0
}

// codeMeanings read the signature codes in words.
var codeMeanings = []struct{ code, text string }{
	{"A", "signed with both lists (keys and prior next)"},
	{"B", "current only"},
	{"2A", "both lists, at two positions"},
	{"2B", "current only, at a large position"},
}

// codeLegend explains, in one line, the codes of the signatures held.
func codeLegend(slots []ceremony.Slot) string {
	var parts []string
	for _, m := range codeMeanings {
		for _, sl := range slots {
			if sl.Status == ceremony.SlotSigned && sl.Code == m.code {
				parts = append(parts, m.code+" = "+m.text)
				break
			}
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "codes: " + strings.Join(parts, " · ")
}

// weights is each signing position's weight in a weighted threshold (nil
// for an integer one), parsed once per threshold.
func (s *collectScreen) weights(threshold string) []string {
	if threshold != s.weightsOf {
		s.weightsOf, s.weightList = threshold, nil
		if th, err := kel.ParseThreshold(threshold); err == nil {
			s.weightList = th.Weights()
		}
	}
	return s.weightList
}

func (s *collectScreen) View() string {
	st := s.c.styles
	w, h := s.c.width, s.c.bodyHeight()
	ci, ok := s.c.snap.Ceremony(s.id)
	if !ok {
		return st.Subtle.Render("ceremony "+show(s.id)+" is not on this device yet:") + "\n" +
			st.Subtle.Render("it shows here once this device records its proposal.")
	}
	top, bottom := s.top(ci), s.bottom(ci)
	rows := max(h-len(top)-len(bottom)-2-legendRows(ci), 1)
	slots := ci.Progress.Slots
	off := min(s.offset, max(len(slots)-rows, 0))
	end := min(off+rows, len(slots))

	var b strings.Builder
	b.Grow(w * h * 2)
	for _, l := range top {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	b.WriteString(s.membersLine(ci, off, end, rows))
	b.WriteByte('\n')
	lw := 8
	for _, sl := range slots {
		lw = max(lw, min(len(show(sl.Label)), 16))
	}
	weights := s.weights(ci.Progress.KtThreshold)
	for _, sl := range slots[off:end] {
		b.WriteString(truncate(s.slotLine(sl, ci.State.Open(), ci.Progress.Rotation, lw, weights), w))
		b.WriteByte('\n')
	}
	if l := codeLegend(ci.Progress.Slots); l != "" {
		b.WriteString(truncate(st.Subtle.Render(l), w))
		b.WriteByte('\n')
	}
	for _, l := range bottom {
		b.WriteByte('\n')
		b.WriteString(l)
	}
	return b.String()
}

// membersLine counts the members by status and says what is scrolled.
func (s *collectScreen) membersLine(ci CeremonyInfo, off, end, rows int) string {
	st := s.c.styles
	var signed, waiting, invalid, signers int
	for _, sl := range ci.Progress.Slots {
		switch sl.Status {
		case ceremony.SlotSigned:
			signed++
		case ceremony.SlotWaiting:
			waiting++
		case ceremony.SlotInvalid:
			invalid++
		}
		if sl.Index >= 0 {
			signers++
		}
	}
	left := fmt.Sprintf("members: %d of %d signers signed", signed, signers)
	switch {
	case waiting > 0 && !ci.State.Open():
		left += fmt.Sprintf(" · %d did not sign", waiting)
	case waiting > 0:
		left += fmt.Sprintf(" · %d waiting", waiting)
	}
	if invalid > 0 {
		left += fmt.Sprintf(" · %d invalid", invalid)
	}
	right := ""
	if n := len(ci.Progress.Slots); n > rows {
		right = fmt.Sprintf("%d–%d of %d ↑/↓", off+1, end, n)
	}
	return fit(st.Section.Render(left), st.Subtle.Render(right), s.c.width)
}

// slotLine is one member: mark, label, position and status in words.
func (s *collectScreen) slotLine(sl ceremony.Slot, open, rotation bool, lw int, weights []string) string {
	st := s.c.styles
	label := show(sl.Label)
	if len(label) > lw {
		label = truncate(label, lw)
	}
	pos := ""
	if sl.Index >= 0 {
		pos = fmt.Sprintf("k[%d]", sl.Index)
		if sl.Index < len(weights) {
			pos += " w " + weights[sl.Index]
		}
	}
	var mark, text string
	switch {
	case sl.Status == ceremony.SlotSigned:
		mark = st.Good.Render("✓")
		text = "signed"
		if sl.Code != "" {
			text += " (" + sl.Code + ")"
		}
		if rotation {
			if sl.Exposes {
				text += fmt.Sprintf(" · reveals prior n[%d]", sl.Ondex)
			} else {
				text += " · reveals no prior digest: counts toward the new kt only"
			}
		}
	case sl.Status == ceremony.SlotWaiting && !open:
		mark = "–"
		text = st.Subtle.Render("did not sign")
	case sl.Status == ceremony.SlotWaiting:
		mark = "…"
		text = "waiting"
	case sl.Status == ceremony.SlotInvalid:
		mark = st.Bad.Render("✗")
		text = st.Bad.Render("invalid: " + show(orText(sl.Why, "the signature was refused")))
	default:
		mark = "–"
		text = st.Subtle.Render(fmt.Sprintf("not signing (%s)", sl.Role))
	}
	pw := 6
	if len(weights) > 0 {
		pw = 6 + 3 + 5
		for _, w := range weights {
			pw = max(pw, 6+3+len(w))
		}
		pw = min(pw, 24)
	}
	return fmt.Sprintf("%s %-*s %-*s %s", mark, lw, label, pw, pos, text)
}

// roundDuration reads a duration to the minute ("1h30m", "45m").
func roundDuration(d time.Duration) string {
	d = d.Round(time.Minute)
	if d < time.Minute {
		return "less than a minute"
	}
	s := d.String()
	return strings.TrimSuffix(s, "0s")
}
