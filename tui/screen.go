package tui

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// screen is one page of the TUI. The root model keeps a stack of them: the
// top one gets the keys, every one gets snapshots and window sizes (through
// common), and esc pops back.
type screen interface {
	// Update handles a message and returns the screen to keep (usually
	// itself) and a command.
	Update(msg tea.Msg) (screen, tea.Cmd)
	// View renders the body: at most common.width columns and
	// common.bodyHeight() rows.
	View() string
	// Title names the screen in the header.
	Title() string
	// Bindings are the screen's own keys, for the footer and the help.
	Bindings() []key.Binding
	// Typing reports a text field has the keyboard: single-letter global
	// keys (q, ?) then go to the screen, and esc leaves the field first.
	Typing() bool
}

// backHandler is a screen that takes esc itself (a wizard going back a
// step, and popping itself from its first step) instead of being popped.
type backHandler interface {
	HandlesBack() bool
}

// handlesBack reports whether s takes esc itself.
func handlesBack(s screen) bool {
	b, ok := s.(backHandler)
	return ok && b.HandlesBack()
}

// starter is a screen with work to start when it opens (a backend call, a
// timer): the root calls Init when it pushes or swaps the screen in. Init
// must be safe to call more than once.
type starter interface{ Init() tea.Cmd }

// startCmd is s's start command, if it has one.
func startCmd(s screen) tea.Cmd {
	if st, ok := s.(starter); ok {
		return st.Init()
	}
	return nil
}

// fixedBody is a screen whose body must keep its height (the share
// screen: a QR code re-laid out mid-scan restarts its frames). A long
// status then takes only the rows the body leaves blank.
type fixedBody interface{ FixedBody() bool }

// isFixedBody reports whether s keeps its body's height.
func isFixedBody(s screen) bool {
	f, ok := s.(fixedBody)
	return ok && f.FixedBody()
}
