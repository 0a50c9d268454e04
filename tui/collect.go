package tui

import (
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/kel"
)

// Errors of the collect screen.
var (
	errFinalize = errors.New("cannot finalize")
	errExport   = errors.New("cannot export")
	errAbort    = errors.New("cannot abort")
)

// finalizedMsg reports a finalized ceremony: the group's KEL and a fresh
// snapshot.
type finalizedMsg struct {
	owner *collectScreen
	out   Outgoing
	snap  *Snapshot
	err   error
}

// exportedMsg carries an exported packet.
type exportedMsg struct {
	owner *collectScreen
	what  ExportKind
	out   Outgoing
	err   error
}

// abortedMsg reports an aborted ceremony.
type abortedMsg struct {
	owner  *collectScreen
	reason string
	snap   *Snapshot
	err    error
}

type collectMode int

const (
	collectNormal       collectMode = iota
	collectExportMenu               // e: what to export
	collectAbortReason              // x: the reason, in a text field
	collectAbortConfirm             // then y aborts, any other key keeps it
)

// exportChoices are the export menu's entries, in order.
var exportChoices = []struct {
	what ExportKind
	text string
}{
	{ExportProposal, "the proposal, for members who have not got it"},
	{ExportSignatures, "this device's signatures, for the member who finalizes"},
	{ExportKEL, "the group's KEL, once finalized, for every member"},
}

// collectScreen shows a ceremony's threshold progress as signatures
// arrive (every snapshot redraws it) and runs its next steps: sign,
// finalize, export, import, abort.
type collectScreen struct {
	c      *common
	id     string
	mode   collectMode
	offset int // the first member row shown
	cursor int // export menu
	reason textinput.Model
	// finalizing: a Finalize is in flight (a second f waits for it).
	finalizing bool
}

func newCollectScreen(c *common, ceremonyID string) screen {
	s := &collectScreen{c: c, id: ceremonyID}
	s.reason = textinput.New()
	s.reason.Prompt = "reason> "
	s.reason.Placeholder = "why the ceremony stops (the transcript keeps it)"
	s.reason.CharLimit = 200
	return s
}

func (s *collectScreen) Title() string {
	if ci, ok := s.c.snap.Ceremony(s.id); ok {
		return fmt.Sprintf("Collect · %s of %s · %s", ci.Kind, truncate(ci.Group, 20), shortID(s.id))
	}
	return "Collect · " + shortID(s.id)
}

// Typing is true while a menu, the reason field or the confirmation has
// the keyboard: esc and q then reach the screen (and cancel).
func (s *collectScreen) Typing() bool { return s.mode != collectNormal }

func (s *collectScreen) Bindings() []key.Binding {
	k := s.c.keys
	switch s.mode {
	case collectExportMenu:
		return []key.Binding{k.ExportProposal, k.ExportSignatures, k.ExportKEL, k.Enter, k.Cancel}
	case collectAbortReason:
		return []key.Binding{key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "next")), k.Back}
	case collectAbortConfirm:
		return []key.Binding{k.ConfirmAbort, k.Cancel}
	}
	ci, ok := s.c.snap.Ceremony(s.id)
	if !ok {
		return []key.Binding{k.Import, k.Log}
	}
	var bs []key.Binding
	if ci.CanSign && ci.State.Open() {
		bs = append(bs, k.Sign)
	}
	if ci.State.Open() && ci.Progress.Met {
		bs = append(bs, k.Finalize)
	}
	bs = append(bs, k.Export)
	if ci.State.Open() {
		bs = append(bs, k.Import, k.Abort)
	}
	bs = append(bs, k.Log)
	if len(ci.Progress.Slots) > s.slotRows(ci) {
		bs = append(bs, k.Up, k.Down)
	}
	return bs
}

func (s *collectScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case finalizedMsg:
		if msg.owner == s {
			s.finalizing = false
			return s, s.finalized(msg)
		}
	case exportedMsg:
		if msg.owner == s {
			if msg.err != nil {
				return s, func() tea.Msg { return errMsg{"exporting the " + string(msg.what), msg.err} }
			}
			return s, push(newShareScreen(s.c, msg.out))
		}
	case abortedMsg:
		if msg.owner == s {
			if msg.err != nil {
				return s, func() tea.Msg { return errMsg{"aborting", msg.err} }
			}
			var cmds []tea.Cmd
			if msg.snap != nil {
				snap := *msg.snap
				cmds = append(cmds, func() tea.Msg { return snapshotMsg{snap} })
			}
			return s, tea.Sequence(append(cmds, info("ceremony "+shortID(s.id)+" aborted: "+msg.reason))...)
		}
	case tea.KeyMsg:
		return s, s.key(msg)
	default:
		if s.mode == collectAbortReason { // the field's cursor blinks
			var cmd tea.Cmd
			s.reason, cmd = s.reason.Update(msg)
			return s, cmd
		}
	}
	return s, nil
}

func (s *collectScreen) key(msg tea.KeyMsg) tea.Cmd {
	k := s.c.keys
	switch s.mode {
	case collectExportMenu:
		choose := -1
		switch {
		case key.Matches(msg, k.ExportProposal):
			choose = 0
		case key.Matches(msg, k.ExportSignatures):
			choose = 1
		case key.Matches(msg, k.ExportKEL):
			choose = 2
		case key.Matches(msg, k.Up):
			s.cursor = max(s.cursor-1, 0)
		case key.Matches(msg, k.Down):
			s.cursor = min(s.cursor+1, len(exportChoices)-1)
		case key.Matches(msg, k.Enter):
			choose = s.cursor
		case key.Matches(msg, k.Cancel, k.Back, k.Quit):
			s.mode = collectNormal
		}
		if choose >= 0 {
			s.mode = collectNormal
			return s.export(exportChoices[choose].what)
		}
		return nil
	case collectAbortReason:
		switch {
		case key.Matches(msg, k.Back):
			s.mode = collectNormal
			s.reason.Blur()
			return info("not aborted")
		case key.Matches(msg, k.Enter):
			if strings.TrimSpace(s.reason.Value()) == "" {
				return info("give a reason: the transcript keeps it")
			}
			s.reason.Blur()
			s.mode = collectAbortConfirm
			return nil
		}
		var cmd tea.Cmd
		s.reason, cmd = s.reason.Update(msg)
		return cmd
	case collectAbortConfirm:
		s.mode = collectNormal
		if key.Matches(msg, k.ConfirmAbort) {
			return s.abort(strings.TrimSpace(s.reason.Value()))
		}
		return info("not aborted")
	}

	ci, ok := s.c.snap.Ceremony(s.id)
	switch {
	case key.Matches(msg, k.Log):
		return push(newLogScreen(s.c, s.id))
	case key.Matches(msg, k.Import):
		return push(newReceiveScreen(s.c, s.receiveContext(ci, ok)))
	case !ok:
		return info("ceremony " + shortID(s.id) + " is not on this device yet")
	case key.Matches(msg, k.Sign, k.Enter):
		if err := canSign(ci); err != nil {
			return info(err.Error())
		}
		return push(newReviewScreen(s.c, ci.ProposalID))
	case key.Matches(msg, k.Finalize):
		switch {
		case ci.State == ceremony.StateFinalized:
			return info("the ceremony is finalized: e exports the group's KEL")
		case !ci.State.Open():
			return func() tea.Msg {
				return errMsg{"", fmt.Errorf("%w: the ceremony is %s", errFinalize, ci.State)}
			}
		case !ci.Progress.Met:
			return func() tea.Msg { return errMsg{"", fmt.Errorf("%w: %s", errFinalize, ci.Progress.Missing)} }
		case s.finalizing:
			return nil
		}
		s.finalizing = true
		return s.finalize()
	case key.Matches(msg, k.Export):
		s.mode, s.cursor = collectExportMenu, 0
		if ci.State == ceremony.StateFinalized {
			s.cursor = 2
		} else if ci.Signed {
			s.cursor = 1
		}
	case key.Matches(msg, k.Abort):
		if !ci.State.Open() {
			return func() tea.Msg { return errMsg{"", fmt.Errorf("%w: the ceremony is %s", errAbort, ci.State)} }
		}
		s.mode = collectAbortReason
		s.reason.Reset()
		return s.reason.Focus()
	case key.Matches(msg, k.Up):
		s.offset = max(s.offset-1, 0)
	case key.Matches(msg, k.Down):
		s.offset++
	case key.Matches(msg, k.PageUp):
		s.offset = max(s.offset-s.slotRows(ci), 0)
	case key.Matches(msg, k.PageDown):
		s.offset += s.slotRows(ci)
	}
	s.offset = min(s.offset, max(len(ci.Progress.Slots)-s.slotRows(ci), 0))
	return nil
}

// canSign says why this device cannot sign a ceremony, nil when it can.
func canSign(ci CeremonyInfo) error {
	switch {
	case !ci.State.Open():
		return fmt.Errorf("%w: the ceremony is %s", errNotSignable, ci.State)
	case ci.Signed && !ci.CanSign:
		return fmt.Errorf("%w: it has already signed", errNotSignable)
	case !ci.CanSign:
		return fmt.Errorf("%w: no member of this device signs this event", errNotSignable)
	case ci.ProposalID == "":
		return fmt.Errorf("%w: the ceremony has no proposal id", errNotSignable)
	}
	return nil
}

func (s *collectScreen) receiveContext(ci CeremonyInfo, ok bool) string {
	if !ok {
		return "signatures for ceremony " + shortID(s.id)
	}
	return fmt.Sprintf("signatures for ceremony %s (%s of %s, sn %d)", shortID(s.id), ci.Kind, ci.Group, ci.Sn)
}

func (s *collectScreen) finalize() tea.Cmd {
	id := s.id
	return s.c.work("finalizing", func(b Backend) tea.Msg {
		out, err := b.Finalize(id)
		m := finalizedMsg{owner: s, out: out, err: err}
		if err == nil {
			if snap, err := b.Snapshot(); err == nil {
				m.snap = &snap
			}
		}
		return m
	})
}

// finalized says where the KEL went and, with no drop folder, opens the
// share screen on it.
func (s *collectScreen) finalized(msg finalizedMsg) tea.Cmd {
	if msg.err != nil {
		return func() tea.Msg { return errMsg{"", fmt.Errorf("%w: %w", errFinalize, msg.err)} }
	}
	var cmds []tea.Cmd
	if msg.snap != nil {
		snap := *msg.snap
		cmds = append(cmds, func() tea.Msg { return snapshotMsg{snap} })
	}
	if msg.out.Dropped != "" {
		text := "finalized: the group's KEL is in the drop folder (" + msg.out.Dropped + "); e exports it as QR codes"
		return tea.Sequence(append(cmds, info(text))...)
	}
	text := "finalized: no drop folder — show the group's KEL to the other members as QR codes or write it to a file (w)"
	sh := newShareScreen(s.c, msg.out)
	return tea.Sequence(append(cmds, push(sh), info(text))...)
}

func (s *collectScreen) export(what ExportKind) tea.Cmd {
	id := s.id
	return s.c.work("exporting the "+string(what), func(b Backend) tea.Msg {
		out, err := b.Export(id, what)
		if err != nil {
			err = fmt.Errorf("%w: %w", errExport, err)
		}
		return exportedMsg{owner: s, what: what, out: out, err: err}
	})
}

func (s *collectScreen) abort(reason string) tea.Cmd {
	id := s.id
	return s.c.work("aborting", func(b Backend) tea.Msg {
		m := abortedMsg{owner: s, reason: reason}
		if err := b.Abort(id, reason); err != nil {
			m.err = fmt.Errorf("%w: %w", errAbort, err)
			return m
		}
		if snap, err := b.Snapshot(); err == nil {
			m.snap = &snap
		}
		return m
	})
}

// The screen's rows: the header and thresholds on top, the members in
// the middle (scrolling), the mode's panel and the status at the bottom.

func (s *collectScreen) top(ci CeremonyInfo) []string {
	st := s.c.styles
	w := s.c.width
	left := fmt.Sprintf("%s of %s · sn %d · %s", ci.Kind, ci.Group, ci.Sn, ci.State)
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
	return out
}

// thresholdLines measure the signing threshold and, for rotations, the
// prior next threshold over the revealed digests.
func (s *collectScreen) thresholdLines(ci CeremonyInfo) []string {
	p := ci.Progress
	out := s.satLines("signatures", p.Kt, p.KtText, ci.KeyLabels)
	if p.Rotation {
		out = append(out, s.satLines("prior next keys revealed", p.PriorNt, p.PriorNtText, ci.PriorLabels)...)
	}
	return out
}

// maxClauseLines caps the clause lines of one weighted threshold.
const maxClauseLines = 4

// satLines render one threshold's satisfaction: "signatures: 1 of 2 (any
// 2 of 3)", or for a weighted threshold one line per clause.
func (s *collectScreen) satLines(name string, sat kel.Satisfaction, text string, labels []string) []string {
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
		line := fmt.Sprintf("%s: %d of %d (%s)", name, sat.Have, sat.Need, thresholdHead(text))
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
			who = append(who, labelAt(labels, j))
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
			truncate(s.reason.View(), w),
		}
	case collectAbortConfirm:
		return []string{
			truncate(st.Bad.Render("abort ceremony "+shortID(s.id)+" for good?")+" reason: "+strings.TrimSpace(s.reason.Value()), w),
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
	if ci.State.Open() && ci.CanSign {
		out = append(out, truncate(st.Warn.Render("your signature is needed: ")+st.Key.Render("s")+" reviews and signs", w))
	}
	switch {
	case ci.State == ceremony.StateFinalized:
		out = append(out, st.Good.Render("finalized"))
	case ci.State == ceremony.StateAborted:
		out = append(out, paraN(st.Bad.Render, "", "aborted: "+orText(ci.Reason, "no reason given"), w, min(n, 2))...)
	case ci.State == ceremony.StateExpired:
		out = append(out, st.Bad.Render("expired: the deadline passed before the thresholds were met"))
	case p.Met:
		out = append(out, st.Good.Render("threshold met — press f to finalize"))
	case p.Blocked != nil:
		out = append(out, paraN(st.Bad.Render, "✗ blocked: ", orText(p.Missing, p.Blocked.Error()), w, n)...)
	default:
		out = append(out, paraN(st.Warn.Render, "", orText(p.Missing, "waiting for signatures"), w, n)...)
	}
	return out
}

// paraN is para cut to n lines (a long text is cut before it is wrapped).
func paraN(style func(...string) string, prefix, text string, width, n int) []string {
	if r := []rune(text); len(r) > n*width {
		text = string(r[:n*width]) + "…"
	}
	return capLines(para(style, prefix, text, width), n)
}

// capLines keeps the first n lines, marking a cut with an ellipsis.
func capLines(lines []string, n int) []string {
	if len(lines) <= n {
		return lines
	}
	lines = lines[:n]
	lines[n-1] = strings.TrimRight(lines[n-1], " ") + "…"
	return lines
}

// slotRows is the number of member rows that fit.
func (s *collectScreen) slotRows(ci CeremonyInfo) int {
	return max(s.c.bodyHeight()-len(s.top(ci))-len(s.bottom(ci))-2, 1)
}

func (s *collectScreen) View() string {
	st := s.c.styles
	w, h := s.c.width, s.c.bodyHeight()
	ci, ok := s.c.snap.Ceremony(s.id)
	if !ok {
		return st.Subtle.Render("ceremony "+s.id+" is not on this device yet:") + "\n" +
			st.Subtle.Render("it shows here once this device records its proposal.")
	}
	top, bottom := s.top(ci), s.bottom(ci)
	rows := max(h-len(top)-len(bottom)-2, 1)
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
		lw = max(lw, min(len(sl.Label), 16))
	}
	for _, sl := range slots[off:end] {
		b.WriteString(truncate(s.slotLine(sl, ci.Progress.Rotation, lw), w))
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
	if waiting > 0 {
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
func (s *collectScreen) slotLine(sl ceremony.Slot, rotation bool, lw int) string {
	st := s.c.styles
	label := sl.Label
	if len(label) > lw {
		label = truncate(label, lw)
	}
	pos := ""
	if sl.Index >= 0 {
		pos = fmt.Sprintf("k[%d]", sl.Index)
	}
	var mark, text string
	switch sl.Status {
	case ceremony.SlotSigned:
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
	case ceremony.SlotWaiting:
		mark = "…"
		text = "waiting"
	case ceremony.SlotInvalid:
		mark = st.Bad.Render("✗")
		text = st.Bad.Render("invalid: " + orText(sl.Why, "the signature was refused"))
	default:
		mark = "–"
		text = st.Subtle.Render(fmt.Sprintf("not signing (%s)", sl.Role))
	}
	return fmt.Sprintf("%s %-*s %-6s %s", mark, lw, label, pos, text)
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
