package tui

import (
	"bytes"
	"errors"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
)

var (
	errPassphraseEmpty    = errors.New("empty passphrase")
	errPassphraseMismatch = errors.New("the passphrases do not match")
)

// passphraseScreen asks for the file keystore's passphrase (twice for a new
// keystore). It is drawn by the root over whatever screen is open.
type passphraseScreen struct {
	c      *common
	create bool
	in     textinput.Model
	first  []byte // the first entry, when asking twice
	err    error
}

func newPassphraseScreen(c *common, create bool) *passphraseScreen {
	in := newTextInput()
	in.EchoMode = textinput.EchoPassword
	in.EchoCharacter = '•'
	in.Prompt = "passphrase: "
	in.CharLimit = 1024
	return &passphraseScreen{c: c, create: create, in: in}
}

func (p *passphraseScreen) focus() tea.Cmd { return p.in.Focus() }

// key takes a key press; done is set when the passphrase is complete (or
// the user gave up with esc).
func (p *passphraseScreen) key(msg tea.KeyMsg) (pass []byte, done bool, err error) {
	switch {
	case key.Matches(msg, p.c.keys.Back):
		return nil, true, errCanceled
	case key.Matches(msg, p.c.keys.Enter):
		v := []byte(p.in.Value())
		p.in.Reset()
		if len(v) == 0 {
			p.err = errPassphraseEmpty
			return nil, false, nil
		}
		if !p.create {
			return v, true, nil
		}
		if p.first == nil {
			p.first, p.err = v, nil
			p.in.Prompt = "repeat it:  "
			return nil, false, nil
		}
		first := p.first
		p.first = nil
		p.in.Prompt = "passphrase: "
		if !bytes.Equal(first, v) {
			clear(first)
			p.err = errPassphraseMismatch
			return nil, false, nil
		}
		return v, true, nil
	}
	p.in, _ = p.in.Update(msg)
	return nil, false, nil
}

func (p *passphraseScreen) View() string {
	st := p.c.styles
	s := st.Section.Render("Keystore passphrase") + "\n\n"
	if p.create {
		s += "This device has no OS keyring, so keys are kept in a file encrypted with a\npassphrase. Choose one; you will type it again to check it.\n\n"
	} else {
		s += "Keys are kept in a passphrase-protected file. Type its passphrase.\n\n"
	}
	s += fieldLine(p.c.styles, p.in) + "\n"
	if p.err != nil {
		s += "\n" + st.Bad.Render("✗ "+show(p.err.Error())) + "\n"
	}
	s += "\n" + st.Subtle.Render("enter to continue · esc to cancel") + "\n"
	return s
}
