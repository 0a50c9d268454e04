package tui

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/kel"
)

// Errors of the review screen.
var (
	errNotSignable = errors.New("this device cannot sign this proposal")
	errSignFailed  = errors.New("signing failed")
)

// reviewLoadedMsg carries the backend's review of a proposal.
type reviewLoadedMsg struct {
	owner *reviewScreen
	info  ReviewInfo
	err   error
}

// signedMsg reports a signature made by this device: the packet, the
// ceremony that now holds it ("" when none could be found) and a fresh
// snapshot.
type signedMsg struct {
	owner      *reviewScreen
	out        Outgoing
	ceremonyID string
	snap       *Snapshot
	err        error
}

type reviewStep int

const (
	reviewLoading    reviewStep = iota // the backend is reviewing
	reviewShowing                      // the review, scrollable
	reviewConfirming                   // "sign as …?": y signs, any other key cancels
	reviewSigning                      // the backend is signing
)

// reviewScreen shows a proposal as this device rebuilt and checked it,
// and signs it after an explicit confirmation: s, then y.
type reviewScreen struct {
	c       *common
	id      string
	started bool
	step    reviewStep
	info    ReviewInfo
	loaded  bool
	loadErr error
	vp      viewport.Model
	fitW    int // the content was wrapped at this width
	fitH    int // and laid out for this body height
}

func newReviewScreen(c *common, proposalID string) screen {
	r := &reviewScreen{c: c, id: proposalID, vp: viewport.New(c.width, 1)}
	r.vp.KeyMap = scrollKeys(c.keys)
	return r
}

// scrollKeys are the viewport's keys: the TUI's up, down and page keys
// only (its pager defaults use letters the screens need).
func scrollKeys(k KeyMap) viewport.KeyMap {
	off := key.NewBinding(key.WithDisabled())
	return viewport.KeyMap{Up: k.Up, Down: k.Down, PageUp: k.PageUp, PageDown: k.PageDown,
		HalfPageUp: off, HalfPageDown: off, Left: off, Right: off}
}

// Init asks the backend for the review.
func (r *reviewScreen) Init() tea.Cmd {
	if r.started {
		return nil
	}
	r.started = true
	id := r.id
	return r.c.work("reviewing the proposal", func(b Backend) tea.Msg {
		info, err := b.Review(id)
		return reviewLoadedMsg{owner: r, info: info, err: err}
	})
}

func (r *reviewScreen) Title() string { return "Review " + shortID(r.id) }

// Typing is true while the confirmation waits: every key then reaches the
// screen, and any key but y cancels (esc and q included).
func (r *reviewScreen) Typing() bool { return r.step == reviewConfirming }

func (r *reviewScreen) Bindings() []key.Binding {
	k := r.c.keys
	switch r.step {
	case reviewConfirming:
		return []key.Binding{k.Confirm, k.Cancel}
	case reviewShowing:
		var bs []key.Binding
		if r.info.CanSign && len(r.info.Refusals) == 0 {
			bs = append(bs, k.Sign)
		}
		return append(bs, k.Up, k.Down, k.PageDown)
	}
	return nil
}

func (r *reviewScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	var start tea.Cmd
	if !r.started {
		start = r.Init()
	}
	switch msg := msg.(type) {
	case reviewLoadedMsg:
		if msg.owner != r {
			break
		}
		r.step = reviewShowing
		if msg.err != nil {
			r.loadErr = msg.err
			return r, tea.Batch(start, func() tea.Msg { return errMsg{"reviewing the proposal", msg.err} })
		}
		r.info, r.loaded, r.loadErr = msg.info, true, nil
		r.layout(true)
	case signedMsg:
		if msg.owner != r {
			break
		}
		return r, tea.Batch(start, r.signed(msg))
	case tea.WindowSizeMsg:
		r.layout(false)
	case tea.KeyMsg:
		return r, tea.Batch(start, r.key(msg))
	}
	return r, start
}

func (r *reviewScreen) key(msg tea.KeyMsg) tea.Cmd {
	k := r.c.keys
	switch r.step {
	case reviewConfirming:
		if key.Matches(msg, k.Confirm) {
			r.step = reviewSigning
			return r.sign()
		}
		r.step = reviewShowing
		return info("not signed")
	case reviewShowing:
		if key.Matches(msg, k.Sign) {
			if err := r.signable(); err != nil {
				return func() tea.Msg { return errMsg{"", err} }
			}
			r.step = reviewConfirming
			return nil
		}
		r.layout(false)
		var cmd tea.Cmd
		r.vp, cmd = r.vp.Update(msg)
		return cmd
	}
	return nil
}

// signable says why this device must not sign, nil when it may.
func (r *reviewScreen) signable() error {
	in := r.info
	switch {
	case !r.loaded:
		return fmt.Errorf("%w: the review did not complete", errNotSignable)
	case len(in.Refusals) > 0:
		return fmt.Errorf("%w: %s", errNotSignable, in.Refusals[0])
	case in.Signed:
		return fmt.Errorf("%w: it has already signed it", errNotSignable)
	case in.Member == "":
		return fmt.Errorf("%w: no member of this device takes part in it", errNotSignable)
	case in.Review == nil || !in.Review.Passed():
		return fmt.Errorf("%w: the review did not pass", errNotSignable)
	case in.Review.Index < 0:
		return fmt.Errorf("%w: %s has no signing key in this event", errNotSignable, in.Member)
	case !in.CanSign:
		return errNotSignable
	}
	return nil
}

// sign signs in a command, then finds the ceremony holding the signature:
// the review's, else the snapshot's ceremony of this proposal, else a
// fresh review's.
func (r *reviewScreen) sign() tea.Cmd {
	id, cid := r.id, r.info.CeremonyID
	return r.c.work("signing", func(b Backend) tea.Msg {
		out, err := b.Sign(id)
		if err != nil {
			return signedMsg{owner: r, err: err}
		}
		m := signedMsg{owner: r, out: out, ceremonyID: cid}
		if s, err := b.Snapshot(); err == nil {
			m.snap = &s
			if m.ceremonyID == "" {
				for _, ci := range s.Ceremonies {
					if ci.ProposalID == id {
						m.ceremonyID = ci.ID
						break
					}
				}
			}
		}
		if m.ceremonyID == "" {
			if in, err := b.Review(id); err == nil {
				m.ceremonyID = in.CeremonyID
			}
		}
		return m
	})
}

// signed replaces the review with the ceremony's progress, says where the
// signature went and, with no drop folder, opens the share screen on it.
func (r *reviewScreen) signed(msg signedMsg) tea.Cmd {
	if msg.err != nil {
		r.step = reviewShowing
		return func() tea.Msg { return errMsg{"", fmt.Errorf("%w: %w", errSignFailed, msg.err)} }
	}
	var cmds []tea.Cmd
	if msg.snap != nil {
		snap := *msg.snap
		cmds = append(cmds, func() tea.Msg { return snapshotMsg{snap} })
	}
	if msg.ceremonyID != "" {
		cmds = append(cmds, replace(newCollectScreen(r.c, msg.ceremonyID)))
	} else {
		cmds = append(cmds, func() tea.Msg { return popMsg{} })
	}
	text := "signed " + r.signAs()
	if msg.out.Dropped != "" {
		text += ": the signature is in the drop folder (" + msg.out.Dropped + ")"
		return tea.Sequence(append(cmds, info(text))...)
	}
	text += ": no drop folder — show the signature's QR codes to the collector or write it to a file (w)"
	sh := newShareScreen(r.c, msg.out)
	return tea.Sequence(append(cmds, push(sh), info(text))...)
}

// signAs names who signs where: "as alice at k[1]".
func (r *reviewScreen) signAs() string {
	in := r.info
	who := in.Member
	if rv := in.Review; rv != nil {
		if rv.Label != "" && rv.Label != who {
			who += " (" + rv.Label + " in the group)"
		}
		return fmt.Sprintf("as %s at k[%d]", who, rv.Index)
	}
	return "as " + who
}

// compact: the window is too low for the fingerprint box.
func (r *reviewScreen) compact() bool { return r.c.bodyHeight() < 14 }

// header is the fixed part above the scrolling review: the event line and
// the fingerprint (in a box with the words, and a line asking members to
// compare them).

func (r *reviewScreen) header() []string {
	st := r.c.styles
	w := r.c.width
	kind, group, sn, said := r.event()
	line := fmt.Sprintf("%s of %s · sn %d", kind, group, sn)
	if r.info.From != "" {
		line += " · proposed by " + r.info.From
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

// content is the scrolling part of the review, wrapped at width.
func (r *reviewScreen) content(width int) []string {
	st := r.c.styles
	in := r.info
	rv := in.Review
	var out []string
	add := func(style func(...string) string, prefix, text string) {
		out = append(out, para(style, prefix, text, width)...)
	}
	plain := func(s ...string) string { return strings.Join(s, " ") }
	section := func(t string) {
		if len(out) > 0 {
			out = append(out, "")
		}
		out = append(out, st.Section.Render(t))
	}

	if len(in.Refusals) > 0 {
		out = append(out, st.Bad.Render("✗ THIS DEVICE MUST NOT SIGN THIS EVENT"))
		for _, f := range in.Refusals {
			add(st.Bad.Render, "  ✗ ", f)
		}
	}

	section("You")
	switch {
	case rv == nil:
		add(plain, "  ", "this device could not rebuild the event, so there is nothing it may sign")
	case rv.Index >= 0:
		who := orText(in.Member, "this device")
		if rv.Label != "" && rv.Label != in.Member {
			who += " (" + rv.Label + " in the group)"
		}
		line := fmt.Sprintf("you sign as %s at k[%d]", who, rv.Index)
		if len(in.Refusals) > 0 {
			line = fmt.Sprintf("you are %s, at signing position k[%d]", who, rv.Index)
		}
		if rv.Kind == ceremony.KindRotation {
			if rv.Ondex >= 0 {
				line += fmt.Sprintf(", revealing the key committed at prior n[%d]", rv.Ondex)
			} else {
				line += ", with a key that was never pre-committed (it counts toward the new kt only)"
			}
		}
		if len(in.Refusals) > 0 {
			add(plain, "  – ", line)
		} else {
			add(st.Good.Render, "  ✓ ", line)
		}
	default:
		line := "you do not sign this event"
		if in.Member != "" {
			line += ": " + in.Member + " has no signing key in it"
		} else {
			line += ": no member of this device takes part"
		}
		add(plain, "  – ", line)
	}
	if in.Signed {
		add(st.Good.Render, "  ✓ ", "this device has already signed it")
	}
	if rv != nil && rv.NextText != "" {
		if rv.NextCommitted {
			add(st.Good.Render, "  ✓ ", rv.NextText)
		} else {
			add(st.Bad.Render, "  ⚠ WARNING: ", rv.NextText)
		}
	}

	if rv != nil {
		section("Thresholds")
		note := ""
		if rv.Kind == ceremony.KindAnchoring {
			note = " (the group's current ones)"
		}
		add(plain, "  signing:  ", fmt.Sprintf("%s (kt %s)%s", rv.KtText, rv.Kt, note))
		add(plain, "  rotation: ", fmt.Sprintf("%s (nt %s)%s", rv.NtText, rv.Nt, note))
		if d := rv.Diff; d != nil {
			out = append(out, r.diffLines(d, width)...)
		}
		if len(rv.Seals) > 0 {
			section("Anchors")
			for _, s := range rv.Seals {
				if s.Known {
					add(st.Good.Render, "  ✓ ", s.Text+" — checked on this device")
				} else {
					add(st.Warn.Render, "  ? ", s.Text+" — not checked on this device")
				}
			}
		}
		section("Configuration")
		if len(rv.Witnesses) == 0 {
			add(plain, "  ", "witnesses: none")
		} else {
			add(plain, "  ", fmt.Sprintf("witnesses (%d of %d must receipt): %s", rv.Bt, len(rv.Witnesses), strings.Join(rv.Witnesses, ", ")))
		}
		if len(rv.Config) > 0 {
			add(plain, "  ", "traits: "+configWords(rv.Config))
		}
		if rv.Delegator != "" {
			add(plain, "  ", "delegated by "+rv.Delegator)
		}
	}

	if ws := r.warnings(); len(ws) > 0 {
		section("Check before signing")
		for _, w := range ws {
			add(st.Warn.Render, "  ⚠ ", w)
		}
	}

	section("Details")
	_, _, _, said := r.event()
	if said != "" {
		add(plain, "  SAID     ", said)
	}
	if rv != nil {
		add(plain, "  prefix   ", rv.Prefix)
		add(plain, "  event    ", rv.Ilk)
	}
	add(plain, "  proposal ", r.id)
	if in.CeremonyID != "" {
		add(plain, "  ceremony ", in.CeremonyID)
	}
	return out
}

// diffLines shows what a rotation changes.
func (r *reviewScreen) diffLines(d *ceremony.KeyDiff, width int) []string {
	st := r.c.styles
	plain := func(s ...string) string { return strings.Join(s, " ") }
	out := []string{"", st.Section.Render("What the rotation changes")}
	add := func(style func(...string) string, prefix, text string) {
		out = append(out, para(style, prefix, text, width)...)
	}
	arrow := func(before, after string) string {
		if before == after {
			return "unchanged: " + after
		}
		return before + " → " + after
	}
	add(plain, "  signing:  ", arrow(d.KtBeforeText, d.KtAfterText))
	add(plain, "  rotation: ", arrow(d.NtBeforeText, d.NtAfterText))
	roster := r.info.Review.Roster
	keyLabel := func(k string) string {
		if m, ok := roster.ByKey(k); ok {
			return m.Label + " " + shortID(k)
		}
		// A prior key: its member committed its digest.
		dig := kel.NextDigest(k)
		for _, m := range roster {
			if m.Prior != "" && m.Prior == dig {
				return m.Label + " " + shortID(k)
			}
		}
		return shortID(k)
	}
	nextLabel := func(n string) string {
		for _, m := range roster {
			if n != "" && (m.Next == n || m.Prior == n) {
				return m.Label + " " + shortID(n)
			}
		}
		return shortID(n)
	}
	add(plain, "  keys:     ", fmt.Sprintf("%d kept, %d added, %d removed", len(d.KeptKeys), len(d.AddedKeys), len(d.RemovedKeys)))
	for _, k := range d.AddedKeys {
		add(st.Good.Render, "    + ", "added "+keyLabel(k))
	}
	for _, k := range d.RemovedKeys {
		add(st.Warn.Render, "    - ", "removed "+keyLabel(k))
	}
	add(plain, "  next:     ", fmt.Sprintf("%d digests kept, %d added, %d removed", len(d.KeptNext), len(d.AddedNext), len(d.RemovedNext)))
	for _, n := range d.AddedNext {
		add(st.Good.Render, "    + ", "added "+nextLabel(n))
	}
	for _, n := range d.RemovedNext {
		add(st.Warn.Render, "    - ", "removed "+nextLabel(n))
	}
	if !slices.Equal(d.WitnessesBefore, d.WitnessesAfter) || d.BtBefore != d.BtAfter {
		add(plain, "  witnesses: ", fmt.Sprintf("%d (bt %d) → %d (bt %d)", len(d.WitnessesBefore), d.BtBefore, len(d.WitnessesAfter), d.BtAfter))
	}
	if len(d.Members) > 0 {
		out = append(out, "  members:")
		for _, m := range d.Members {
			add(plain, "    • ", m)
		}
	}
	return out
}

// warnings are the review's and the backend's warnings, each once.
func (r *reviewScreen) warnings() []string {
	var out []string
	var all []string
	if rv := r.info.Review; rv != nil {
		all = append(all, rv.Warnings...)
	}
	for _, w := range append(all, r.info.Warnings...) {
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

// configWords reads configuration traits in plain words.
func configWords(cfg []string) string {
	parts := make([]string, len(cfg))
	for i, c := range cfg {
		switch c {
		case "EO":
			parts[i] = "EO (establishment only: no interaction events)"
		case "DND":
			parts[i] = "DND (do not delegate)"
		default:
			parts[i] = c
		}
	}
	return strings.Join(parts, ", ")
}

// para wraps text at width after prefix, indents the continuation lines
// under the text, and styles every line.
func para(style func(...string) string, prefix, text string, width int) []string {
	pw := ansi.StringWidth(prefix)
	lines := wrapWords(text, max(width-pw, 8))
	out := make([]string, len(lines))
	for i, l := range lines {
		p := prefix
		if i > 0 {
			p = strings.Repeat(" ", pw)
		}
		out[i] = style(p + strings.TrimRight(l, " "))
	}
	return out
}

// wrapWords wraps plain text at width on spaces only (identifiers keep
// their hyphens), cutting a word longer than a line.
func wrapWords(text string, width int) []string {
	var out []string
	line, lw := "", 0
	for _, w := range strings.Fields(text) {
		ww := ansi.StringWidth(w)
		for ww > width {
			if lw > 0 {
				out = append(out, line)
				line, lw = "", 0
			}
			head := ansi.Cut(w, 0, width)
			out = append(out, head)
			w = strings.TrimPrefix(w, head)
			ww = ansi.StringWidth(w)
		}
		switch {
		case lw == 0:
			line, lw = w, ww
		case lw+1+ww <= width:
			line, lw = line+" "+w, lw+1+ww
		default:
			out = append(out, line)
			line, lw = w, ww
		}
	}
	return append(out, line)
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
		return st.Subtle.Render("reviewing proposal " + r.id + "…")
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
	full := append([]string{"", st.Strong.Render("Sign this event?"), ""}, words...)
	full = append(append(append(full, ""), warn...), "")
	full = append(append(full, ask...), yes)
	if len(full) <= height {
		return strings.Join(full, "\n")
	}
	// A low window: the words, the question and the keys.
	short := append(append(words, ask...), yes)
	return strings.Join(short[max(len(short)-height, 0):], "\n")
}

// statusLine is the last body line: whether and how this device signs,
// and where the scroll stands.
func (r *reviewScreen) statusLine() string {
	st := r.c.styles
	in := r.info
	var left string
	switch {
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
