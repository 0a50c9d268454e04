package tui

// Pieces the three ceremony wizards share: the threshold field with its
// live validation and plain-language reading, the ordered pick list, the
// expiry field, the step trail and the layout helpers.

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/kel"
)

// Errors of the wizards. Threshold errors come from kel (they wrap
// kel.ErrThreshold).
var (
	errExpiry     = errors.New("invalid expiry")
	errNoLocal    = errors.New("choose at least one member of this device")
	errNoKeys     = errors.New("no chosen member has a signing key")
	errSameLabel  = errors.New("two members have the same label")
	errGroupAlias = errors.New("invalid group alias")
	errNoGroup    = errors.New("this device holds no kel of the group")
	errPriorNext  = errors.New("not enough members rotate")
	errNoNext     = errors.New("the new next key list is empty")
	errSeal       = errors.New("invalid seal")
	errNoSeals    = errors.New("add at least one seal")
	errAnchorEO   = errors.New("the group is establishment-only (EO): it cannot anchor with an interaction event")
)

// thresholdShort is a threshold over n keys in a few characters: "2 of 3",
// or the weights.
func thresholdShort(th kel.Threshold, n int) string {
	if th.IsWeighted() {
		return th.String()
	}
	return fmt.Sprintf("%d of %d", th.Int(), n)
}

// defaultThreshold is the text of the default threshold over n keys:
// the same policy the command line applies (ceremony.DefaultThreshold).
func defaultThreshold(n int) string { return ceremony.DefaultThreshold(n).Text() }

// thresholdField is a text field for kt or nt, checked as the user types
// against the number of keys (or next digests) and read in plain words with
// the members' labels.
type thresholdField struct {
	in      textinput.Model
	edited  bool // the user typed into it (defaults no longer apply)
	th      kel.Threshold
	err     error // why the text is no threshold for these keys (wraps kel.ErrThreshold)
	reading string
}

func newThresholdField(prompt string) thresholdField {
	in := newTextInput()
	in.Prompt = prompt
	in.CharLimit = 4096
	in.Placeholder = "e.g. 2, or 1/2,1/4,1/4"
	return thresholdField{in: in}
}

// setDefault puts text in the field unless the user has typed into it.
func (f *thresholdField) setDefault(text string) {
	if !f.edited && f.in.Value() != text {
		f.in.SetValue(text)
		f.in.CursorEnd()
	}
}

// check reads the field (the grammar of kel.ParseThresholdText) against n
// keys named by labels.
func (f *thresholdField) check(n int, labels []string) {
	th, err := kel.ParseThresholdText(f.in.Value())
	if err == nil {
		err = th.Validate(n)
	}
	f.th, f.err, f.reading = th, err, ""
	if err == nil {
		f.reading = show(th.Describe(labels))
	}
}

// thresholdsErr says why the signing threshold kt or the rotation
// threshold nt is wrong, if one is.
func thresholdsErr(kt, nt *thresholdField) error {
	if kt.err != nil {
		return fmt.Errorf("signing threshold: %w", kt.err)
	}
	if nt.err != nil {
		return fmt.Errorf("rotation threshold: %w", nt.err)
	}
	return nil
}

// update hands a message to the text field.
func (f *thresholdField) update(msg tea.Msg) tea.Cmd {
	before := f.in.Value()
	var cmd tea.Cmd
	f.in, cmd = f.in.Update(msg)
	if f.in.Value() != before {
		f.edited = true
	}
	return cmd
}

// lines renders the field and, under it, its reading or its error.
func (f *thresholdField) lines(st Styles, width int) []string {
	out := []string{fieldLine(st, f.in)}
	switch {
	case f.err != nil:
		out = append(out, wizWrap("    "+st.Bad.Render("✗ ")+show(f.err.Error()), width, "      ")...)
	case f.reading != "":
		out = append(out, wizWrap("    "+st.Good.Render("✓ ")+f.reading, width, "      ")...)
	}
	return out
}

// parseExpiry reads an expiry duration: "" (never), Go durations such as
// "72h" or "90m", or whole days "3d".
func parseExpiry(text string) (time.Duration, error) {
	t := strings.TrimSpace(text)
	if t == "" {
		return 0, nil
	}
	var d time.Duration
	var err error
	if days, ok := strings.CutSuffix(t, "d"); ok {
		var n int
		if n, err = strconv.Atoi(days); err == nil && n > 0 && n < 100000 {
			d = time.Duration(n) * 24 * time.Hour
		} else {
			err = errExpiry
		}
	} else {
		d, err = time.ParseDuration(t)
	}
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%w: %q: write a duration such as 72h, 90m or 3d (empty: never)", errExpiry, t)
	}
	return d, nil
}

func newExpiryField() textinput.Model {
	in := newTextInput()
	in.Prompt = "expires after> "
	in.Placeholder = "empty: never; e.g. 72h, 90m, 3d"
	in.CharLimit = 16
	return in
}

// expiryWords says when a ceremony proposed now expires.
func expiryWords(c *common, d time.Duration) string {
	if d == 0 {
		return "never"
	}
	return fmt.Sprintf("after %s, at %s", durationWords(d), c.now().Add(d).UTC().Format("2006-01-02 15:04 UTC"))
}

// durationWords writes d in days, hours or minutes when it is a whole
// number of them ("3 days", "90 minutes"), else as Go does.
func durationWords(d time.Duration) string {
	unit := func(n int64, one string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %ss", n, one)
	}
	switch {
	case d%(24*time.Hour) == 0:
		return unit(int64(d/(24*time.Hour)), "day")
	case d%time.Hour == 0:
		return unit(int64(d/time.Hour), "hour")
	case d%time.Minute == 0:
		return unit(int64(d/time.Minute), "minute")
	}
	return d.String()
}

// expiryLines renders the expiry field and its reading or error.
func expiryLines(c *common, in textinput.Model, width int) []string {
	st := c.styles
	out := []string{fieldLine(st, in)}
	d, err := parseExpiry(in.Value())
	if err != nil {
		return append(out, wizWrap("    "+st.Bad.Render("✗ ")+show(err.Error()), width, "      ")...)
	}
	if d > 0 {
		out = append(out, "    "+st.Subtle.Render("the ceremony expires "+expiryWords(c, d)))
	}
	return out
}

// pickList is an ordered list with a cursor: items move up and down (the
// order matters: it is the key order of the event).
type pickList[T any] struct {
	items  []T
	cursor int
}

func (l *pickList[T]) current() (*T, bool) {
	if l.cursor < 0 || l.cursor >= len(l.items) {
		return nil, false
	}
	return &l.items[l.cursor], true
}

// clampCursor keeps the cursor on an item.
func (l *pickList[T]) clampCursor() { l.cursor = min(max(l.cursor, 0), max(len(l.items)-1, 0)) }

// navigate handles the cursor and reordering keys; it reports whether msg
// was one of them.
func (l *pickList[T]) navigate(msg tea.KeyMsg, k KeyMap) bool {
	switch {
	case key.Matches(msg, k.MoveUp):
		if l.cursor > 0 && l.cursor < len(l.items) {
			l.items[l.cursor-1], l.items[l.cursor] = l.items[l.cursor], l.items[l.cursor-1]
			l.cursor--
		}
	case key.Matches(msg, k.MoveDown):
		if l.cursor+1 < len(l.items) {
			l.items[l.cursor+1], l.items[l.cursor] = l.items[l.cursor], l.items[l.cursor+1]
			l.cursor++
		}
	case key.Matches(msg, k.Up):
		l.cursor = max(l.cursor-1, 0)
	case key.Matches(msg, k.Down):
		l.cursor = min(l.cursor+1, max(len(l.items)-1, 0))
	default:
		return false
	}
	return true
}

// resync replaces the items with fresh ones (the first of those with the
// same id), keeping the order and the cursor of the user: items that are
// gone are dropped, new ones added at the end. keep carries the user's
// choices from an item to its fresh version.
func (l *pickList[T]) resync(fresh []T, id func(T) string, keep func(old T, fresh *T)) {
	byID := map[string]T{}
	for _, it := range fresh {
		if _, dup := byID[id(it)]; !dup {
			byID[id(it)] = it
		}
	}
	cur := ""
	if it, ok := l.current(); ok {
		cur = id(*it)
	}
	var items []T
	seen := map[string]bool{}
	for _, old := range l.items {
		if it, ok := byID[id(old)]; ok && !seen[id(old)] {
			keep(old, &it)
			items = append(items, it)
			seen[id(old)] = true
		}
	}
	for _, it := range fresh {
		if !seen[id(it)] {
			items = append(items, it)
			seen[id(it)] = true
		}
	}
	l.items = items
	for i, it := range items {
		if id(it) == cur {
			l.cursor = i
		}
	}
	l.clampCursor()
}

// remove deletes the item under the cursor.
func (l *pickList[T]) remove() {
	if _, ok := l.current(); !ok {
		return
	}
	l.items = append(l.items[:l.cursor], l.items[l.cursor+1:]...)
	l.clampCursor()
}

// lines renders at most height rows of the list around the cursor; row
// renders one item (cur: it has the cursor and the list has the focus).
// Rows cut off are counted in a last line.
func (l *pickList[T]) lines(st Styles, width, height int, focused bool, row func(i int, it T) string) []string {
	if len(l.items) == 0 || height <= 0 {
		return nil
	}
	show := height
	if len(l.items) > height {
		show = max(height-1, 1) // room for "… n more"
	}
	start := window(l.cursor, len(l.items), show)
	end := min(len(l.items), start+show)
	var out []string
	for i := start; i < end; i++ {
		mark := "  "
		text := row(i, l.items[i])
		if i == l.cursor && focused {
			mark = st.Cursor.Render("> ")
			text = st.Selected.Render(text)
		}
		out = append(out, truncate(mark+text, width))
	}
	if hidden := len(l.items) - (end - start); hidden > 0 {
		out = append(out, st.Subtle.Render(fmt.Sprintf("  … %d more (↑/↓ scroll)", hidden)))
	}
	return out
}

// wizWrap word-wraps s to width columns, indenting continuation lines.
func wizWrap(s string, width int, indent string) []string {
	if width <= len(indent)+4 {
		return []string{truncate(s, max(width, 1))}
	}
	first := ansi.Wrap(s, width, "")
	lines := strings.Split(first, "\n")
	if len(lines) == 1 {
		return lines
	}
	// Wrap again with the indent on every continuation line.
	rest := strings.Join(lines[1:], " ")
	out := []string{lines[0]}
	for _, l := range strings.Split(ansi.Wrap(rest, width-lipgloss.Width(indent), ""), "\n") {
		out = append(out, indent+l)
	}
	return out
}

// wizTrail renders the wizard's steps with the current one marked:
// "1 members › [2 thresholds] › 3 propose", or when that does not fit,
// "step 2 of 3: thresholds".
func wizTrail(st Styles, steps []string, cur, width int) string {
	parts := make([]string, len(steps))
	for i, s := range steps {
		p := fmt.Sprintf("%d %s", i+1, s)
		if i == cur {
			p = st.Selected.Render("[" + p + "]")
		} else {
			p = st.Subtle.Render(p)
		}
		parts[i] = p
	}
	line := strings.Join(parts, st.Subtle.Render(" › "))
	if lipgloss.Width(line) <= width {
		return line
	}
	return truncate(st.Selected.Render(fmt.Sprintf("step %d of %d: %s", cur+1, len(steps), steps[cur])), width)
}

// wizBody joins the wizard's lines for View: main lines first, then the
// hints while they fit, everything cut to width and height.
func wizBody(main, hints []string, width, height int) string {
	lines := main
	if len(hints) > 0 && len(main)+1+len(hints) <= height {
		lines = append(append(lines, ""), hints...)
	}
	if len(lines) > height {
		lines = lines[:height]
	}
	for i, l := range lines {
		lines[i] = truncate(l, width)
	}
	return strings.Join(lines, "\n")
}

// wizSetWidth sizes a text field to the window.
func wizSetWidth(in *textinput.Model, width int) {
	in.Width = max(width-2-lipgloss.Width(in.Prompt)-1, 4)
}

// checkGroupAlias checks a new group's alias: 1 to 32 letters, digits, '-',
// '_' or '.', not already the alias of a group of this device.
func checkGroupAlias(alias string, snap Snapshot) error {
	if alias == "" {
		return fmt.Errorf("%w: type an alias for the group", errGroupAlias)
	}
	if len(alias) > 32 || alias == "." || alias == ".." {
		return fmt.Errorf("%w %q: want 1 to 32 letters, digits, '-', '_' or '.'", errGroupAlias, alias)
	}
	for _, c := range []byte(alias) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("%w %q: want 1 to 32 letters, digits, '-', '_' or '.'", errGroupAlias, alias)
		}
	}
	for _, g := range snap.Groups {
		if g.Alias == alias {
			return fmt.Errorf("%w: a group named %s exists already on this device", errGroupAlias, alias)
		}
	}
	return nil
}
