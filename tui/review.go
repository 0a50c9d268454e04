package tui

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/keremony/keremony/kel"
)

// Errors of the review screen.
var (
	errNotSignable = errors.New("this device cannot sign this proposal")
	errSignFailed  = errors.New("signing failed")
)

// reviewLoadedMsg carries the backend's review of a proposal.
type reviewLoadedMsg struct {
	owner *reviewScreen
	info  ReviewInfo
	err   error
}

// signedMsg reports a signature made by this device: the packet, the
// ceremony that now holds it ("" when none could be found) and a fresh
// snapshot.
type signedMsg struct {
	owner      *reviewScreen
	out        Outgoing
	ceremonyID string
	snap       *Snapshot
	err        error
}

type reviewStep int

const (
	reviewLoading    reviewStep = iota // the backend is reviewing
	reviewShowing                      // the review, scrollable
	reviewConfirming                   // "sign as …?": y signs, any other key cancels
	reviewSigning                      // the backend is signing
	reviewDocument                     // o: the path of a document to check, in a text field
)

// reviewScreen shows a proposal as this device rebuilt and checked it,
// and signs it after an explicit confirmation: s, then y.
type reviewScreen struct {
	c       *common
	id      string
	started bool
	step    reviewStep
	info    ReviewInfo
	loaded  bool
	loadErr error
	vp      viewport.Model
	fitW    int // the content was wrapped at this width
	fitH    int // and laid out for this body height
	// docs are the documents opened to check digest seals (o), sent with
	// every review; doc is the field that asks for one.
	docs []string
	doc  textinput.Model
	// signErr is why the last signature failed, shown in full on top of
	// the review.
	signErr error
}

func newReviewScreen(c *common, proposalID string) screen {
	r := &reviewScreen{c: c, id: proposalID, vp: viewport.New(c.width, 1)}
	r.vp.KeyMap = scrollKeys(c.keys)
	r.doc = newTextInput()
	r.doc.Prompt = "document> "
	r.doc.Placeholder = "e.g. minutes.pdf (a path)"
	r.doc.CharLimit = 4096
	return r
}

// scrollKeys are the viewport's keys: the TUI's up, down and page keys
// only (its pager defaults use letters the screens need).
func scrollKeys(k KeyMap) viewport.KeyMap {
	off := key.NewBinding(key.WithDisabled())
	return viewport.KeyMap{Up: k.Up, Down: k.Down, PageUp: k.PageUp, PageDown: k.PageDown,
		HalfPageUp: off, HalfPageDown: off, Left: off, Right: off}
}

// Init asks the backend for the review.
func (r *reviewScreen) Init() tea.Cmd {
	if r.started {
		return nil
	}
	r.started = true
	return r.load("reviewing the proposal")
}

// load asks the backend for the review, with the documents opened so far.
func (r *reviewScreen) load(label string) tea.Cmd {
	id, docs := r.id, slices.Clone(r.docs)
	return r.c.work(label, func(b Backend) tea.Msg {
		info, err := b.Review(id, docs...)
		return reviewLoadedMsg{owner: r, info: info, err: err}
	})
}

func (r *reviewScreen) Title() string { return "Review " + shortID(show(r.id)) }

// Typing is true while the confirmation waits (every key then reaches the
// screen, and any key but y cancels, esc and q included) and while the
// document field has the keyboard.
func (r *reviewScreen) Typing() bool { return r.step == reviewConfirming || r.step == reviewDocument }

func (r *reviewScreen) Bindings() []key.Binding {
	k := r.c.keys
	switch r.step {
	case reviewConfirming:
		return []key.Binding{k.Confirm, k.Cancel}
	case reviewDocument:
		return []key.Binding{key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "check it")), k.Back}
	case reviewShowing:
		var bs []key.Binding
		if r.info.CanSign && len(r.info.Refusals) == 0 {
			bs = append(bs, k.Sign)
		}
		if r.hasDigestSeals() {
			bs = append(bs, k.OpenDoc)
		}
		return append(bs, k.Up, k.Down, k.PageDown)
	}
	return nil
}

// hasDigestSeals reports whether the event commits to documents by digest.
func (r *reviewScreen) hasDigestSeals() bool {
	if rv := r.info.Review; rv != nil {
		for _, s := range rv.Seals {
			if s.Seal.Kind == kel.SealDigest {
				return true
			}
		}
	}
	return false
}

func (r *reviewScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	var start tea.Cmd
	if !r.started {
		start = r.Init()
	}
	switch msg := msg.(type) {
	case reviewLoadedMsg:
		if msg.owner != r {
			break
		}
		r.step = reviewShowing
		if msg.err != nil {
			r.loadErr = msg.err
			return r, tea.Batch(start, func() tea.Msg { return errMsg{"reviewing the proposal", msg.err} })
		}
		r.info, r.loaded, r.loadErr = msg.info, true, nil
		r.layout(true)
	case signedMsg:
		if msg.owner != r {
			break
		}
		return r, tea.Batch(start, r.signed(msg))
	case tea.WindowSizeMsg:
		r.layout(false)
	case tea.KeyMsg:
		return r, tea.Batch(start, r.key(msg))
	}
	if r.step == reviewDocument {
		var cmd tea.Cmd
		r.doc, cmd = r.doc.Update(msg)
		return r, tea.Batch(start, cmd)
	}
	return r, start
}

func (r *reviewScreen) key(msg tea.KeyMsg) tea.Cmd {
	k := r.c.keys
	switch r.step {
	case reviewConfirming:
		if key.Matches(msg, k.Confirm) {
			r.step = reviewSigning
			return r.sign()
		}
		r.step = reviewShowing
		return info("not signed")
	case reviewDocument:
		switch {
		case key.Matches(msg, k.Back):
			r.step = reviewShowing
			r.doc.Blur()
			return nil
		case msg.Type == tea.KeyEnter:
			path := strings.TrimSpace(r.doc.Value())
			r.step = reviewShowing
			r.doc.Blur()
			if path == "" {
				return nil
			}
			if !slices.Contains(r.docs, path) {
				r.docs = append(r.docs, path)
			}
			return r.load("checking " + path)
		}
		var cmd tea.Cmd
		r.doc, cmd = r.doc.Update(msg)
		return cmd
	case reviewShowing:
		if key.Matches(msg, k.Sign) {
			if err := r.signable(); err != nil {
				return func() tea.Msg { return errMsg{"", err} }
			}
			r.step = reviewConfirming
			return nil
		}
		if key.Matches(msg, k.OpenDoc) && r.hasDigestSeals() {
			r.step = reviewDocument
			r.doc.Reset()
			wizSetWidth(&r.doc, r.c.width)
			return r.doc.Focus()
		}
		r.layout(false)
		var cmd tea.Cmd
		r.vp, cmd = r.vp.Update(msg)
		return cmd
	}
	return nil
}

// signable says why this device must not sign, nil when it may.
func (r *reviewScreen) signable() error {
	in := r.info
	switch {
	case !r.loaded:
		return fmt.Errorf("%w: the review did not complete", errNotSignable)
	case len(in.Refusals) > 0:
		return fmt.Errorf("%w: %s", errNotSignable, in.Refusals[0])
	case in.Signed:
		return fmt.Errorf("%w: it has already signed it", errNotSignable)
	case in.Member == "":
		return fmt.Errorf("%w: no member of this device takes part in it", errNotSignable)
	case in.Review == nil || !in.Review.Passed():
		return fmt.Errorf("%w: the review did not pass", errNotSignable)
	case in.Review.Index < 0:
		return fmt.Errorf("%w: %s has no signing key in this event", errNotSignable, in.Member)
	case !in.CanSign:
		return errNotSignable
	}
	return nil
}

// sign signs in a command, then finds the ceremony holding the signature:
// the review's, else the snapshot's ceremony of this proposal, else a
// fresh review's.
func (r *reviewScreen) sign() tea.Cmd {
	id, cid := r.id, r.info.CeremonyID
	return r.c.work("signing", func(b Backend) tea.Msg {
		out, err := b.Sign(id)
		if err != nil {
			return signedMsg{owner: r, err: err}
		}
		m := signedMsg{owner: r, out: out, ceremonyID: cid}
		if s, err := b.Snapshot(); err == nil {
			m.snap = &s
			if m.ceremonyID == "" {
				for _, ci := range s.Ceremonies {
					if ci.ProposalID == id {
						m.ceremonyID = ci.ID
						break
					}
				}
			}
		}
		if m.ceremonyID == "" {
			if in, err := b.Review(id); err == nil {
				m.ceremonyID = in.CeremonyID
			}
		}
		return m
	})
}

// signed replaces the review with the ceremony's progress, says where the
// signature went and, with no drop folder, opens the share screen on it.
func (r *reviewScreen) signed(msg signedMsg) tea.Cmd {
	if msg.err != nil {
		r.step = reviewShowing
		r.signErr = fmt.Errorf("%w: %w", errSignFailed, msg.err)
		r.layout(true)
		err := r.signErr
		return func() tea.Msg { return errMsg{"", err} }
	}
	var cmds []tea.Cmd
	if msg.snap != nil {
		snap := *msg.snap
		cmds = append(cmds, func() tea.Msg { return snapshotMsg{snap} })
	}
	if msg.ceremonyID != "" {
		cmds = append(cmds, replace(newCollectScreen(r.c, msg.ceremonyID)))
	} else {
		cmds = append(cmds, func() tea.Msg { return popMsg{} })
	}
	text := "signed " + r.signAs()
	if msg.out.Dropped != "" {
		text += ": the signature is in the drop folder (" + msg.out.Dropped + ")"
		return tea.Sequence(append(cmds, info(text))...)
	}
	text += ": no drop folder — show the signature's QR codes to the collector or write it to a file (w)"
	sh := newShareScreen(r.c, msg.out)
	return tea.Sequence(append(cmds, push(sh), info(text))...)
}

// signAs names who signs where: "as alice at k[1]".
func (r *reviewScreen) signAs() string {
	in := r.info
	who := show(in.Member)
	if rv := in.Review; rv != nil {
		if rv.Label != "" && rv.Label != in.Member {
			who += " (" + show(rv.Label) + " in the group)"
		}
		return fmt.Sprintf("as %s at k[%d]", who, rv.Index)
	}
	return "as " + who
}
