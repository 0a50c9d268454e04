package tui

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/keremony/keremony/qr"
	"github.com/keremony/keremony/transport"
)

// Errors of the share screen.
var (
	errShareWrite = errors.New("cannot write the file")
	errShareDrop  = errors.New("cannot put the file in the drop folder")
	errShareEmpty = errors.New("nothing to share: the packet is empty")
)

// shareTickMsg advances the frames of one share screen. gen drops the
// ticks of a timer that a pause, a speed change or a new layout replaced.
type shareTickMsg struct {
	s   *shareScreen
	gen int
}

// sharedMsg reports a file written (w) or dropped (d).
type sharedMsg struct {
	s    *shareScreen
	drop bool
	path string
	err  error
}

// Layout of the share screen: the caption goes right of the code when
// that leaves the code as large as below it, else under it.
const (
	shareSideCols    = 30 // columns of a caption right of the code
	shareGap         = 2  // between the code and a caption right of it
	shareCaptionRows = 3  // rows of a caption under the code
)

// densities in order, sparsest first.
var densities = []qr.Density{qr.Low, qr.Normal, qr.High}

// shareScreen shows a packet as animated QR frames sized to the window,
// and writes it to a file or the drop folder.
type shareScreen struct {
	c        *common
	out      Outgoing
	typ      transport.FrameType
	density  qr.Density
	palette  qr.Palette
	mode     qr.Mode
	inverted bool
	fps      int
	stepping bool

	player *qr.Player
	side   bool  // the caption is right of the code
	err    error // no code: the window is too small, or the packet cannot be cut
	fitW   int   // the size the layout was fitted to
	fitH   int
	maxW   int // the largest window to fit the code in (0: the whole window)
	maxH   int

	gen   int  // the live timer's generation
	armed bool // a tick of gen is on its way

	path    textinput.Model
	writing bool // the path field has the keyboard
	note    string
	noteErr bool
}

func newShareScreen(c *common, out Outgoing) screen {
	s := newShare(c, out)
	s.refit(true)
	return s
}

// newShare is a share screen with the default settings, not fitted yet:
// set what differs, then refit(true).
func newShare(c *common, out Outgoing) *shareScreen {
	s := &shareScreen{c: c, out: out, density: qr.Normal, palette: qrPalette(), fps: qr.DefaultFPS, typ: transport.TypeFile}
	if pt, err := transport.Sniff(out.Data); err == nil {
		s.typ = pt.FrameType()
	}
	s.path = textinput.New()
	s.path.Prompt = "file> "
	s.path.Placeholder = "e.g. bob.sig: the path to write"
	s.path.CharLimit = 4096
	return s
}

// canWrite: w writes a file (there is a backend to write it; qr show
// has none).
func (s *shareScreen) canWrite() bool { return s.c.backend != nil }

// canDrop: d puts the packet in the drop folder (there is one).
func (s *shareScreen) canDrop() bool { return s.c.backend != nil && s.c.snap.DropDir != "" }

// area is the window the code is fitted to: the body, within the
// largest window asked for.
func (s *shareScreen) area() (w, h int) {
	w, h = s.c.width, s.c.height
	if s.maxW > 0 {
		w, h = min(w, s.maxW), min(h, s.maxH)
	}
	return w, max(h-s.c.chrome, 3)
}

// qrPalette picks the code's colours from the terminal's colour profile:
// explicit white on black where colours work, none under NO_COLOR (the
// code is then drawn in the default colours; v inverts it for light
// themes).
func qrPalette() qr.Palette {
	switch lipgloss.ColorProfile() {
	case termenv.Ascii:
		return qr.PaletteNone
	case termenv.ANSI:
		return qr.PaletteANSI
	case termenv.TrueColor:
		return qr.PaletteTrueColor
	}
	return qr.Palette256
}

// Init starts the frame timer.
func (s *shareScreen) Init() tea.Cmd { return s.keepTicking() }

func (s *shareScreen) Title() string { return "Share" }

// FixedBody: a long status must not re-lay the code out mid-scan.
func (s *shareScreen) FixedBody() bool { return true }

// Typing is true while the path field has the keyboard.
func (s *shareScreen) Typing() bool { return s.writing }

func (s *shareScreen) Bindings() []key.Binding {
	k := s.c.keys
	if s.writing {
		return []key.Binding{key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "write")), k.Back}
	}
	var bs []key.Binding
	if s.canWrite() {
		bs = append(bs, k.WriteFile)
	}
	if s.canDrop() {
		bs = append(bs, k.DropFile)
	}
	bs = append(bs, k.Step)
	if s.stepping {
		bs = append(bs, k.NextFrame, k.PrevFrame)
	}
	bs = append(bs, k.Faster, k.Slower, k.Denser, k.Sparser)
	if s.palette == qr.PaletteNone {
		bs = append(bs, k.Invert)
	}
	return bs
}

// refit fits the code to the window (at the current density) and cuts
// the packet into frames. A new layout restarts the frames at the first;
// the same layout keeps the player (a resize that changes nothing).
func (s *shareScreen) refit(force bool) {
	w, h := s.area()
	if !force && w == s.fitW && h == s.fitH {
		return
	}
	s.fitW, s.fitH = w, h
	if len(s.out.Data) == 0 {
		s.player, s.err = nil, errShareEmpty
		return
	}
	opts := qr.Options{Density: s.density, Mode: s.mode, Palette: s.palette, ReserveRows: qr.NoReserve, Invert: s.inverted}
	l, side, err := fitShare(w, h, opts)
	if err != nil {
		s.player, s.err = nil, err
		return
	}
	s.side = side
	if !force && s.player != nil && s.err == nil {
		old := s.player.Layout()
		if old.Version == l.Version && old.QuietZone == l.QuietZone {
			return
		}
	}
	seq, err := l.Encode(s.typ, s.out.Data)
	if err != nil {
		s.player, s.err = nil, err
		return
	}
	p := qr.NewPlayer(seq, l)
	p.SetFPS(s.fps)
	p.SetStepping(s.stepping)
	p.SetInverted(s.inverted)
	s.player, s.err = p, nil
}

// fitShare picks the larger of a code with the caption right of it and a
// code with the caption under it; side wins a tie.
func fitShare(w, h int, opts qr.Options) (qr.Layout, bool, error) {
	sl, serr := qr.Fit(w-shareSideCols-shareGap, h, opts)
	ul, uerr := qr.Fit(w, h-shareCaptionRows, opts)
	switch {
	case serr == nil && (uerr != nil || sl.Version >= ul.Version):
		return sl, true, nil
	case uerr == nil:
		return ul, false, nil
	}
	return qr.Layout{}, false, uerr
}

// minWindow is the smallest window (columns, rows, with the TUI's
// chrome) that holds a code with the caption under it.
func minWindow(opts qr.Options, chrome int) (cols, rows int) {
	opts.ReserveRows = qr.NoReserve
	cols, rows = 200, 200
	for c := 1; c < 200; c++ {
		if _, err := qr.Fit(c, 200, opts); err == nil {
			cols = c
			break
		}
	}
	for r := 1; r < 200; r++ {
		if _, err := qr.Fit(200, r, opts); err == nil {
			rows = r
			break
		}
	}
	return cols, rows + shareCaptionRows + chrome
}

// animating: a timer should be running.
func (s *shareScreen) animating() bool {
	return s.player != nil && !s.stepping && s.player.Sequence().Len() > 1
}

// keepTicking arms the timer when it should run and does not.
func (s *shareScreen) keepTicking() tea.Cmd {
	if s.armed || !s.animating() {
		return nil
	}
	return s.rearm()
}

// rearm starts a new timer, dropping the ticks of any older one.
func (s *shareScreen) rearm() tea.Cmd {
	s.gen++
	s.armed = false
	if !s.animating() {
		return nil
	}
	s.armed = true
	gen, d := s.gen, s.player.Interval()
	return tea.Tick(d, func(time.Time) tea.Msg { return shareTickMsg{s: s, gen: gen} })
}

func (s *shareScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case shareTickMsg:
		if msg.s != s || msg.gen != s.gen {
			return s, nil // another screen's, or a replaced timer's
		}
		s.armed = false
		if s.animating() {
			s.player.Next()
		}
	case tea.WindowSizeMsg:
		s.refit(false)
	case sharedMsg:
		if msg.s != s {
			break
		}
		switch {
		case msg.err != nil:
			s.note, s.noteErr = msg.err.Error(), true
			cmd = func() tea.Msg { return errMsg{"", msg.err} }
		case msg.drop:
			s.note, s.noteErr = "put in the drop folder: "+msg.path, false
			cmd = info(s.note)
		default:
			s.note, s.noteErr = "written to "+msg.path, false
			cmd = info(s.note)
		}
	case tea.KeyMsg:
		cmd = s.key(msg)
	default:
		if s.writing { // the field's cursor blinks
			s.path, cmd = s.path.Update(msg)
		}
	}
	return s, tea.Batch(cmd, s.keepTicking())
}

func (s *shareScreen) key(msg tea.KeyMsg) tea.Cmd {
	k := s.c.keys
	if s.writing {
		switch {
		case key.Matches(msg, k.Back):
			s.writing = false
			s.path.Blur()
			return nil
		case key.Matches(msg, k.Enter):
			path := strings.TrimSpace(s.path.Value())
			if path == "" {
				s.note, s.noteErr = "type a path, or esc", true
				return nil
			}
			s.writing = false
			s.path.Blur()
			data := s.out.Data
			return s.c.work("writing "+path, func(b Backend) tea.Msg {
				if err := b.WriteFile(path, data); err != nil {
					return sharedMsg{s: s, path: path, err: fmt.Errorf("%w %s: %w", errShareWrite, path, err)}
				}
				return sharedMsg{s: s, path: path}
			})
		}
		var cmd tea.Cmd
		s.path, cmd = s.path.Update(msg)
		return cmd
	}
	switch {
	case key.Matches(msg, k.WriteFile) && s.canWrite():
		s.writing = true
		s.path.SetValue(s.out.Name)
		s.path.CursorEnd()
		return s.path.Focus()
	case key.Matches(msg, k.DropFile) && s.canWrite() && !s.canDrop():
		s.note, s.noteErr = "there is no drop folder (start keremony with --drop DIR); w writes a file", true
		return nil
	case key.Matches(msg, k.DropFile) && s.canDrop():
		name, data := s.out.Name, s.out.Data
		return s.c.work("putting "+name+" in the drop folder", func(b Backend) tea.Msg {
			path, err := b.Drop(name, data)
			if err != nil {
				return sharedMsg{s: s, drop: true, err: fmt.Errorf("%w: %w", errShareDrop, err)}
			}
			return sharedMsg{s: s, drop: true, path: path}
		})
	case s.player == nil:
		return nil
	case key.Matches(msg, k.Step):
		s.stepping = !s.stepping
		s.player.SetStepping(s.stepping)
		return s.rearm()
	case key.Matches(msg, k.NextFrame):
		s.stepping = true
		s.player.SetStepping(true)
		s.player.Next()
		return s.rearm()
	case key.Matches(msg, k.PrevFrame):
		s.stepping = true
		s.player.SetStepping(true)
		s.player.Prev()
		return s.rearm()
	case key.Matches(msg, k.Faster):
		s.player.Faster()
		s.fps = s.player.FPS()
		return s.rearm()
	case key.Matches(msg, k.Slower):
		s.player.Slower()
		s.fps = s.player.FPS()
		return s.rearm()
	case key.Matches(msg, k.Denser), key.Matches(msg, k.Sparser):
		return s.changeDensity(key.Matches(msg, k.Denser))
	case key.Matches(msg, k.Invert):
		s.inverted = !s.inverted
		s.player.SetInverted(s.inverted)
		if s.palette != qr.PaletteNone {
			s.note, s.noteErr = "v matters without colours only: this code draws its own white on black", false
		}
	}
	return nil
}

// changeDensity moves one density up or down and recuts the frames.
func (s *shareScreen) changeDensity(denser bool) tea.Cmd {
	i := 0
	for j, d := range densities {
		if d == s.density {
			i = j
		}
	}
	switch {
	case denser && i == len(densities)-1:
		return info("already the highest density")
	case !denser && i == 0:
		return info("already the lowest density")
	case denser:
		i++
	default:
		i--
	}
	s.density = densities[i]
	s.refit(true)
	return s.rearm()
}

func (s *shareScreen) View() string {
	st := s.c.styles
	w, h := s.c.width, s.c.bodyHeight()
	s.refit(false) // a size the screen was not told of yet (a fresh common)
	if s.player == nil {
		return s.problemView()
	}
	lines, err := s.player.Layout().RenderLines(s.player.Text())
	if err != nil {
		out := st.Bad.Render("✗ " + err.Error())
		if s.canWrite() {
			out += "\n" + st.Subtle.Render("w writes the packet to a file instead")
		}
		return out
	}
	if s.side {
		capW := w - s.player.Layout().Cols - shareGap
		capt := s.caption(capW, true)
		var b strings.Builder
		for i := 0; i < min(max(len(lines), len(capt)), h); i++ {
			if i < len(lines) {
				b.WriteString(lines[i])
			} else {
				b.WriteString(strings.Repeat(" ", s.player.Layout().Cols))
			}
			if i < len(capt) {
				b.WriteString(strings.Repeat(" ", shareGap) + truncate(capt[i], capW))
			}
			b.WriteByte('\n')
		}
		return b.String()
	}
	capt := s.caption(w, false)
	out := append(lines[:len(lines):len(lines)], capt...)
	return strings.Join(out[:min(len(out), h)], "\n")
}

// problemView says why no code shows, and what to do.
func (s *shareScreen) problemView() string {
	st := s.c.styles
	w := s.c.width
	var out []string
	out = append(out, truncate(st.Strong.Render(show(s.out.Title)), w))
	if errors.Is(s.err, qr.ErrWindowTooSmall) {
		c, r := minWindow(qr.Options{Density: s.density, Mode: s.mode, Palette: s.palette}, s.c.chrome)
		text := fmt.Sprintf("The window is too small for a QR code: make the window at least %dx%d", c, r)
		if s.maxW > 0 && (s.maxW < c || s.maxH < r) {
			text = fmt.Sprintf("The code is kept within %dx%d, too small for a QR code: at least %dx%d is needed", s.maxW, s.maxH, c, r)
		}
		if s.density != qr.Low {
			text += ", or lower the density ([)"
		}
		if s.canWrite() {
			text += ", or write a file with w"
		}
		out = append(out, para(st.Warn.Render, "", text+".", w)...)
	} else if s.err != nil {
		out = append(out, para(st.Bad.Render, "✗ ", s.err.Error(), w)...)
		text := "A larger window or a higher density (]) may help"
		if s.canWrite() {
			text += "; w writes a file"
		}
		if s.canDrop() {
			text += ", d puts it in the drop folder"
		}
		out = append(out, para(st.Subtle.Render, "", text+".", w)...)
	}
	out = append(out, s.noteLines(w)...)
	return strings.Join(out, "\n")
}

// caption says what is shown and how: title, frame, speed, density.
func (s *shareScreen) caption(width int, side bool) []string {
	st := s.c.styles
	p := s.player
	seq := p.Sequence()
	l := p.Layout()
	mode := fmt.Sprintf("%d fps", p.FPS())
	if p.Stepping() {
		mode = "step mode"
	}
	frames := fmt.Sprintf("%d frames", seq.Len())
	if seq.Len() == 1 {
		frames = "1 frame"
	}
	pos := framePosition(p)
	dens := fmt.Sprintf("density %s (v%d) · %s", s.density, l.Version, frames)
	if !side {
		out := []string{
			truncate(st.Strong.Render(show(s.out.Title)), width),
			truncate(fmt.Sprintf("%s · %s · density %s (v%d)", pos, mode, s.density, l.Version), width),
		}
		if n := s.noteLines(width); len(n) > 0 {
			return append(out, n[0])
		}
		return append(out, truncate(st.Subtle.Render(fmt.Sprintf("%s · KC1 %s · %d bytes", frames, seq.Type(), seq.MessageSize())), width))
	}
	out := para(st.Strong.Render, "", s.out.Title, width)
	if len(out) > 3 {
		out = capLines(out, 3)
	}
	out = append(out, "", pos, mode, dens, st.Subtle.Render(fmt.Sprintf("KC1 %s · %d bytes", seq.Type(), seq.MessageSize())), "")
	out = append(out, s.noteLines(width)...)
	if !s.writing {
		var hint []string
		if s.canWrite() {
			hint = append(hint, st.Key.Render("w")+" write a file")
		}
		if s.canDrop() {
			hint = append(hint, st.Key.Render("d")+" drop folder")
		}
		hint = append(hint, st.Key.Render("space")+" step mode")
		if p.Stepping() {
			hint = append(hint, st.Key.Render("→ ←")+" frame by frame")
		}
		hint = append(hint, st.Key.Render("+ -")+" speed", st.Key.Render("] [")+" density")
		if s.palette == qr.PaletteNone {
			hint = append(hint, st.Key.Render("v")+" invert (light theme)")
		}
		out = append(out, "")
		out = append(out, hint...)
	}
	return out
}

// framePosition names the frame shown: "frame 3/17", then, once every
// frame was shown, "extra part 10 after 17" (a fountain part, which helps
// a scanner that missed frames).
func framePosition(p *qr.Player) string {
	part, n := p.Part()
	if part > n {
		return fmt.Sprintf("extra part %d after %d", part-n, n)
	}
	return fmt.Sprintf("frame %d/%d", part, n)
}

// noteLines are the path field, or the outcome of the last w or d,
// wrapped (a caption under the code shows the first line; the status line
// and the log have all of it).
func (s *shareScreen) noteLines(width int) []string {
	st := s.c.styles
	if s.writing {
		return []string{truncate(fieldLine(st, s.path), width)}
	}
	if s.note == "" {
		return nil
	}
	if s.noteErr {
		return para(st.Bad.Render, "✗ ", s.note, width)
	}
	return para(st.Good.Render, "✓ ", s.note, width)
}
