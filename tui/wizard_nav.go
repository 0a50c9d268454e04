package tui

// The step and field navigation the three ceremony wizards share.

import (
	"fmt"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// wizNav walks a wizard's steps and the fields of each step, and keeps the
// refusal it shows and the proposal in flight. The first step is 0; the
// last is the summary from which p proposes. A wizard embeds it, made by
// newWizNav with the wizard's own check and focus.
type wizNav struct {
	name    string // the context of the wizard's errors ("new group")
	fields  []int  // the number of focusable fields of each step
	step    int
	focus   []int  // the focused field of each step
	err     error  // a refused step, or the backend's refusal of the proposal
	pending string // context of the proposal in flight ("" when none)

	check func(step int) error // what a step asks for (nil: it is right)
	apply func() tea.Cmd       // gives the keyboard to the focused text field, if any
}

func newWizNav(name string, fields []int, check func(step int) error, apply func() tea.Cmd) wizNav {
	return wizNav{name: name, fields: fields, focus: make([]int, len(fields)), check: check, apply: apply}
}

// last is the summary step.
func (n *wizNav) last() int { return len(n.fields) - 1 }

// fail reports err in the status line, as an error of the wizard.
func (n *wizNav) fail(err error) tea.Cmd {
	name := n.name
	return func() tea.Msg { return errMsg{name, err} }
}

// checkAll checks the steps before the summary: it returns the first
// that is not right and why, or the summary step.
func (n *wizNav) checkAll() (int, error) {
	for s := 0; s < n.last(); s++ {
		if err := n.check(s); err != nil {
			return s, err
		}
	}
	return n.last(), nil
}

// navKey handles the keys that move between the steps: esc (back a step,
// and out of the wizard from the first one), shift+tab (back a field or a
// step) and enter or tab (on a field or a step). It reports whether msg
// was one of them.
func (n *wizNav) navKey(msg tea.KeyMsg, k KeyMap) (tea.Cmd, bool) {
	switch {
	case key.Matches(msg, k.Back):
		if n.step == 0 {
			return pop, true
		}
		return n.prevStep(), true
	case key.Matches(msg, k.PrevStep):
		return n.backward(), true
	case key.Matches(msg, k.NextStep):
		return n.forward(), true
	}
	return nil, false
}

// forward leaves the focused field for the next one, or the step for the
// next step once it is right.
func (n *wizNav) forward() tea.Cmd {
	if n.focus[n.step] < n.fields[n.step]-1 {
		n.focus[n.step]++
		return n.apply()
	}
	if n.step == n.last() {
		return info("press p to propose, or shift+tab to go back")
	}
	if err := n.check(n.step); err != nil {
		n.err = err
		return n.fail(err)
	}
	n.err = nil
	n.step++
	return n.apply()
}

// backward goes to the previous field, or the previous step.
func (n *wizNav) backward() tea.Cmd {
	if n.focus[n.step] > 0 {
		n.focus[n.step]--
		return n.apply()
	}
	return n.prevStep()
}

// prevStep goes back a step.
func (n *wizNav) prevStep() tea.Cmd {
	if n.step == 0 {
		return nil
	}
	n.err = nil
	n.step--
	return n.apply()
}

// arrowKey moves the focus between the fields of the step with the
// arrows, and with k and j too when letters. It reports whether msg was
// one of them.
func (n *wizNav) arrowKey(msg tea.KeyMsg, k KeyMap, letters bool) (tea.Cmd, bool) {
	d := 0
	switch {
	case msg.Type == tea.KeyUp || letters && key.Matches(msg, k.Up):
		d = -1
	case msg.Type == tea.KeyDown || letters && key.Matches(msg, k.Down):
		d = 1
	default:
		return nil, false
	}
	n.focus[n.step] = min(max(n.focus[n.step]+d, 0), n.fields[n.step]-1)
	return n.apply(), true
}

// errLines show the refusal, if any.
func (n *wizNav) errLines(st Styles, width int) []string {
	if n.err == nil {
		return nil
	}
	return wizWrap(st.Bad.Render("✗ ")+show(n.err.Error()), width, "  ")
}

// statusLines end the summary: the proposal in flight, or the refusal.
func (n *wizNav) statusLines(st Styles, width int) []string {
	switch {
	case n.pending != "":
		return []string{"", st.Info.Render("… proposing")}
	case n.err != nil:
		return append([]string{""}, n.errLines(st, width)...)
	}
	return nil
}

// wizProposedMsg reports a proposal the backend made: id is the new
// ceremony's, what says what was proposed.
type wizProposedMsg struct{ id, what string }

// wizPropose runs propose in a command; its ceremony id comes back as a
// wizProposedMsg, its error as an errMsg with context ctx.
func wizPropose(c *common, ctx, what string, propose func(Backend) (string, error)) tea.Cmd {
	return c.work(ctx, func(b Backend) tea.Msg {
		id, err := propose(b)
		if err != nil {
			return errMsg{ctx, err}
		}
		return wizProposedMsg{id: id, what: what}
	})
}

// wizProposed replaces the wizard with the collect screen of ceremony id.
func wizProposed(c *common, msg wizProposedMsg) tea.Cmd {
	return tea.Sequence(replace(newCollectScreen(c, msg.id)), c.refresh(),
		info(fmt.Sprintf("proposed %s (ceremony %s): share the proposal with every member", msg.what, shortID(msg.id))))
}

// wizStart proposes the request the wizard collected, unless a proposal is
// in flight. When a step is not right, the wizard goes to it and says why;
// else request builds the request. words names the proposal: its context,
// and what it proposes for the user.
func wizStart[R any](c *common, n *wizNav, request func() R, words func(R) (ctx, what string), propose func(Backend, R) (string, error)) tea.Cmd {
	if n.pending != "" {
		return nil
	}
	if step, err := n.checkAll(); err != nil {
		n.step, n.err = step, err
		return tea.Batch(n.apply(), n.fail(err))
	}
	req := request()
	ctx, what := words(req)
	n.pending, n.err = ctx, nil
	return wizPropose(c, ctx, what, func(b Backend) (string, error) { return propose(b, req) })
}

// proposed ends the proposal in flight: the backend made it.
func (n *wizNav) proposed(c *common, msg wizProposedMsg) tea.Cmd {
	n.pending = ""
	return wizProposed(c, msg)
}

// proposalRefused reports whether msg is the backend's refusal of the
// proposal in flight, which ends it and is shown.
func (n *wizNav) proposalRefused(msg errMsg) bool {
	if msg.context != n.pending || n.pending == "" {
		return false
	}
	n.pending, n.err = "", msg.err
	return true
}

// nav is the wizard's navigation, for wizUpdate.
func (n *wizNav) nav() *wizNav { return n }

// wizard is a ceremony wizard that embeds a wizNav.
type wizard interface {
	screen
	nav() *wizNav
	layout()
	key(tea.KeyMsg) tea.Cmd
	updateField(tea.Msg) tea.Cmd // hands a message to the focused text field
}

// wizFollower is a wizard whose lists follow the snapshot.
type wizFollower interface {
	sync()    // takes the lists from the snapshot, keeping the user's choices
	recheck() // checks the fields against the lists
}

// wizUpdate is the Update of the wizards: the window's size, a new
// snapshot (for a wizFollower), the outcome of the proposal in flight and
// the keys; any other message goes to the focused text field.
func wizUpdate(w wizard, c *common, msg tea.Msg) (screen, tea.Cmd) {
	n := w.nav()
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		w.layout()
		return w, nil
	case snapshotMsg:
		if f, ok := w.(wizFollower); ok {
			f.sync()
			f.recheck()
			return w, nil
		}
	case wizProposedMsg:
		return w, n.proposed(c, msg)
	case errMsg:
		n.proposalRefused(msg)
		return w, nil
	case tea.KeyMsg:
		return w, w.key(msg)
	}
	return w, w.updateField(msg)
}
