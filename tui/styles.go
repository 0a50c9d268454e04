package tui

import "github.com/charmbracelet/lipgloss"

// Styles are every style of the TUI, in one place. Colours are adaptive
// (readable on light and dark terminals) and never carry meaning alone:
// every state is also spelled out or marked with a symbol, so the screens
// read the same under NO_COLOR.
type Styles struct {
	App      lipgloss.Style
	Header   lipgloss.Style
	Title    lipgloss.Style
	Subtle   lipgloss.Style
	Footer   lipgloss.Style
	Key      lipgloss.Style
	Section  lipgloss.Style
	Selected lipgloss.Style
	Cursor   lipgloss.Style
	Good     lipgloss.Style
	Warn     lipgloss.Style
	Bad      lipgloss.Style
	Info     lipgloss.Style
	Box      lipgloss.Style
	Strong   lipgloss.Style
	Input    lipgloss.Style
}

var (
	colorAccent = lipgloss.AdaptiveColor{Light: "#5A3FC0", Dark: "#B9A6FF"}
	colorSubtle = lipgloss.AdaptiveColor{Light: "#6B6B6B", Dark: "#9A9A9A"}
	colorGood   = lipgloss.AdaptiveColor{Light: "#0B7A33", Dark: "#5FD787"}
	colorWarn   = lipgloss.AdaptiveColor{Light: "#8A5A00", Dark: "#FFD75F"}
	colorBad    = lipgloss.AdaptiveColor{Light: "#B00020", Dark: "#FF6B6B"}
	colorInfo   = lipgloss.AdaptiveColor{Light: "#005F87", Dark: "#5FD7FF"}
)

// DefaultStyles are the TUI's styles.
func DefaultStyles() Styles {
	s := Styles{}
	s.App = lipgloss.NewStyle()
	s.Header = lipgloss.NewStyle().Bold(true)
	s.Title = lipgloss.NewStyle().Bold(true).Foreground(colorAccent)
	s.Subtle = lipgloss.NewStyle().Foreground(colorSubtle)
	s.Footer = lipgloss.NewStyle().Foreground(colorSubtle)
	s.Key = lipgloss.NewStyle().Bold(true)
	s.Section = lipgloss.NewStyle().Bold(true).Underline(true)
	s.Selected = lipgloss.NewStyle().Bold(true).Foreground(colorAccent)
	s.Cursor = lipgloss.NewStyle().Bold(true).Foreground(colorAccent)
	s.Good = lipgloss.NewStyle().Bold(true).Foreground(colorGood)
	s.Warn = lipgloss.NewStyle().Foreground(colorWarn)
	s.Bad = lipgloss.NewStyle().Bold(true).Foreground(colorBad)
	s.Info = lipgloss.NewStyle().Foreground(colorInfo)
	s.Box = lipgloss.NewStyle().Border(lipgloss.NormalBorder()).Padding(0, 1)
	s.Strong = lipgloss.NewStyle().Bold(true)
	s.Input = lipgloss.NewStyle().Foreground(colorAccent)
	return s
}
