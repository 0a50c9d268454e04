package qr

import (
	"fmt"
	"time"

	"github.com/keremony/keremony/transport"
)

// Frame rates (qr-transport.md section 6).
const (
	DefaultFPS = 5  // 200 ms per frame, as Sparrow
	MinFPS     = 1  // keyboard wedges and slow cameras
	MaxFPS     = 10 // 100 ms per frame
)

// Player walks a frame sequence for display: continuously at a frame rate,
// or one frame per key press in step mode. It keeps no clock and starts no
// goroutine: the caller (the TUI's share screen, which qr show uses too)
// ticks it every Interval unless Stepping, and calls Next on a key press.
type Player struct {
	seq    *transport.FrameSequence
	layout Layout
	pos    int
	fps    int
	step   bool
}

// NewPlayer returns a player at the first frame and DefaultFPS.
func NewPlayer(seq *transport.FrameSequence, l Layout) *Player {
	return &Player{seq: seq, layout: l, fps: DefaultFPS}
}

// Sequence returns the frames being shown.
func (p *Player) Sequence() *transport.FrameSequence { return p.seq }

// Layout returns the geometry of the frames.
func (p *Player) Layout() Layout { return p.layout }

// Text returns the current frame's text.
func (p *Player) Text() string { return p.seq.Frame(p.pos) }

// Index returns the position in the display schedule (0-based).
func (p *Player) Index() int { return p.pos }

// Next advances one frame.
func (p *Player) Next() {
	if p.pos < int(^uint(0)>>1) {
		p.pos++
	}
}

// Prev goes back one frame (step mode), stopping at the first.
func (p *Player) Prev() {
	if p.pos > 0 {
		p.pos--
	}
}

// Position describes the current frame as "3/12" (part/n); fountain parts
// count on past n ("15/12"), as the sender cannot know what the receiver
// still needs.
func (p *Player) Position() string {
	return fmt.Sprintf("%d/%d", p.seq.SeqAt(p.pos), p.seq.Len())
}

// Part is the current frame's part number and the number of pure
// fragments: part > n is a fountain part (an extra part mixing
// fragments).
func (p *Player) Part() (part, n int) { return int(p.seq.SeqAt(p.pos)), p.seq.Len() }

// FPS returns the frame rate.
func (p *Player) FPS() int { return p.fps }

// SetFPS sets the frame rate, clamped to MinFPS..MaxFPS.
func (p *Player) SetFPS(fps int) { p.fps = min(max(fps, MinFPS), MaxFPS) }

// Faster and Slower change the frame rate by one frame per second.
func (p *Player) Faster() { p.SetFPS(p.fps + 1) }

// Slower lowers the frame rate by one frame per second.
func (p *Player) Slower() { p.SetFPS(p.fps - 1) }

// Interval returns the time each frame stays on screen.
func (p *Player) Interval() time.Duration { return time.Second / time.Duration(p.fps) }

// Stepping reports whether the player is in step mode.
func (p *Player) Stepping() bool { return p.step }

// SetStepping switches step mode on or off.
func (p *Player) SetStepping(on bool) { p.step = on }

// SetInverted switches the polarity of PaletteNone codes, for a terminal
// with a light background ("light background? press i").
func (p *Player) SetInverted(on bool) { p.layout.Invert = on }
