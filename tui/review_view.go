package tui

import (
	"fmt"
	"slices"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/kel"
)

// compact: the window is too low for the fingerprint box.
func (r *reviewScreen) compact() bool { return r.c.bodyHeight() < 14 }

// header is the fixed part above the scrolling review: the event line and
// the fingerprint (in a box with the words, and a line asking members to
// compare them).

func (r *reviewScreen) header() []string {
	st := r.c.styles
	w := r.c.width
	kind, group, sn, said := r.event()
	line := fmt.Sprintf("%s of %s · sn %d", kind, show(group), sn)
	if r.info.From != "" {
		line += " · proposed by " + show(r.info.From)
		if r.info.FromKey != "" {
			line += " (" + shortID(r.info.FromKey) + ")"
		}
	}
	out := []string{truncate(st.Strong.Render(line), w)}
	fp := ceremony.Fingerprint(said)
	words := ceremony.FingerprintWords(said)
	if r.compact() {
		out = append(out, fingerprintLines(st, said, w)...)
		return append(out, truncate(st.Info.Render("compare the words with every other member's screen"), w))
	}
	var box strings.Builder
	box.WriteString("SAID  " + st.Strong.Render(fp) + "\n")
	if len(words) == 0 {
		box.WriteString(st.Bad.Render("✗ no fingerprint words: the SAID is not a digest"))
	} else {
		box.WriteString("words " + numberedWords(st, words, w-10))
	}
	for _, l := range strings.Split(st.Box.Render(box.String()), "\n") {
		out = append(out, truncate(l, w))
	}
	return append(out, truncate(st.Info.Render("Read the six words aloud: every member's screen must show the same ones."), w))
}

// fingerprintLines show a SAID's fingerprint and words on one line, or
// on two (the words wrapped if need be) when one is too narrow.
func fingerprintLines(st Styles, said string, width int) []string {
	fp := "SAID " + st.Strong.Render(ceremony.Fingerprint(said))
	words := ceremony.FingerprintWords(said)
	if len(words) == 0 {
		return []string{truncate(fp+" · "+st.Bad.Render("✗ no words: the SAID is not a digest"), width)}
	}
	text := strings.Join(words, " ")
	if one := fp + " · " + text; ansi.StringWidth(one) <= width {
		return []string{one}
	}
	return append([]string{truncate(fp, width)}, para(st.Strong.Render, "", text, width)...)
}

// numberedWords renders fingerprint words for reading aloud, numbered
// when that fits in width.
func numberedWords(st Styles, words []string, width int) string {
	parts := make([]string, len(words))
	n := 0
	for i, wd := range words {
		parts[i] = fmt.Sprintf("%d %s", i+1, st.Strong.Render(wd))
		n += len(wd) + 4
	}
	if n-2 > width {
		for i, wd := range words {
			parts[i] = st.Strong.Render(wd)
		}
		return strings.Join(parts, " ")
	}
	return strings.Join(parts, "  ")
}

// event is what the review says about the event, else what the proposal
// says.
func (r *reviewScreen) event() (kind, group string, sn uint64, said string) {
	in := r.info
	group = orText(in.Group, "?")
	kind = "proposal"
	if rv := in.Review; rv != nil {
		return string(rv.Kind), orText(in.Group, shortID(rv.Prefix)), rv.Sn, rv.SAID
	}
	if ev := in.Event; ev != nil {
		return ilkKind(ev.Ilk()), orText(in.Group, shortID(ev.Prefix())), ev.Sn(), ev.SAID()
	}
	return kind, group, 0, ""
}

func ilkKind(ilk string) string {
	switch ilk {
	case kel.IlkIcp, kel.IlkDip:
		return string(ceremony.KindInception)
	case kel.IlkRot, kel.IlkDrt:
		return string(ceremony.KindRotation)
	case kel.IlkIxn:
		return string(ceremony.KindAnchoring)
	}
	return ilk
}

// layout sizes the viewport to the window and refills it when the width
// changed (or always, with refill).
func (r *reviewScreen) layout(refill bool) {
	w, h := r.c.width, r.c.bodyHeight()
	if !r.loaded {
		return
	}
	vh := max(h-len(r.header())-1, 1)
	r.vp.Width, r.vp.Height = w, vh
	if refill || w != r.fitW || h != r.fitH {
		off := r.vp.YOffset
		r.vp.SetContent(strings.Join(r.content(w), "\n"))
		r.vp.SetYOffset(off)
		r.fitW, r.fitH = w, h
	}
}

func (r *reviewScreen) View() string {
	st := r.c.styles
	w, h := r.c.width, r.c.bodyHeight()
	if !r.loaded {
		if r.loadErr != nil {
			return st.Bad.Render("✗ the proposal could not be reviewed: ") + "\n" +
				strings.Join(para(st.Bad.Render, "  ", r.loadErr.Error(), w), "\n") + "\n\n" +
				st.Subtle.Render("Nothing was signed. esc goes back.")
		}
		return st.Subtle.Render("reviewing proposal " + show(r.id) + "…")
	}
	r.layout(false)
	head := r.header()
	var body string
	if r.step == reviewConfirming {
		body = r.confirmView(h - len(head) - 1)
	} else {
		body = r.vp.View()
	}
	return strings.Join(head, "\n") + "\n" + clip(body, w, max(h-len(head)-1, 1)) + "\n" + r.statusLine()
}

// confirmView repeats the words and asks.
func (r *reviewScreen) confirmView(height int) string {
	st := r.c.styles
	w := r.c.width
	_, _, _, said := r.event()
	words := para(st.Strong.Render, "  ", strings.Join(ceremony.FingerprintWords(said), "  "), w)
	if ws := ceremony.FingerprintWords(said); ansi.StringWidth(numberedWords(st, ws, w-2)) <= w-2 {
		words = []string{"  " + numberedWords(st, ws, w-2)}
	}
	ask := para(st.Strong.Render, "", "sign "+r.signAs()+"?", w)
	yes := st.Key.Render("y") + " signs · any other key cancels"
	warn := para(st.Warn.Render, "", "Sign only if every other member reads the same six words from their own screen.", w)
	var crit []string
	for _, c := range r.info.Critical {
		crit = append(crit, para(st.Bad.Render, "⚠ ", c, w)...)
	}
	full := append([]string{"", st.Strong.Render("Sign this event?"), ""}, words...)
	full = append(append(append(full, ""), warn...), "")
	if len(crit) > 0 {
		full = append(append(full, crit...), "")
	}
	full = append(append(full, ask...), yes)
	if len(full) <= height {
		return strings.Join(full, "\n")
	}
	// A low window: the words, the warnings that matter, the question and
	// the keys; the warnings cut first.
	room := max(height-len(words)-len(ask)-1, 1)
	short := append(append(append(slices.Clone(words), capLines(crit, room)...), ask...), yes)
	if len(crit) == 0 {
		short = append(append(slices.Clone(words), ask...), yes)
	}
	return strings.Join(short[max(len(short)-height, 0):], "\n")
}

// statusLine is the last body line: whether and how this device signs,
// and where the scroll stands.
func (r *reviewScreen) statusLine() string {
	st := r.c.styles
	in := r.info
	var left string
	switch {
	case r.step == reviewDocument:
		return truncate(fieldLine(st, r.doc), r.c.width)
	case r.step == reviewSigning:
		left = st.Subtle.Render("signing…")
	case r.step == reviewConfirming:
		left = st.Warn.Render("compare the words before you press y")
	case len(in.Refusals) > 0:
		left = st.Bad.Render(fmt.Sprintf("✗ this device must not sign: %d refusal(s) above", len(in.Refusals)))
	case in.Signed:
		left = st.Good.Render("✓ this device has signed")
	case r.signable() == nil:
		left = st.Key.Render("s") + " compare the words, then sign " + r.signAs()
	default:
		left = st.Subtle.Render("– this device does not sign this event")
	}
	right := ""
	if r.step != reviewConfirming && r.vp.TotalLineCount() > r.vp.Height {
		switch {
		case r.vp.AtBottom():
			right = st.Subtle.Render("↑ (end)")
		case r.vp.AtTop():
			right = st.Subtle.Render("↓ more")
		default:
			right = st.Subtle.Render(fmt.Sprintf("↑↓ %d%%", int(r.vp.ScrollPercent()*100)))
		}
	}
	return fit(left, right, r.c.width)
}
