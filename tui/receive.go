package tui

import (
	"errors"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/keremony/keremony/qr"
	"github.com/keremony/keremony/transport"
)

// receiveMode is how a receive screen takes its input.
type receiveMode int

const (
	receiveFrames receiveMode = iota // KC1 frames typed or sent by a keyboard-wedge scanner
	receiveFile                      // a packet file
	receiveImage                     // an image of one QR frame
)

var receiveModeNames = []string{"scan or type QR frames", "read a file", "decode a QR image"}

// imageFrameMsg is the text of a QR code decoded from an image.
type imageFrameMsg struct{ path, text string }

// received reports a packet handed to the backend.
type received struct{ notices []Notice }

// errImport marks a refused frame, file or image (the collected frames and
// everything stored stay as they were).
var errImport = errors.New("import refused")

// receiveScreen takes packets that arrive other than through the drop
// folder: KC1 frames from a scanner (or typed), a file, or an image. While
// it has the keyboard, letters go into the field (a scanned "q" must not
// quit): esc leaves, ctrl+c quits.
type receiveScreen struct {
	c       *common
	mode    receiveMode
	in      textinput.Model
	rx      *transport.Receiver
	prog    transport.Progress
	last    string // the outcome of the last input, for the user
	lastErr bool
	// doneMID is the message last completed: the scanner keeps reading
	// its animation, and those frames are ignored quietly (ignored
	// counts them), so that its outcome stays on screen.
	doneMID string
	ignored int
	// decoded says what the last image held.
	decoded string
	// context says what the screen was opened for ("signatures for
	// ceremony …"), "" for a general import.
	context string
}

func newReceiveScreen(c *common, context string) *receiveScreen {
	r := &receiveScreen{c: c, rx: transport.NewReceiver(), context: context}
	r.in = newTextInput()
	r.in.CharLimit = 8192
	r.setMode(receiveFrames)
	return r
}

func (r *receiveScreen) setMode(m receiveMode) {
	r.mode = m
	r.in.Reset()
	switch m {
	case receiveFrames:
		r.in.Prompt = "frame> "
		r.in.Placeholder = "e.g. KC1:C/1-3/… (what the scanner types)"
	case receiveFile:
		r.in.Prompt = "file> "
		r.in.Placeholder = "e.g. card-bob.json: a card, proposal, signature or kel file"
	case receiveImage:
		r.in.Prompt = "image> "
		r.in.Placeholder = "e.g. photo.png: a PNG, JPEG or GIF of one QR frame"
	}
	r.in.Focus()
}

func (r *receiveScreen) Title() string { return "Import" }
func (r *receiveScreen) Typing() bool  { return true }
func (r *receiveScreen) Bindings() []key.Binding {
	k := r.c.keys
	return []key.Binding{k.Enter, key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "frames/file/image"))}
}

func (r *receiveScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case imageFrameMsg:
		r.decoded = describeFrame(msg.path, msg.text)
		return r, r.frame(msg.text, "image "+msg.path)
	case received:
		r.outcome(msg.notices)
		return r, func() tea.Msg { return noticesMsg{msg.notices} }
	case errMsg:
		r.last, r.lastErr = msg.err.Error(), true
		return r, nil
	case tea.KeyMsg:
		switch {
		case key.Matches(msg, r.c.keys.Back):
			return r, pop
		case msg.Type == tea.KeyTab:
			r.setMode((r.mode + 1) % 3)
			return r, nil
		case key.Matches(msg, r.c.keys.Enter):
			v := strings.TrimSpace(r.in.Value())
			r.in.Reset()
			if v == "" {
				return r, nil
			}
			return r, r.submit(v)
		}
	}
	var cmd tea.Cmd
	r.in, cmd = r.in.Update(msg)
	return r, cmd
}

// outcome summarizes what the backend did with a received packet; it
// stays on screen until the next outcome.
func (r *receiveScreen) outcome(ns []Notice) {
	if len(ns) == 0 {
		r.last, r.lastErr = "imported; nothing new for this device", false
		return
	}
	var texts []string
	bad := false
	for _, n := range ns {
		texts = append(texts, n.Text)
		bad = bad || n.Err != nil
	}
	r.last, r.lastErr = "imported: "+strings.Join(texts, "; "), bad
}

func (r *receiveScreen) submit(v string) tea.Cmd {
	switch r.mode {
	case receiveFrames:
		return r.frame(v, "qr frames")
	case receiveFile:
		path := v
		return r.c.work("reading "+path, func(b Backend) tea.Msg {
			data, err := b.ReadFile(path, transport.MaxPacketSize)
			if err != nil {
				return errMsg{"reading " + path, fmt.Errorf("%w: %w", errImport, err)}
			}
			ns, err := b.Receive(path, data)
			if err != nil {
				return errMsg{path, fmt.Errorf("%w: %w", errImport, err)}
			}
			return received{ns}
		})
	default:
		path := v
		r.decoded = ""
		return r.c.work("decoding "+path, func(Backend) tea.Msg {
			text, err := qr.DecodeFile(path)
			if err != nil {
				return errMsg{"decoding " + path, fmt.Errorf("%w: %w", errImport, err)}
			}
			return imageFrameMsg{path, text}
		})
	}
}

// describeFrame says what an image decoded to: which frame of which
// message, or that the text is no KC1 frame.
func describeFrame(path, text string) string {
	f, err := transport.ParseFrame(text)
	if err != nil {
		shown := []rune(text)
		if len(shown) > 40 {
			shown = append(shown[:40], '…')
		}
		return fmt.Sprintf("decoded %s: %q, which is not a KC1 frame", path, string(shown))
	}
	part := fmt.Sprintf("part %d of %d", f.Seq, f.Total)
	if int(f.Seq) > f.Total {
		part = fmt.Sprintf("extra part %d (the message has %d parts)", int(f.Seq)-f.Total, f.Total)
	}
	return fmt.Sprintf("decoded %s: a KC1 frame, %s of message %s (type %s)", path, part, f.MID, f.Type)
}

// frame adds one frame; a complete message goes to the backend. Frames
// of the message just completed are ignored quietly.
func (r *receiveScreen) frame(text, source string) tea.Cmd {
	if f, err := transport.ParseFrame(text); err == nil && r.doneMID != "" && f.MID == r.doneMID {
		r.ignored++
		return nil
	}
	p, err := r.rx.Add(text)
	if errors.Is(err, transport.ErrOtherMessage) && !r.prog.Done && r.prog.Held == 0 {
		r.rx.Reset()
		p, err = r.rx.Add(text)
	}
	if err != nil {
		r.last, r.lastErr = fmt.Sprintf("frame refused (the %d frames collected are kept): %v", r.prog.Frames, err), true
		return nil
	}
	r.prog = p
	if r.lastErr {
		r.last, r.lastErr = "", false
	}
	if !p.Done {
		return nil
	}
	_, data, _ := r.rx.Message()
	r.rx.Reset()
	r.prog = transport.Progress{}
	r.doneMID, r.ignored = p.MID, 0
	r.last, r.lastErr = fmt.Sprintf("message %s complete (%d frames): importing…", p.MID, p.Frames), false
	discarded := p.Discarded
	return r.c.work("importing", func(b Backend) tea.Msg {
		ns, err := b.Receive(source, data)
		if err != nil {
			return errMsg{source, fmt.Errorf("%w: %w", errImport, err)}
		}
		if discarded > 0 {
			ns = append(ns, Notice{Text: fmt.Sprintf("%d frames of this message's id did not belong to it and were discarded", discarded)})
		}
		return received{ns}
	})
}

func (r *receiveScreen) View() string {
	st := r.c.styles
	var b strings.Builder
	if r.context != "" {
		b.WriteString(st.Subtle.Render(show(r.context)) + "\n")
	}
	for i, name := range receiveModeNames {
		mark := "  "
		if receiveMode(i) == r.mode {
			mark = st.Cursor.Render("> ")
			name = st.Selected.Render(name)
		}
		b.WriteString(mark + name + "\n")
	}
	b.WriteString("\n" + fieldLine(st, r.in) + "\n\n")
	w := r.c.width
	if r.mode == receiveFrames {
		p := r.prog
		if p.Total > 0 {
			b.WriteString(fmt.Sprintf("frames: %d received, %d of %d parts known %s\n", p.Frames, p.Held, p.Total, bar(p.Fraction(), 20)))
			if p.Contradicting > 0 {
				b.WriteString(st.Warn.Render(fmt.Sprintf("%d frames contradict the others: held aside until the message checks out", p.Contradicting)) + "\n")
			}
		} else if r.last == "" {
			b.WriteString(st.Subtle.Render("Point a keyboard-wedge scanner at the other screen (each frame ends with\nenter), or type a frame. Frames may come in any order; repeats are fine.") + "\n")
		}
	}
	if r.mode == receiveImage && r.decoded != "" {
		b.WriteString(strings.Join(para(st.Info.Render, "", r.decoded, w), "\n") + "\n")
	}
	if r.last != "" {
		if r.lastErr {
			b.WriteString(strings.Join(para(st.Bad.Render, "✗ ", r.last, w), "\n") + "\n")
		} else {
			b.WriteString(strings.Join(para(st.Good.Render, "✓ ", r.last, w), "\n") + "\n")
		}
	}
	if r.ignored > 0 {
		b.WriteString(st.Subtle.Render(fmt.Sprintf("%d more frames of message %s ignored: it is imported already", r.ignored, r.doneMID)) + "\n")
	}
	return b.String()
}

// bar draws a progress bar of width cells.
func bar(frac float64, width int) string {
	n := int(frac*float64(width) + 0.5)
	n = min(max(n, 0), width)
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "]"
}
