package tui

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/internal/safetext"
	"github.com/keremony/keremony/kel"
)

// The steps of the anchoring wizard.
const (
	ancSeals = iota
	ancPropose
)

var ancSteps = []string{"seals", "propose"}

// Fields of the seals step, in focus order.
const (
	ancFocusList = iota
	ancFocusAID
	ancFocusSn
	ancFocusSAID
	ancFocusFile
	ancFocusExpires
	ancFieldCount
)

// ancFields is the number of focusable fields of each step.
var ancFields = []int{ancSeals: ancFieldCount, ancPropose: 1}

// anchorFileLimit is the largest document whose digest the wizard takes.
const anchorFileLimit = 256 << 20

// anchorDocMsg carries the digest seal of a document read through the
// backend.
type anchorDocMsg struct {
	path string
	seal kel.Seal
	size int
}

// anchorSeal is a seal of the list and what it stands for, for the user;
// a document's seal carries its note (name and size) for the co-signers.
type anchorSeal struct {
	seal kel.Seal
	what string
	note *ceremony.DocumentNote
}

// anchorWizard proposes an interaction event of a group anchoring seals:
// events of other KELs (prefix, sn, SAID) and digests of documents.
type anchorWizard struct {
	c      *common
	prefix string
	wizNav
	seals   pickList[anchorSeal]
	aid     textinput.Model
	sn      textinput.Model
	said    textinput.Model
	file    textinput.Model
	expires textinput.Model
	formErr error  // why a seal was not added
	docErr  bool   // formErr is about the document, not the event seal
	reading string // context of the document read in flight
}

func newAnchorWizard(c *common, prefix string) screen {
	w := &anchorWizard{c: c, prefix: prefix, expires: newExpiryField()}
	w.wizNav = newWizNav("anchoring", ancFields, w.checkStep, w.applyFocus)
	mk := func(prompt, placeholder string, limit int) textinput.Model {
		in := newTextInput()
		in.Prompt, in.Placeholder, in.CharLimit = prompt, placeholder, limit
		return in
	}
	w.aid = mk("AID  > ", "e.g. E… (a prefix) or a group alias of this device", 128)
	w.sn = mk("sn   > ", "e.g. 3: the event's sequence number", 20)
	w.said = mk("SAID > ", "e.g. E…: the event's digest", 128)
	w.file = mk("file > ", "e.g. minutes.pdf: a document to commit to by its digest", 4096)
	w.layout()
	return w
}

func (w *anchorWizard) group() (GroupInfo, bool) { return w.c.snap.Group(w.prefix) }

func (w *anchorWizard) Title() string {
	if g, ok := w.group(); ok {
		return "Anchor in " + show(g.Name())
	}
	return "Anchor"
}

func (w *anchorWizard) Typing() bool { return w.step == ancSeals && w.focus[ancSeals] != ancFocusList }

func (w *anchorWizard) Bindings() []key.Binding {
	k := w.c.keys
	switch {
	case w.step == ancPropose:
		return []key.Binding{k.Propose, k.PrevStep}
	case w.focus[ancSeals] == ancFocusList:
		return []key.Binding{k.NextStep, k.Remove, k.Up, k.Down}
	}
	return []key.Binding{k.NextStep, k.PrevStep}
}

func (w *anchorWizard) inputs() []*textinput.Model {
	return []*textinput.Model{ancFocusAID: &w.aid, ancFocusSn: &w.sn, ancFocusSAID: &w.said, ancFocusFile: &w.file, ancFocusExpires: &w.expires}
}

func (w *anchorWizard) layout() {
	for _, in := range w.inputs() {
		if in != nil {
			wizSetWidth(in, w.c.width)
		}
	}
}

func (w *anchorWizard) applyFocus() tea.Cmd {
	var cmds []tea.Cmd
	for i, in := range w.inputs() {
		if in == nil {
			continue
		}
		if w.step == ancSeals && w.focus[ancSeals] == i {
			cmds = append(cmds, in.Focus())
		} else {
			in.Blur()
		}
	}
	return tea.Batch(cmds...)
}

// resolveAID reads the AID field: a prefix, or the alias of a group of
// this device. name is the group's name when the device holds its KEL.
func (w *anchorWizard) resolveAID() (prefix, name string) {
	text := strings.TrimSpace(w.aid.Value())
	if g, ok := w.c.snap.Group(text); ok {
		return g.Prefix, g.Name()
	}
	return text, ""
}

// eventSeal checks the three fields of an event seal.
func (w *anchorWizard) eventSeal() (anchorSeal, error) {
	aidText := strings.TrimSpace(w.aid.Value())
	snText := strings.TrimSpace(w.sn.Value())
	said := strings.TrimSpace(w.said.Value())
	switch {
	case aidText == "":
		return anchorSeal{}, fmt.Errorf("%w: type the identifier (AID) of the event", errSeal)
	case snText == "":
		return anchorSeal{}, fmt.Errorf("%w: type the sequence number of the event", errSeal)
	case said == "":
		return anchorSeal{}, fmt.Errorf("%w: type the SAID (digest) of the event", errSeal)
	}
	prefix, name := w.resolveAID()
	if _, err := kel.DecodeMatter(prefix, kel.CodeEd25519, kel.CodeEd25519N, kel.CodeBlake3_256); err != nil {
		return anchorSeal{}, fmt.Errorf("%w: the AID %q is neither an identifier prefix nor a group of this device: %w", errSeal, aidText, err)
	}
	sn, err := parseSn(snText)
	if err != nil {
		return anchorSeal{}, fmt.Errorf("%w: sequence number %q: write a whole number such as 3", errSeal, snText)
	}
	if _, err := kel.DecodeMatter(said, kel.CodeBlake3_256, kel.CodeBlake2b256, kel.CodeSHA3_256, kel.CodeBlake3_512); err != nil {
		return anchorSeal{}, fmt.Errorf("%w: the SAID %q is not a digest: %w", errSeal, said, err)
	}
	if name == "" {
		name = shortID(prefix)
	}
	return anchorSeal{seal: kel.EventSeal(prefix, sn, said), what: fmt.Sprintf("event %d of %s", sn, name)}, nil
}

// parseSn reads a sequence number: decimal, or hex with 0x.
func parseSn(s string) (uint64, error) {
	if h, ok := strings.CutPrefix(s, "0x"); ok {
		return strconv.ParseUint(h, 16, 64)
	}
	return strconv.ParseUint(s, 10, 64)
}

// add puts a seal in the list unless it is there already.
func (w *anchorWizard) add(s anchorSeal) error {
	if slices.ContainsFunc(w.seals.items, func(o anchorSeal) bool { return o.seal == s.seal }) {
		return fmt.Errorf("%w: %s is in the list already", errSeal, s.what)
	}
	w.seals.items = append(w.seals.items, s)
	w.seals.cursor = len(w.seals.items) - 1
	return nil
}

func (w *anchorWizard) addEvent() tea.Cmd {
	s, err := w.eventSeal()
	if err == nil {
		err = w.add(s)
	}
	if err != nil {
		w.formErr, w.docErr = err, false
		return w.fail(err)
	}
	w.formErr = nil
	w.aid.Reset()
	w.sn.Reset()
	w.said.Reset()
	w.focus[ancSeals] = ancFocusAID
	return tea.Batch(w.applyFocus(), info("added the seal of "+s.what))
}

func (w *anchorWizard) readDocument() tea.Cmd {
	if w.reading != "" {
		return nil
	}
	path := strings.TrimSpace(w.file.Value())
	ctx := "reading " + path
	w.reading, w.formErr = ctx, nil
	return w.c.work(ctx, func(b Backend) tea.Msg {
		data, err := b.ReadFile(path, anchorFileLimit)
		if err != nil {
			return errMsg{ctx, err}
		}
		return anchorDocMsg{path: path, seal: kel.DigestSeal(data), size: len(data)}
	})
}

func (w *anchorWizard) checkStep(step int) error {
	g, ok := w.group()
	if !ok {
		return fmt.Errorf("%w: %s", errNoGroup, w.prefix)
	}
	if step == ancSeals {
		if slices.Contains(g.State.Config, "EO") {
			return errAnchorEO
		}
		if len(w.seals.items) == 0 {
			return fmt.Errorf("%w: an event seal or the digest of a document", errNoSeals)
		}
		if _, err := parseExpiry(w.expires.Value()); err != nil {
			return err
		}
	}
	return nil
}

// request is the proposal the wizard collected, once every step is right.
func (w *anchorWizard) request() AnchoringRequest {
	exp, _ := parseExpiry(w.expires.Value())
	r := AnchoringRequest{Group: w.prefix, Expires: exp}
	for _, s := range w.seals.items {
		r.Seals = append(r.Seals, s.seal)
		if s.note != nil && !slices.ContainsFunc(r.Documents, func(n ceremony.DocumentNote) bool { return n.Digest == s.note.Digest }) {
			r.Documents = append(r.Documents, *s.note)
		}
	}
	return r
}

func (w *anchorWizard) propose() tea.Cmd {
	return wizStart(w.c, &w.wizNav, w.request, func(req AnchoringRequest) (string, string) {
		g, _ := w.group()
		return "proposing the anchoring in " + show(g.Name()), safetext.Sprintf("the anchoring of %d seals in %s", len(req.Seals), g.Name())
	}, Backend.ProposeAnchoring)
}

func (w *anchorWizard) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case anchorDocMsg:
		w.reading = ""
		name := msg.path
		if i := strings.LastIndexAny(name, `/\`); i >= 0 && i < len(name)-1 {
			name = name[i+1:]
		}
		s := anchorSeal{seal: msg.seal, what: safetext.Sprintf("document %s (%s)", name, byteWords(msg.size))}
		if n, ok := ceremony.NoteDocument(msg.path, msg.seal.D, int64(msg.size)); ok {
			s.note = &n
		}
		if err := w.add(s); err != nil {
			w.formErr, w.docErr = err, true
			return w, w.fail(err)
		}
		w.file.Reset()
		return w, info("added the digest of " + msg.path)
	case errMsg:
		if msg.context == w.reading && w.reading != "" && msg.context != w.pending {
			w.reading, w.formErr, w.docErr = "", msg.err, true
			return w, nil
		}
	}
	return wizUpdate(w, w.c, msg)
}

func (w *anchorWizard) key(msg tea.KeyMsg) tea.Cmd {
	k := w.c.keys
	f := w.focus[ancSeals]
	// Enter on the form adds a seal; esc, shift+tab, enter and tab move
	// otherwise.
	switch {
	case w.step == ancSeals && msg.Type == tea.KeyEnter && f >= ancFocusAID && f <= ancFocusSAID:
		// Enter adds the event seal once its three fields are filled.
		if strings.TrimSpace(w.aid.Value()) != "" && strings.TrimSpace(w.sn.Value()) != "" && strings.TrimSpace(w.said.Value()) != "" {
			return w.addEvent()
		}
		return w.forward()
	case w.step == ancSeals && msg.Type == tea.KeyEnter && f == ancFocusFile && strings.TrimSpace(w.file.Value()) != "":
		return w.readDocument()
	}
	if cmd, ok := w.navKey(msg, k); ok {
		return cmd
	}
	if w.step == ancPropose {
		if key.Matches(msg, k.Propose) {
			return w.propose()
		}
		return nil
	}
	if f == ancFocusList {
		switch {
		case key.Matches(msg, k.Remove):
			w.seals.remove()
			w.err = nil
		case msg.Type == tea.KeyDown && w.seals.cursor >= len(w.seals.items)-1:
			w.focus[ancSeals] = ancFocusAID
			return w.applyFocus()
		default:
			w.seals.navigate(msg, k)
		}
		return nil
	}
	if cmd, ok := w.arrowKey(msg, k, false); ok {
		return cmd
	}
	return w.updateField(msg)
}

func (w *anchorWizard) updateField(msg tea.Msg) tea.Cmd {
	if w.step != ancSeals {
		return nil
	}
	ins := w.inputs()
	f := w.focus[ancSeals]
	if f <= ancFocusList || f >= len(ins) || ins[f] == nil {
		return nil
	}
	var cmd tea.Cmd
	*ins[f], cmd = ins[f].Update(msg)
	return cmd
}

func (w *anchorWizard) View() string {
	st := w.c.styles
	width, height := w.c.width, w.c.bodyHeight()
	g, ok := w.group()
	if !ok {
		return wizBody([]string{st.Bad.Render("✗ ") + safetext.Sprintf("%v: %s", errNoGroup, w.prefix)}, nil, width, height)
	}
	main := []string{wizTrail(st, ancSteps, w.step, width)}
	if w.step == ancPropose {
		main, hints := w.summary(g, main, width, height)
		return wizBody(main, hints, width, height)
	}
	main = append(main, wizWrap(safetext.Sprintf("Seals to anchor in %s (an interaction event at sn %d):", g.Name(), g.State.Sn+1), width, "")...)
	if slices.Contains(g.State.Config, "EO") {
		main = append(main, wizWrap(st.Bad.Render("✗ ")+errAnchorEO.Error(), width, "  ")...)
	}
	var form []string
	form = append(form, st.Strong.Render("Add an event seal")+" (an event of a KEL: enter in its last field adds it)")
	form = append(form, fieldLine(st, w.aid))
	if prefix, name := w.resolveAID(); name != "" {
		if h, ok := w.c.snap.Group(prefix); ok {
			form = append(form, truncate(st.Subtle.Render(safetext.Sprintf("    %s: latest event sn %d, SAID %s", name, h.State.Sn, h.State.Last)), width))
		}
	}
	formErr := func() {
		form = append(form, wizWrap("    "+st.Bad.Render("✗ ")+w.formErr.Error(), width, "      ")...)
	}
	form = append(form, fieldLine(st, w.sn), fieldLine(st, w.said))
	if w.formErr != nil && !w.docErr {
		formErr()
	}
	form = append(form, st.Strong.Render("Add the digest of a document")+" (enter reads it)")
	form = append(form, fieldLine(st, w.file))
	if w.reading != "" {
		form = append(form, st.Info.Render("    … "+show(w.reading)))
	}
	if w.formErr != nil && w.docErr {
		formErr()
	}
	form = append(form, expiryLines(w.c, w.expires, width)...)
	form = append(form, w.errLines(st, width)...)
	focused := w.focus[ancSeals] == ancFocusList
	rows := w.seals.lines(st, width, max(height-len(main)-len(form), 1), focused, func(i int, s anchorSeal) string {
		return safetext.Sprintf("%d. %s  %s", i+1, s.what, sealDigest(s.seal))
	})
	if len(rows) == 0 {
		line := "  none yet: add an event seal or a document below"
		if focused {
			line = st.Cursor.Render("> ") + "none yet: add an event seal or a document below"
		}
		rows = []string{st.Subtle.Render(line)}
	}
	main = append(append(main, rows...), form...)
	var hints []string
	if focused && len(w.seals.items) > 0 {
		hints = []string{st.Subtle.Render("d deletes the selected seal; tab moves to the fields.")}
	}
	return wizBody(main, hints, width, height)
}

// sealDigest is the digest a seal commits to, shortened.
func sealDigest(s kel.Seal) string { return shortID(s.D) }

func (w *anchorWizard) summary(g GroupInfo, main []string, width, height int) ([]string, []string) {
	st := w.c.styles
	main = append(main, st.Section.Render(safetext.Sprintf("Anchoring in %s: an interaction event at sn %d", g.Name(), g.State.Sn+1)))
	room := max((height-9)/2, 1)
	for i, s := range w.seals.items {
		if i == room-1 && len(w.seals.items) > room {
			main = append(main, st.Subtle.Render(fmt.Sprintf("  … and %d more", len(w.seals.items)-i)))
			break
		}
		main = append(main, truncate(safetext.Sprintf("  %d. %s", i+1, s.what), width))
		switch s.seal.Kind {
		case kel.SealEvent:
			main = append(main, truncate(fmt.Sprintf("     %s SAID %s", shortID(s.seal.I), s.seal.D), width))
		default:
			main = append(main, truncate("     digest "+s.seal.D, width))
		}
	}
	main = append(main, wizWrap(safetext.Sprintf("  signers   %s (the group's current keys)", g.KtText), width, "            ")...)
	exp, _ := parseExpiry(w.expires.Value())
	main = append(main, "  expires   "+expiryWords(w.c, exp))
	main = append(main, w.statusLines(st, width)...)
	hints := wizWrap(st.Subtle.Render("p proposes: this device records the ceremony and writes the proposal to the drop folder (when there is one); the members review the seals and sign."), width, "")
	return main, hints
}

// byteWords is a size in bytes for the user: "1 byte", "2048 bytes".
func byteWords(n int) string {
	if n == 1 {
		return "1 byte"
	}
	return strconv.Itoa(n) + " bytes"
}

// HandlesBack: esc goes back a step (and pops from the first one).
func (w *anchorWizard) HandlesBack() bool { return true }
