package qr

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/keremony/keremony/transport"
	"rsc.io/qr/coding"
)

var (
	// ErrWindowTooSmall: no QR version that carries a frame fits the window.
	ErrWindowTooSmall = errors.New("window too small for a qr code")
	// ErrPayloadTooLarge: a frame does not fit the layout's QR version.
	ErrPayloadTooLarge = errors.New("payload too large for the qr version")
	// ErrBadOption: an unknown density, mode or palette name.
	ErrBadOption = errors.New("invalid qr option")
)

// Density caps the QR version (qr-transport.md section 5). The zero value
// is Normal.
type Density int

const (
	Normal Density = iota // up to version 12: 320-byte frames, a 120x40 window, a laptop webcam
	Low                   // up to version 7: 125-byte frames, cheap webcams and wedge scanners
	High                  // up to version 25: 1140-byte frames, a full-screen terminal and a good camera
)

// MaxVersion returns the largest QR version the density allows.
func (d Density) MaxVersion() int {
	switch d {
	case Low:
		return 7
	case High:
		return 25
	}
	return 12
}

func (d Density) String() string {
	switch d {
	case Low:
		return "low"
	case High:
		return "high"
	}
	return "normal"
}

// ParseDensity accepts "low", "normal" or "high".
func ParseDensity(s string) (Density, error) {
	switch strings.ToLower(s) {
	case "low":
		return Low, nil
	case "normal", "":
		return Normal, nil
	case "high":
		return High, nil
	}
	return Normal, fmt.Errorf("%w: density %q (want low, normal or high)", ErrBadOption, s)
}

// Mode selects the glyphs.
type Mode int

const (
	// HalfBlock draws two modules per cell with ▀ ▄ █ and space: one column
	// and half a row per module.
	HalfBlock Mode = iota
	// FullBlock draws each module as two background-coloured spaces
	// (SGR 47/40), immune to font and line-height problems; for the Linux
	// console. It needs four times the area and does not fit 80x24.
	FullBlock
)

func (m Mode) String() string {
	if m == FullBlock {
		return "full"
	}
	return "half"
}

// Palette selects how the half-block renderer states its colours. Light
// modules are glyphs in an explicit white, dark modules an explicit black
// background, so the code never inverts on a light theme.
type Palette int

const (
	Palette256       Palette = iota // 38;5;231 on 48;5;16: the 256-colour cube, not remapped by themes
	PaletteANSI                     // 97 on 40: bright white on black, for 16-colour terminals
	PaletteTrueColor                // 38;2;255;255;255 on 48;2;0;0;0
	PaletteNone                     // no colours (NO_COLOR): glyphs in the default colours; see Options.Invert
)

// ParsePalette accepts "256", "ansi", "truecolor" or "none".
func ParsePalette(s string) (Palette, error) {
	switch strings.ToLower(s) {
	case "256", "":
		return Palette256, nil
	case "ansi", "16":
		return PaletteANSI, nil
	case "truecolor", "24bit":
		return PaletteTrueColor, nil
	case "none", "mono":
		return PaletteNone, nil
	}
	return Palette256, fmt.Errorf("%w: palette %q (want 256, ansi, truecolor or none)", ErrBadOption, s)
}

// DefaultReserveRows is the number of window rows Fit leaves for the
// interface around the code when Options.ReserveRows is 0.
const DefaultReserveRows = 3

// NoReserve as Options.ReserveRows lets the code use every row.
const NoReserve = -1

// Options tune Fit. The zero value means Normal density, half blocks,
// the 256-colour palette and three rows reserved.
type Options struct {
	Density     Density
	Mode        Mode
	Palette     Palette
	ReserveRows int  // rows kept free; 0 means DefaultReserveRows, NoReserve none
	Invert      bool // with PaletteNone: draw dark modules as glyphs, for light themes
}

// Layout is the fixed geometry of one sequence: every frame is drawn at
// most at Version with QuietZone modules of margin, in Cols x Rows cells.
type Layout struct {
	Version   int // QR version, 1 to 40
	QuietZone int // modules of light margin: 4, or 2 when space is short
	Modules   int // modules per side: 17 + 4*Version
	Cols      int // cells wide
	Rows      int // cells high
	Capacity  int // alphanumeric characters the version holds at ECC L
	Options
}

// footprint returns the cells a code of the given size takes.
func footprint(mode Mode, size, quiet int) (cols, rows int) {
	if mode == FullBlock {
		return 2 * (size + 2*quiet), size + 2*quiet
	}
	// qrterminal: cols = size + 2q, rows = q + (size+1)/2 for even q.
	return size + 2*quiet, quiet + (size+1)/2
}

// Fit returns the largest layout that fits a window of cols x rows cells
// within the density's cap: quiet zone 4 when possible, 2 when that gains
// a version. Errors wrap ErrWindowTooSmall or ErrBadOption.
func Fit(cols, rows int, opt Options) (Layout, error) {
	if opt.Density < Normal || opt.Density > High || opt.Mode < HalfBlock || opt.Mode > FullBlock || opt.Palette < Palette256 || opt.Palette > PaletteNone {
		return Layout{}, fmt.Errorf("%w: %+v", ErrBadOption, opt)
	}
	reserve := opt.ReserveRows
	switch {
	case reserve == 0:
		reserve = DefaultReserveRows
	case reserve < 0:
		reserve = 0
	}
	availRows := rows - reserve
	best := func(quiet int) int {
		for v := opt.Density.MaxVersion(); v >= 1; v-- {
			c, r := footprint(opt.Mode, 17+4*v, quiet)
			if c <= cols && r <= availRows {
				return v
			}
		}
		return 0
	}
	v, q := best(4), 4
	if v2 := best(2); v2 > v {
		v, q = v2, 2
	}
	// Version 1 holds 25 characters, less than the shortest frame.
	if v < 2 {
		return Layout{}, fmt.Errorf("%w: %dx%d cells (%d rows reserved) in %s mode", ErrWindowTooSmall, cols, rows, reserve, opt.Mode)
	}
	l := Layout{Version: v, QuietZone: q, Modules: 17 + 4*v, Capacity: Capacity(v), Options: opt}
	l.Cols, l.Rows = footprint(opt.Mode, l.Modules, q)
	return l, nil
}

// FragmentSize returns the fragment size frames of a message whose
// compressed size is compLen get at this layout (see
// transport.FitFragmentSize).
func (l Layout) FragmentSize(compLen int) int {
	return transport.FitFragmentSize(l.Capacity, compLen)
}

// Encode cuts msg into a frame sequence whose every frame fits the layout.
func (l Layout) Encode(typ transport.FrameType, msg []byte) (*transport.FrameSequence, error) {
	return transport.EncodeFramesFit(typ, msg, l.Capacity)
}

func (l Layout) String() string {
	return fmt.Sprintf("v%d (%d modules), quiet zone %d, %s blocks, %dx%d cells, %d characters", l.Version, l.Modules, l.QuietZone, l.Mode, l.Cols, l.Rows, l.Capacity)
}

var (
	capOnce sync.Once
	capTab  [41]int
)

// Capacity returns how many QR alphanumeric characters version v (1-40)
// holds at ECC L in rsc.io/qr, the encoder qrterminal uses; 0 for other v.
func Capacity(v int) int {
	if v < 1 || v > 40 {
		return 0
	}
	capOnce.Do(func() {
		for ver := 1; ver <= 40; ver++ {
			cv := coding.Version(ver)
			bits := cv.DataBytes(coding.L) * 8
			lo, hi := 0, 8000
			for lo < hi {
				mid := (lo + hi + 1) / 2
				if coding.Alpha(strings.Repeat("A", mid)).Bits(cv) <= bits {
					lo = mid
				} else {
					hi = mid - 1
				}
			}
			capTab[ver] = lo
		}
	})
	return capTab[v]
}

// VersionFor returns the smallest version that holds text at ECC L, as
// rsc.io/qr chooses it, or 0 if none does.
func VersionFor(text string) int {
	var enc coding.Encoding
	switch {
	case coding.Num(text).Check() == nil:
		enc = coding.Num(text)
	case coding.Alpha(text).Check() == nil:
		enc = coding.Alpha(text)
	default:
		enc = coding.String(text)
	}
	for v := coding.Version(coding.MinVersion); v <= coding.MaxVersion; v++ {
		if enc.Bits(v) <= v.DataBytes(coding.L)*8 {
			return int(v)
		}
	}
	return 0
}
