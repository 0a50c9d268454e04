package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/textinput"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/keremony/keremony/internal/safetext"
)

// clip cuts s to at most width columns and height rows, so that no screen
// can push the footer off a small window.
func clip(s string, width, height int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > height {
		lines = lines[:height]
	}
	for i, l := range lines {
		if lipgloss.Width(l) > width {
			lines[i] = ansi.Truncate(l, width, "…")
		}
	}
	for len(lines) < height {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}

// truncate cuts plain or styled text to width columns with an ellipsis.
func truncate(s string, width int) string {
	if width <= 0 {
		return ""
	}
	if lipgloss.Width(s) <= width {
		return s
	}
	return ansi.Truncate(s, width, "…")
}

// fit puts left and right on one line of width columns, truncating left.
func fit(left, right string, width int) string {
	rw := lipgloss.Width(right)
	if rw == 0 {
		return truncate(left, width)
	}
	left = truncate(left, max(width-rw-1, 0))
	gap := max(width-lipgloss.Width(left)-rw, 1)
	return left + strings.Repeat(" ", gap) + right
}

// show is how every text that came from outside (labels, aliases, group
// names, file names, reasons, seal text, errors quoting input) reaches the
// screen: through safetext, which shows control, bidirectional and
// zero-width characters as escapes instead of letting them steer the
// terminal.
func show(s string) string { return safetext.Show(s) }

// showAll is show of each text.
func showAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = show(s)
	}
	return out
}

// shortID shortens a ceremony id or a prefix for lists.
func shortID(s string) string {
	s = show(s)
	if len(s) <= 12 {
		return s
	}
	return s[:8] + "…"
}

// window returns the first index of a list of n rows, height of which
// show, so that the cursor stays visible.
func window(cursor, n, height int) int {
	if height <= 0 || n <= height {
		return 0
	}
	start := cursor - height/2
	return max(0, min(start, n-height))
}

// fieldLine is a text field as a line of a form: with a "› " in front
// while it has the keyboard, a visible focus under NO_COLOR too (where the
// field's own cursor, drawn in reverse video, does not show).
func fieldLine(st Styles, in textinput.Model) string {
	if in.Focused() {
		return st.Cursor.Render("› ") + in.View()
	}
	return "  " + in.View()
}

// newTextInput is a text field with a steady cursor: a blinking one would
// redraw the screen twice a second for nothing (and slow remote terminals).
func newTextInput() textinput.Model {
	in := textinput.New()
	in.Cursor.SetMode(cursor.CursorStatic)
	return in
}
