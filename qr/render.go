package qr

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/mdp/qrterminal/v3"
)

// SGR sequences of the palettes: light-module glyph colour and dark
// background.
func (p Palette) sgr() string {
	switch p {
	case PaletteANSI:
		return "\x1b[97;40m"
	case PaletteTrueColor:
		return "\x1b[38;2;255;255;255;48;2;0;0;0m"
	case PaletteNone:
		return ""
	}
	return "\x1b[38;5;231;48;5;16m"
}

const sgrReset = "\x1b[0m"

// Full-block cells, as qrterminal's own full-block output draws them.
const (
	fullLight = qrterminal.WHITE // "\x1b[47m  \x1b[0m"
	fullDark  = qrterminal.BLACK // "\x1b[40m  \x1b[0m"
)

// Render draws one frame (any QR alphanumeric text) with qrterminal and
// returns the lines joined by "\n", without a trailing newline. The frame
// must fit the layout's version; otherwise the error wraps
// ErrPayloadTooLarge and qrterminal is not called (it panics on oversized
// input; a panic is recovered and reported the same way).
func (l Layout) Render(frame string) (string, error) {
	lines, err := l.RenderLines(frame)
	if err != nil {
		return "", err
	}
	return strings.Join(lines, "\n"), nil
}

// RenderLines is Render returning the lines separately.
func (l Layout) RenderLines(frame string) ([]string, error) {
	v := VersionFor(frame)
	if v == 0 || v > l.Version {
		return nil, fmt.Errorf("%w: %d characters need version %d, the layout allows %d", ErrPayloadTooLarge, len(frame), v, l.Version)
	}
	raw, err := generate(frame, l)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSuffix(raw, "\n"), "\n")
	if l.Mode == FullBlock {
		return lines, nil
	}
	// qrterminal ends a half-block code with a row of ▀ whose lower half
	// is dark: on an explicit black background that is a dark band under
	// the quiet zone (MetaMask PR #14900). Draw that row fully light.
	last := len(lines) - 1
	light := "█"
	if l.Palette == PaletteNone && l.Invert {
		light = " "
	}
	lines[last] = strings.Repeat(light, len([]rune(lines[last])))
	if sgr := l.Palette.sgr(); sgr != "" {
		for i, line := range lines {
			lines[i] = sgr + line + sgrReset
		}
	}
	return lines, nil
}

// generate runs qrterminal into a buffer (never Generate, which probes the
// terminal through stdin) and turns a panic into ErrPayloadTooLarge.
func generate(frame string, l Layout) (out string, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = "", fmt.Errorf("%w: qrterminal failed on %d characters: %v", ErrPayloadTooLarge, len(frame), r)
		}
	}()
	var buf bytes.Buffer
	cfg := qrterminal.Config{
		Level:     qrterminal.L,
		Writer:    &buf,
		QuietZone: l.QuietZone,
	}
	if l.Mode == FullBlock {
		cfg.BlackChar, cfg.WhiteChar = fullDark, fullLight
	} else {
		cfg.HalfBlocks = true
		cfg.WhiteChar, cfg.BlackChar = "█", " "
		cfg.WhiteBlackChar, cfg.BlackWhiteChar = "▀", "▄"
		if l.Palette == PaletteNone && l.Invert {
			cfg.WhiteChar, cfg.BlackChar = " ", "█"
			cfg.WhiteBlackChar, cfg.BlackWhiteChar = "▄", "▀"
		}
	}
	qrterminal.GenerateWithConfig(frame, cfg)
	return buf.String(), nil
}
