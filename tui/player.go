package tui

import (
	"errors"
	"io"
	"os"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"golang.org/x/term"

	"github.com/keremony/keremony/qr"
	"github.com/keremony/keremony/transport"
)

// ErrNothingToPlay is Play's error for empty data.
var ErrNothingToPlay = errors.New("nothing to show: the file is empty")

// PlayOptions configure Play. The zero value shows the data as the TUI's
// share screen would: normal density, qr.DefaultFPS, colours from the
// terminal, in the whole window on standard input and output.
type PlayOptions struct {
	// Type is the frames' message type; 0 sniffs it from the data as the
	// share screen does (TypeFile for anything but a keremony packet).
	Type transport.FrameType
	// Density is the starting density (] and [ change it).
	Density qr.Density
	// FPS is the starting frame rate (0: qr.DefaultFPS; + and - change it).
	FPS int
	// Step starts in step mode: a key press shows the next frame.
	Step bool
	// Invert starts with the code inverted, for a light background
	// (PaletteNone only; v toggles it).
	Invert bool
	// Palette is the code's colours; nil picks them from the terminal's
	// colour profile (PaletteNone under NO_COLOR).
	Palette *qr.Palette
	// FullBlock draws each module as two full cells.
	FullBlock bool
	// Cols and Rows, both set, are the largest window (with the status
	// and footer lines) the code is fitted to, and the window's
	// size until the terminal reports its own (an output that is not a
	// terminal never does: 80x24 then).
	Cols, Rows int
	// Input and Output are the keyboard and the screen (os.Stdin and
	// os.Stdout when nil). End of input quits, as q does.
	Input  io.Reader
	Output io.Writer
}

// Play shows data as animated QR frames on the share screen, alone and
// without a backend (so without its write-file and drop-folder keys),
// until q, esc, ctrl+c or the end of input. title heads the caption;
// name is the file's name.
func Play(title, name string, data []byte, opts PlayOptions) error {
	if len(data) == 0 {
		return ErrNothingToPlay
	}
	in, out := opts.Input, opts.Output
	if in == nil {
		in = os.Stdin
	}
	if out == nil {
		out = os.Stdout
	}
	m := newPlayModel(title, name, data, opts)
	var p *tea.Program
	if f, ok := in.(interface{ Fd() uintptr }); !ok || !term.IsTerminal(int(f.Fd())) {
		// Bubble Tea stops reading at the end of a piped input but runs
		// on; this input ends the program there instead. (A terminal is
		// passed as it is, for Bubble Tea to switch it to raw mode.)
		in = &endReader{r: in, end: func() { p.Send(inputEndedMsg{}) }}
	}
	p = tea.NewProgram(m, tea.WithInput(in), tea.WithOutput(out), tea.WithAltScreen())
	_, err := p.Run()
	if errors.Is(err, tea.ErrInterrupted) { // SIGINT
		return nil
	}
	return err
}

// inputEndedMsg: the input of Play reached its end.
type inputEndedMsg struct{}

// endReader calls end once when r reports an error (io.EOF).
type endReader struct {
	r    io.Reader
	end  func()
	done bool
}

func (e *endReader) Read(b []byte) (int, error) {
	n, err := e.r.Read(b)
	if err != nil && !e.done {
		e.done = true
		go e.end() // Send blocks until the program takes it; not on the reading goroutine
	}
	return n, err
}

// playModel is the root model holding only a share screen, without the
// header (the caption names the file), so that the code is as large as
// qr show's own was: esc and the end of input quit too.
type playModel struct {
	*Model
	share *shareScreen
}

func newPlayModel(title, name string, data []byte, opts PlayOptions) *playModel {
	m := New(Options{PollInterval: -1}, nil)
	c := m.c
	c.chrome = 2 // status and footer
	if opts.Cols > 0 && opts.Rows > 0 {
		c.width, c.height = opts.Cols, opts.Rows
	}
	s := newShare(c, Outgoing{Title: title, Name: name, Data: data})
	if opts.Type != 0 {
		s.typ = opts.Type
	}
	s.density = opts.Density
	if opts.FPS != 0 {
		s.fps = opts.FPS
	}
	s.stepping = opts.Step
	s.inverted = opts.Invert
	if opts.Palette != nil {
		s.palette = *opts.Palette
	}
	if opts.FullBlock {
		s.mode = qr.FullBlock
	}
	s.maxW, s.maxH = opts.Cols, opts.Rows
	s.refit(true)
	if s.player != nil {
		s.fps = s.player.FPS() // clamped
	}
	m.stack = []screen{s}
	return &playModel{Model: m, share: s}
}

// Init starts the frames.
func (p *playModel) Init() tea.Cmd { return p.share.Init() }

func (p *playModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case inputEndedMsg:
		p.quit = true
		return p, tea.Quit
	case tea.KeyMsg:
		if key.Matches(msg, p.c.keys.Back) && !p.help && !p.share.Typing() {
			p.quit = true
			return p, tea.Quit
		}
	}
	_, cmd := p.Model.Update(msg)
	return p, cmd
}

// View is the root's without the header and its rule, and with a footer
// that always keeps room for the keys that quit: the share screen's keys
// alone overflow 80 columns.
func (p *playModel) View() string {
	v := p.Model.View()
	if p.quit {
		return v
	}
	_, v, _ = strings.Cut(v, "\n") // the header
	_, v, _ = strings.Cut(v, "\n") // its rule
	if p.help || p.ask != nil {
		return v
	}
	k := p.c.keys
	quit := key.NewBinding(key.WithKeys("q", "esc"), key.WithHelp("q/esc", "quit"))
	globals := p.bindingLine([]key.Binding{k.Help, quit}, p.c.width)
	room := p.c.width - lipgloss.Width(globals) - 2
	footer := globals
	if own := p.bindingLine(p.share.Bindings(), room); own != "" {
		footer = own + p.c.styles.Footer.Render("  ") + globals
	}
	return v[:strings.LastIndex(v, "\n")+1] + footer
}
