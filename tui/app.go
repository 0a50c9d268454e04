package tui

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
)

// Errors of the TUI itself.
var (
	errNotOpen  = errors.New("this device is not open yet")
	errCanceled = errors.New("canceled")
)

// chromeRows is the rows the root takes around a screen: header, rule,
// status line and footer.
const chromeRows = 4

// DefaultPollInterval is how often the drop folder is polled.
const DefaultPollInterval = time.Second

// Ask asks the user for the file keystore's passphrase (create: a new
// keystore, so the TUI asks twice). It blocks until the user answers.
type Ask func(create bool) ([]byte, error)

// Options configure the TUI.
type Options struct {
	// Open opens this device; it runs in a command (with a spinner), and
	// may call ask, from its goroutine, to prompt for a passphrase.
	Open func(ask Ask) (Backend, error)
	// PollInterval is how often the drop folder is polled
	// (DefaultPollInterval when 0; negative: never, for tests).
	PollInterval time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Model is the root model: one stack of screens with a header, a status
// line and a footer of key bindings around the top one.
type Model struct {
	c       *common
	opts    Options
	stack   []screen
	spinner spinner.Model
	help    bool
	status  string
	isErr   bool
	ask     *askMsg // a pending passphrase request
	askIn   *passphraseScreen
	quit    bool
	send    func(tea.Msg) // delivers a message from another goroutine (Program.Send)
}

// New makes the root model. send delivers messages from the backend's
// goroutine (the passphrase prompt): pass Program.Send; nil disables it.
func New(opts Options, send func(tea.Msg)) *Model {
	c := newCommon(opts.Now)
	sp := spinner.New(spinner.WithSpinner(spinner.Line))
	m := &Model{c: c, opts: opts, spinner: sp, send: send}
	m.stack = []screen{newHomeScreen(c)}
	return m
}

// Run runs the TUI on in and out until the user quits.
func Run(opts Options, in io.Reader, out io.Writer) error {
	var p *tea.Program
	m := New(opts, func(msg tea.Msg) { p.Send(msg) })
	p = tea.NewProgram(m, tea.WithInput(in), tea.WithOutput(out), tea.WithAltScreen())
	final, err := p.Run()
	if fm, ok := final.(*Model); ok && fm.c.backend != nil {
		if cerr := fm.c.backend.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// Init opens the device.
func (m *Model) Init() tea.Cmd {
	if m.opts.Open == nil {
		return nil
	}
	open, send := m.opts.Open, m.send
	m.c.busy++
	m.c.busyFor = "opening this device"
	return tea.Batch(m.spinner.Tick, func() tea.Msg {
		ask := func(create bool) ([]byte, error) {
			if send == nil {
				return nil, errCanceled
			}
			reply := make(chan askReply, 1)
			send(askMsg{create: create, reply: reply})
			r := <-reply
			return r.pass, r.err
		}
		b, err := open(ask)
		return workDoneMsg{openedMsg{b, err}}
	})
}

func (m *Model) top() screen { return m.stack[len(m.stack)-1] }

// Update routes a message: window sizes and backend results to the root and
// every screen, keys to the top screen (after the global keys).
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m.fitStatus()
	mod, cmd := m.update(msg)
	m.fitStatus()
	return mod, cmd
}

func (m *Model) update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.c.width, m.c.height = msg.Width, msg.Height
		return m, m.broadcast(msg)
	case spinner.TickMsg:
		if m.c.busy == 0 {
			return m, nil
		}
		var cmd tea.Cmd
		m.spinner, cmd = m.spinner.Update(msg)
		return m, cmd
	case workDoneMsg:
		m.c.busy = max(m.c.busy-1, 0)
		return m.update(msg.msg)
	case openedMsg:
		if msg.err != nil {
			m.setError("opening this device", msg.err)
			return m, nil
		}
		m.c.backend = msg.b
		return m, tea.Batch(m.c.refresh(), m.pollAfter(), runCheck(m.c, true))
	case checkedMsg:
		m.c.check = &msg.report
		return m, m.broadcast(msg)
	case snapshotMsg:
		m.c.snap = msg.snap
		return m, m.broadcast(msg)
	case noticesMsg:
		var cmds []tea.Cmd
		for _, n := range msg.notices {
			m.logLine(n.Text, n.Err != nil)
			if n.Ceremony != "" {
				m.c.noteCeremony(n.Ceremony, m.c.log[len(m.c.log)-1])
			}
		}
		if len(msg.notices) > 0 {
			last := msg.notices[len(msg.notices)-1]
			m.setStatus(last.Text, last.Err != nil)
			cmds = append(cmds, m.c.refresh())
		}
		cmds = append(cmds, m.broadcast(msg))
		return m, tea.Batch(cmds...)
	case pollTickMsg:
		if m.c.backend == nil {
			return m, m.pollAfter()
		}
		// In the background (no spinner: it runs every second), and the
		// next poll is timed from this one's end, so slow polls never pile
		// up behind the backend's lock.
		return m, m.c.quiet(func(b Backend) tea.Msg {
			ns, err := b.Poll()
			return polledMsg{ns, err}
		})
	case polledMsg:
		next := m.pollAfter()
		if msg.err != nil {
			m.setError("checking the drop folder", msg.err)
			return m, next
		}
		_, cmd := m.update(noticesMsg{msg.notices})
		return m, tea.Batch(cmd, next)
	case errMsg:
		m.setError(msg.context, msg.err)
		return m, m.forward(msg)
	case infoMsg:
		m.setStatus(msg.text, false)
		m.logLine(msg.text, false)
		return m, nil
	case pushMsg:
		m.stack = append(m.stack, msg.s)
		return m, m.startBusy(startCmd(msg.s))
	case popMsg:
		if len(m.stack) > 1 {
			m.stack = m.stack[:len(m.stack)-1]
		}
		return m, nil
	case replaceMsg:
		// A review signed from a ceremony's collect screen goes back to
		// it rather than stacking a second one (one esc leaves it).
		if n := len(m.stack); n > 1 && sameCollect(m.stack[n-2], msg.s) {
			m.stack = m.stack[:n-1]
			return m, nil
		}
		m.stack[len(m.stack)-1] = msg.s
		return m, m.startBusy(startCmd(msg.s))
	case askMsg:
		m.ask = &msg
		m.askIn = newPassphraseScreen(m.c, msg.create)
		return m, m.askIn.focus()
	case tea.KeyMsg:
		return m.key(msg)
	}
	return m, m.forward(msg)
}

// key handles a key press: the passphrase prompt first, then the global
// keys, then the top screen.
func (m *Model) key(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	k := m.c.keys
	if key.Matches(msg, k.ForceQuit) {
		if m.ask != nil {
			m.answer(nil, errCanceled)
		}
		m.quit = true
		return m, tea.Quit
	}
	if m.ask != nil {
		pass, done, err := m.askIn.key(msg)
		if done {
			m.answer(pass, err)
		}
		return m, nil
	}
	typing := m.top().Typing()
	if m.help {
		if key.Matches(msg, k.Help, k.Back, k.Quit) {
			m.help = false
		}
		return m, nil
	}
	if !typing {
		switch {
		case key.Matches(msg, k.Help):
			m.help = true
			return m, nil
		case key.Matches(msg, k.Quit):
			m.quit = true
			return m, tea.Quit
		case key.Matches(msg, k.Back) && len(m.stack) > 1 && !handlesBack(m.top()):
			m.stack = m.stack[:len(m.stack)-1]
			return m, nil
		}
	}
	m.status, m.isErr = "", false
	s, cmd := m.top().Update(msg)
	m.stack[len(m.stack)-1] = s
	return m, m.startBusy(cmd)
}

// sameCollect reports whether a and b are collect screens of one ceremony.
func sameCollect(a, b screen) bool {
	ca, ok1 := a.(*collectScreen)
	cb, ok2 := b.(*collectScreen)
	return ok1 && ok2 && ca.id == cb.id
}

// answer replies to the pending passphrase request.
func (m *Model) answer(pass []byte, err error) {
	m.ask.reply <- askReply{pass, err}
	m.ask, m.askIn = nil, nil
}

// forward hands a message to the top screen.
func (m *Model) forward(msg tea.Msg) tea.Cmd {
	s, cmd := m.top().Update(msg)
	m.stack[len(m.stack)-1] = s
	return m.startBusy(cmd)
}

// broadcast hands a message to every screen on the stack.
func (m *Model) broadcast(msg tea.Msg) tea.Cmd {
	var cmds []tea.Cmd
	for i, s := range m.stack {
		var cmd tea.Cmd
		m.stack[i], cmd = s.Update(msg)
		cmds = append(cmds, cmd)
	}
	return m.startBusy(tea.Batch(cmds...))
}

// startBusy adds the spinner's tick to cmd when backend work is in flight.
func (m *Model) startBusy(cmd tea.Cmd) tea.Cmd {
	if m.c.busy > 0 {
		return tea.Batch(cmd, m.spinner.Tick)
	}
	return cmd
}

func (m *Model) pollAfter() tea.Cmd {
	d := m.opts.PollInterval
	if d < 0 {
		return nil
	}
	if d == 0 {
		d = DefaultPollInterval
	}
	return tea.Tick(d, func(time.Time) tea.Msg { return pollTickMsg{} })
}

func (m *Model) setStatus(text string, isErr bool) {
	m.status, m.isErr = show(text), isErr
}

func (m *Model) setError(ctx string, err error) {
	text := err.Error()
	if ctx != "" {
		text = ctx + ": " + text
	}
	m.setStatus(text, true)
	m.logLine(text, true)
}

func (m *Model) logLine(text string, isErr bool) {
	stamp := m.c.now().Format("15:04:05")
	if isErr {
		text = "error: " + text
	}
	m.c.log = append(m.c.log, stamp+" "+show(text))
	if len(m.c.log) > 500 {
		m.c.log = m.c.log[len(m.c.log)-500:]
	}
}

// View draws the header, the top screen (or the help, or the passphrase
// prompt), the status line and the footer.
func (m *Model) View() string {
	if m.quit {
		return ""
	}
	st := m.c.styles
	w := m.c.width
	title := m.top().Title()
	if m.help {
		title = "Help"
	}
	right := ""
	if m.c.busy > 0 {
		right = m.spinner.View() + " " + show(m.c.busyFor)
	}
	header := st.Title.Render("keremony") + st.Subtle.Render(" · ") + st.Header.Render(show(title))
	header = fit(header, right, w)
	var body string
	switch {
	case m.ask != nil:
		body = m.askIn.View()
	case m.help:
		body = m.helpView()
	default:
		body = m.top().View()
	}
	m.fitStatus()
	body = clip(body, w, m.c.bodyHeight())
	status := m.statusLines()
	if len(status) > 1 && !m.help && m.ask == nil && isFixedBody(m.top()) {
		body, status = m.statusOverBlank(body, status)
	}
	if len(status) == 0 {
		status = []string{""}
	}
	return strings.Join([]string{header, st.Subtle.Render(strings.Repeat("─", max(w, 1))), body, strings.Join(status, "\n"), m.footer()}, "\n")
}

// statusLines is the status wrapped at the window's width: an error or a
// notice keeps every word (the log keeps it too), up to a third of the
// body, the last line cut with an ellipsis beyond that.
func (m *Model) statusLines() []string {
	if m.status == "" {
		return nil
	}
	st := m.c.styles
	w := m.c.width
	limit := max(1, min(8, (m.c.height-m.c.chrome)/3))
	if m.isErr {
		return capLines(para(st.Bad.Render, "✗ ", m.status, w), limit)
	}
	return capLines(para(st.Info.Render, "", m.status, w), limit)
}

// fitStatus gives a long status the rows it needs, taken from the body
// (but from a fixed body: see statusOverBlank).
func (m *Model) fitStatus() {
	if len(m.stack) > 0 {
		m.c.top = m.top()
	}
	n := len(m.statusLines())
	if n <= 1 || len(m.stack) == 0 || isFixedBody(m.top()) {
		m.c.statusRows = 0
		return
	}
	m.c.statusRows = n - 1
}

// statusOverBlank puts a long status of a fixed body into the blank rows
// at the body's end, as far as they go; the status is cut to what fits.
func (m *Model) statusOverBlank(body string, status []string) (string, []string) {
	rows := strings.Split(body, "\n")
	blank := 0
	for i := len(rows) - 1; i >= 0 && strings.TrimSpace(rows[i]) == ""; i-- {
		blank++
	}
	extra := min(blank, len(status)-1)
	status = capLines(status, extra+1)
	return strings.Join(rows[:len(rows)-extra], "\n"), status
}

// footer lists the top screen's keys and the global ones that apply.
func (m *Model) footer() string {
	k := m.c.keys
	var bs []key.Binding
	switch {
	case m.ask != nil:
		bs = []key.Binding{k.Enter, k.ForceQuit}
	case m.help:
		bs = []key.Binding{k.Help, k.Back}
	default:
		bs = append(bs, m.top().Bindings()...)
		if len(m.stack) > 1 && !slices.ContainsFunc(bs, func(b key.Binding) bool { return slices.Contains(b.Keys(), "esc") }) {
			bs = append(bs, k.Back)
		}
		if m.top().Typing() {
			bs = append(bs, k.ForceQuit)
		} else {
			bs = append(bs, k.Help, k.Quit)
		}
	}
	return m.bindingLine(bs, m.c.width)
}

// bindingLine renders bindings as "key action" pairs that fit in width.
func (m *Model) bindingLine(bs []key.Binding, width int) string {
	st := m.c.styles
	var parts []string
	used := 0
	for _, b := range bs {
		if !b.Enabled() {
			continue
		}
		h := b.Help()
		n := lipgloss.Width(h.Key) + 1 + lipgloss.Width(h.Desc)
		if used > 0 {
			n += 2
		}
		if used+n > width {
			break
		}
		used += n
		parts = append(parts, st.Key.Render(h.Key)+" "+st.Footer.Render(h.Desc))
	}
	return strings.Join(parts, st.Footer.Render("  "))
}

// helpView lists every binding of the top screen and the global ones.
func (m *Model) helpView() string {
	st := m.c.styles
	k := m.c.keys
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", st.Section.Render(m.top().Title()))
	for _, kb := range m.top().Bindings() {
		b.WriteString(helpLine(st, kb))
	}
	b.WriteString("\n" + st.Section.Render("Everywhere") + "\n")
	for _, kb := range []key.Binding{k.Up, k.Down, k.Enter, k.Back, k.Help, k.Quit, k.ForceQuit} {
		b.WriteString(helpLine(st, kb))
	}
	b.WriteString("\n" + st.Subtle.Render("While a text field or a scanner has the keyboard, single-letter keys type\ninto it: esc leaves the field, ctrl+c always quits. Quitting loses nothing:\nceremonies, signatures and keys are stored as they happen.") + "\n")
	return b.String()
}

func helpLine(st Styles, kb key.Binding) string {
	h := kb.Help()
	return fmt.Sprintf("  %s %s\n", st.Key.Render(fmt.Sprintf("%-8s", h.Key)), h.Desc)
}
