package tui

import "github.com/charmbracelet/bubbles/key"

// KeyMap is every key binding of the TUI, in one place. Screens show the
// bindings they use in the footer and in the help (?); global bindings work
// everywhere except that single-letter ones are off while a text field has
// the keyboard (a scanned "q" must not quit).
type KeyMap struct {
	// Global.
	Up, Down, Left, Right key.Binding
	Enter, Back, Tab      key.Binding
	Help, Quit, ForceQuit key.Binding

	// Home.
	NewMember, ShareCard, Incept, Rotate, Anchor, Import, Log, Contribute, Check key.Binding

	// Wizards.
	Toggle, MoveUp, MoveDown, Propose key.Binding
	NextStep, PrevStep, Cycle, Remove key.Binding
	// Rotation wizard: a recovery rotation superseding the latest
	// interactions.
	Recover key.Binding

	// Review.
	Sign, Confirm, Cancel, OpenDoc key.Binding

	// Share.
	Faster, Slower, Denser, Sparser, Step, Invert, WriteFile, DropFile key.Binding

	// Collect.
	Finalize, Export, Abort, Publish key.Binding

	// Scrolling long screens (review, collect).
	PageUp, PageDown key.Binding
	// Share, in step mode: one frame forward or back.
	NextFrame, PrevFrame key.Binding
	// Collect: what e exports, and the confirmation of x.
	ExportProposal, ExportSignatures, ExportKEL, ConfirmAbort key.Binding
}

// DefaultKeyMap is the key map of the TUI.
func DefaultKeyMap() KeyMap {
	b := func(keys []string, k, help string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, help))
	}
	return KeyMap{
		Up:        b([]string{"up", "k"}, "↑/k", "up"),
		Down:      b([]string{"down", "j"}, "↓/j", "down"),
		Left:      b([]string{"left", "h"}, "←/h", "previous"),
		Right:     b([]string{"right", "l"}, "→/l", "next"),
		Enter:     b([]string{"enter"}, "enter", "open"),
		Back:      b([]string{"esc"}, "esc", "back"),
		Tab:       b([]string{"tab"}, "tab", "next field"),
		Help:      b([]string{"?"}, "?", "help"),
		Quit:      b([]string{"q"}, "q", "quit"),
		ForceQuit: b([]string{"ctrl+c"}, "ctrl+c", "quit"),

		NewMember:  b([]string{"m"}, "m", "new member"),
		ShareCard:  b([]string{"c"}, "c", "share card"),
		Incept:     b([]string{"g"}, "g", "new group"),
		Rotate:     b([]string{"r"}, "r", "rotate"),
		Anchor:     b([]string{"a"}, "a", "anchor"),
		Import:     b([]string{"i"}, "i", "import"),
		Log:        b([]string{"L"}, "L", "log"),
		Contribute: b([]string{"t"}, "t", "contribute"),
		Check:      b([]string{"C"}, "C", "check"),

		Toggle:   b([]string{" "}, "space", "select"),
		MoveUp:   b([]string{"K", "shift+up"}, "K", "move up"),
		MoveDown: b([]string{"J", "shift+down"}, "J", "move down"),
		Propose:  b([]string{"p"}, "p", "propose"),
		NextStep: b([]string{"enter", "tab"}, "enter/tab", "next"),
		PrevStep: b([]string{"shift+tab"}, "shift+tab", "back a step"),
		Cycle:    b([]string{" ", "right", "left"}, "space/←/→", "change role"),
		Remove:   b([]string{"d", "delete"}, "d/del", "delete"),
		Recover:  b([]string{"R"}, "R", "recovery"),

		Sign:    b([]string{"s"}, "s", "sign"),
		Confirm: b([]string{"y"}, "y", "yes, sign"),
		Cancel:  b([]string{"n", "esc"}, "n/esc", "cancel"),
		OpenDoc: b([]string{"o"}, "o", "check a document"),

		Faster:    b([]string{"+", "="}, "+", "faster"),
		Slower:    b([]string{"-"}, "-", "slower"),
		Denser:    b([]string{"]"}, "]", "denser"),
		Sparser:   b([]string{"["}, "[", "sparser"),
		Step:      b([]string{" "}, "space", "step mode"),
		Invert:    b([]string{"v"}, "v", "invert"),
		WriteFile: b([]string{"w"}, "w", "write file"),
		DropFile:  b([]string{"d"}, "d", "drop folder"),

		Finalize: b([]string{"f"}, "f", "finalize"),
		Export:   b([]string{"e"}, "e", "export"),
		Abort:    b([]string{"x"}, "x", "abort"),
		Publish:  b([]string{"p"}, "p", "publish to witnesses"),

		PageUp:   b([]string{"pgup"}, "pgup", "page up"),
		PageDown: b([]string{"pgdown"}, "pgdn", "page down"),

		NextFrame: b([]string{"right", "n"}, "→/n", "next frame"),
		PrevFrame: b([]string{"left", "p"}, "←/p", "previous frame"),

		ExportProposal:   b([]string{"1"}, "1", "proposal"),
		ExportSignatures: b([]string{"2"}, "2", "signatures"),
		ExportKEL:        b([]string{"3"}, "3", "kel"),
		ConfirmAbort:     b([]string{"y"}, "y", "yes, abort"),
	}
}
