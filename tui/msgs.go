package tui

import tea "github.com/charmbracelet/bubbletea"

// Messages between the screens and the root model. Screens never call the
// backend in Update: they return a command made by common.work, whose result
// comes back as one of these (or a screen's own message type).

// snapshotMsg carries a fresh view of the device; every screen on the stack
// gets it.
type snapshotMsg struct{ snap Snapshot }

// noticesMsg carries what a Poll or Receive did.
type noticesMsg struct{ notices []Notice }

// errMsg shows an error in the status line; context says what failed.
type errMsg struct {
	context string
	err     error
}

// infoMsg shows a message in the status line.
type infoMsg struct{ text string }

// pushMsg opens a screen on top of the current one; popMsg closes the
// current one (back); replaceMsg swaps the current one.
type (
	pushMsg    struct{ s screen }
	popMsg     struct{}
	replaceMsg struct{ s screen }
)

// workDoneMsg wraps the result of a backend command, so the root can stop
// its spinner before handing the result on.
type workDoneMsg struct{ msg tea.Msg }

// pollTickMsg asks the root to poll the drop folder; polledMsg is the
// poll's outcome.
type (
	pollTickMsg struct{}
	polledMsg   struct {
		notices []Notice
		err     error
	}
)

// openedMsg reports the backend opened (or failed to).
type openedMsg struct {
	b   Backend
	err error
}

// askMsg asks the user for the file keystore's passphrase on behalf of the
// backend, which waits on reply.
type askMsg struct {
	create bool
	reply  chan askReply
}

type askReply struct {
	pass []byte
	err  error
}

func push(s screen) tea.Cmd    { return func() tea.Msg { return pushMsg{s} } }
func pop() tea.Msg             { return popMsg{} }
func replace(s screen) tea.Cmd { return func() tea.Msg { return replaceMsg{s} } }
func info(text string) tea.Cmd { return func() tea.Msg { return infoMsg{text} } }
