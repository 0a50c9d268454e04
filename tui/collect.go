package tui

import (
	"errors"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/keremony/keremony/ceremony"
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
	{ExportKEL, "the group's KEL: once finalized, for every member; before, the catch-up for one behind"},
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
	// publishing: a Publish is in flight (a second p waits for it).
	publishing bool
	// weightList are the weights of the threshold weightsOf.
	weightsOf  string
	weightList []string
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
		return fmt.Sprintf("Collect · %s of %s · %s", ci.Kind, truncate(show(ci.Group), 20), shortID(s.id))
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
	if ci.State == ceremony.StateFinalized && ci.Witnessing != nil {
		bs = append(bs, k.Publish)
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
	case publishedMsg:
		if msg.owner == s {
			s.publishing = false
			return s, s.published(msg)
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
	case key.Matches(msg, k.Publish):
		return s.publishKey(ci)
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
	return fmt.Sprintf("signatures for ceremony %s (%s of %s, sn %d)", shortID(s.id), ci.Kind, show(ci.Group), ci.Sn)
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
