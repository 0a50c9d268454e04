package tui

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// placeholder stands in for a screen under construction.
type placeholder struct{ title string }

func (p placeholder) Update(tea.Msg) (screen, tea.Cmd) { return p, nil }
func (p placeholder) View() string                     { return p.title }
func (p placeholder) Title() string                    { return p.title }
func (p placeholder) Bindings() []key.Binding          { return nil }
func (p placeholder) Typing() bool                     { return false }
