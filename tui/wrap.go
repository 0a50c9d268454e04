package tui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// para wraps plain text at width after prefix, indents the continuation
// lines under the text, and styles every line. The text is shown through
// safetext: it may quote labels, file names and errors from outside.
func para(style func(...string) string, prefix, text string, width int) []string {
	pw := ansi.StringWidth(prefix)
	lines := wrapWords(show(text), max(width-pw, 8))
	out := make([]string, len(lines))
	for i, l := range lines {
		p := prefix
		if i > 0 {
			p = strings.Repeat(" ", pw)
		}
		out[i] = style(p + strings.TrimRight(l, " "))
	}
	return out
}

// wrapWords wraps plain text at width on spaces only (identifiers keep
// their hyphens), cutting a word longer than a line.
func wrapWords(text string, width int) []string {
	var out []string
	line, lw := "", 0
	for _, w := range strings.Fields(text) {
		ww := ansi.StringWidth(w)
		for ww > width {
			if lw > 0 {
				out = append(out, line)
				line, lw = "", 0
			}
			head := ansi.Cut(w, 0, width)
			out = append(out, head)
			w = strings.TrimPrefix(w, head)
			ww = ansi.StringWidth(w)
		}
		switch {
		case lw == 0:
			line, lw = w, ww
		case lw+1+ww <= width:
			line, lw = line+" "+w, lw+1+ww
		default:
			out = append(out, line)
			line, lw = w, ww
		}
	}
	return append(out, line)
}

// paraN is para cut to n lines (a long text is cut before it is wrapped).
func paraN(style func(...string) string, prefix, text string, width, n int) []string {
	if r := []rune(text); len(r) > n*width {
		text = string(r[:n*width]) + "…"
	}
	return capLines(para(style, prefix, text, width), n)
}

// capLines keeps the first n lines, marking a cut with an ellipsis.
func capLines(lines []string, n int) []string {
	if len(lines) <= n {
		return lines
	}
	lines = lines[:n]
	lines[n-1] = strings.TrimRight(lines[n-1], " ") + "…"
	return lines
}
