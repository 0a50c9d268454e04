package tui

import (
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

// common is what every screen shares: the window size, styles and keys, the
// backend and the latest snapshot. Screens hold a pointer to the one common
// of the root model and only read it in Update and View.
type common struct {
	width, height int
	chrome        int    // rows the root takes around a screen (chromeRows; Play: 2)
	statusRows    int    // rows a long status takes beyond its own line (the root sets it)
	top           screen // the screen on top of the stack (the root sets it)
	styles        Styles
	keys          KeyMap
	snap          Snapshot
	now           func() time.Time

	backend Backend
	mu      *sync.Mutex  // one backend call at a time
	busy    int          // backend commands in flight
	busyFor string       // what the latest one is doing, for the spinner
	log     []string     // every notice and error of this run, for the log screen
	check   *CheckReport // the latest member check (run at start-up), nil before
	// ceremonyLog holds this run's notices about each ceremony (its log
	// screen shows them after the transcript).
	ceremonyLog map[string][]string
}

func newCommon(now func() time.Time) *common {
	if now == nil {
		now = time.Now
	}
	return &common{width: 80, height: 24, chrome: chromeRows, styles: DefaultStyles(), keys: DefaultKeyMap(), now: now, mu: &sync.Mutex{}}
}

// bodyHeight is the number of rows a screen's View may use: the window
// minus the header and its rule (but in Play), the status (one line, more
// for a long error or notice) and the footer.
func (c *common) bodyHeight() int { return max(c.height-c.chrome-c.statusRows, 3) }

// work runs fn against the backend in a command, with the spinner showing
// label until it returns. Call it from Update only.
func (c *common) work(label string, fn func(Backend) tea.Msg) tea.Cmd {
	b := c.backend
	if b == nil {
		return func() tea.Msg { return errMsg{label, errNotOpen} }
	}
	c.busy++
	c.busyFor = label
	run := c.quiet(fn)
	return func() tea.Msg { return workDoneMsg{run()} }
}

// quiet runs fn against the backend in a command without the spinner, for
// background work (the drop-folder poll). Call it from Update only.
func (c *common) quiet(fn func(Backend) tea.Msg) tea.Cmd {
	b, mu := c.backend, c.mu
	return func() tea.Msg {
		mu.Lock()
		defer mu.Unlock()
		return fn(b)
	}
}

// refresh reloads the snapshot.
func (c *common) refresh() tea.Cmd {
	return c.work("reading this device", func(b Backend) tea.Msg {
		s, err := b.Snapshot()
		if err != nil {
			return errMsg{"reading this device", err}
		}
		return snapshotMsg{s}
	})
}
