// Package qrtest replays terminal output into a pixel image, the way a
// terminal would draw it, so that tests can prove a rendered QR code scans
// (qr-transport.md section 12). It understands plain text, CR/LF, SGR
// colours (16, 256 and true colour, default colours), cursor home and
// erase sequences, and draws the block elements ▀ ▄ █ as a terminal does.
// It is test tooling: production code does not use it.
package qrtest

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Theme gives the terminal's default colours, used for cells drawn without
// an explicit SGR colour.
type Theme struct {
	Name   string
	Fg, Bg color.RGBA
}

// The themes of qr-transport.md section 12.
var (
	Dark  = Theme{"dark", color.RGBA{0xC0, 0xC0, 0xC0, 0xFF}, color.RGBA{0x1E, 0x1E, 0x1E, 0xFF}}
	Light = Theme{"light", color.RGBA{0x20, 0x20, 0x20, 0xFF}, color.RGBA{0xFF, 0xFF, 0xFF, 0xFF}}
)

// Options describe how cells become pixels.
type Options struct {
	Theme Theme
	// CellWidth is the width of one cell in pixels; a cell is twice as high.
	// A half-block module is then CellWidth pixels square. Default 4.
	CellWidth int
	// Leading is the number of pixel rows at the bottom of each cell that
	// glyphs do not cover (line spacing above 1.0): drawn in the cell's
	// background colour.
	Leading int
	// Narrow is the number of pixel columns at the right of each cell that
	// glyphs do not cover (a font whose blocks are narrower than the cell).
	Narrow int
	// Margin is the number of pixels of theme background around the screen.
	Margin int
}

type cell struct {
	r      rune
	fg, bg *color.RGBA // nil: the theme's default
}

// Screen is a grid of cells (rune and colours), as a terminal holds them.
type Screen struct {
	cells [][]cell
}

// Parse replays terminal output into a screen.
func Parse(out string) (*Screen, error) {
	s := &Screen{}
	var fg, bg *color.RGBA
	row, col := 0, 0
	put := func(r rune) {
		for len(s.cells) <= row {
			s.cells = append(s.cells, nil)
		}
		for len(s.cells[row]) <= col {
			s.cells[row] = append(s.cells[row], cell{r: ' '})
		}
		s.cells[row][col] = cell{r: r, fg: fg, bg: bg}
		col++
	}
	for i := 0; i < len(out); {
		c := out[i]
		switch {
		case c == '\x1b':
			if i+1 >= len(out) || out[i+1] != '[' {
				return nil, fmt.Errorf("qrtest: unsupported escape at offset %d", i)
			}
			j := i + 2
			for j < len(out) && (out[j] < 0x40 || out[j] > 0x7e) {
				j++
			}
			if j >= len(out) {
				return nil, fmt.Errorf("qrtest: unterminated escape at offset %d", i)
			}
			params, final := out[i+2:j], out[j]
			i = j + 1
			switch final {
			case 'm':
				var err error
				fg, bg, err = applySGR(params, fg, bg)
				if err != nil {
					return nil, err
				}
			case 'H':
				row, col = 0, 0
				if params != "" {
					a, b, _ := strings.Cut(params, ";")
					r, _ := strconv.Atoi(a)
					c, _ := strconv.Atoi(b)
					row, col = max(r-1, 0), max(c-1, 0)
				}
			case 'J', 'K', 'l', 'h':
				// Erase and mode changes: the parsed screen starts empty.
				if final == 'J' && params == "2" {
					s.cells = nil
				}
			default:
				return nil, fmt.Errorf("qrtest: unsupported sequence ESC[%s%c", params, final)
			}
		case c == '\n':
			row, col = row+1, 0
			i++
		case c == '\r':
			col = 0
			i++
		default:
			r, n := utf8.DecodeRuneInString(out[i:])
			put(r)
			i += n
		}
	}
	return s, nil
}

func applySGR(params string, fg, bg *color.RGBA) (*color.RGBA, *color.RGBA, error) {
	if params == "" {
		params = "0"
	}
	p := strings.Split(params, ";")
	num := func(k int) (int, error) {
		if k >= len(p) {
			return 0, errors.New("qrtest: short sgr " + params)
		}
		return strconv.Atoi(p[k])
	}
	for k := 0; k < len(p); k++ {
		v, err := strconv.Atoi(p[k])
		if err != nil {
			return nil, nil, fmt.Errorf("qrtest: sgr %q", params)
		}
		switch {
		case v == 0:
			fg, bg = nil, nil
		case v == 39:
			fg = nil
		case v == 49:
			bg = nil
		case 30 <= v && v <= 37:
			fg = pal(v - 30)
		case 40 <= v && v <= 47:
			bg = pal(v - 40)
		case 90 <= v && v <= 97:
			fg = pal(v - 90 + 8)
		case 100 <= v && v <= 107:
			bg = pal(v - 100 + 8)
		case v == 38 || v == 48:
			mode, err := num(k + 1)
			if err != nil {
				return nil, nil, err
			}
			var c *color.RGBA
			switch mode {
			case 5:
				n, err := num(k + 2)
				if err != nil {
					return nil, nil, err
				}
				c, k = pal(n), k+2
			case 2:
				r, e1 := num(k + 2)
				g, e2 := num(k + 3)
				b, e3 := num(k + 4)
				if e1 != nil || e2 != nil || e3 != nil {
					return nil, nil, fmt.Errorf("qrtest: sgr %q", params)
				}
				c, k = &color.RGBA{uint8(r), uint8(g), uint8(b), 0xFF}, k+4
			default:
				return nil, nil, fmt.Errorf("qrtest: sgr %q", params)
			}
			if v == 38 {
				fg = c
			} else {
				bg = c
			}
		default:
			// Bold, underline and the like do not change colours here.
		}
	}
	return fg, bg, nil
}

// pal returns xterm's 256-colour palette entry; 0-15 as the Linux console
// draws them (7 = #AAAAAA, the full-block fallback's light module).
func pal(n int) *color.RGBA {
	base := [16][3]uint8{
		{0, 0, 0}, {0xAA, 0, 0}, {0, 0xAA, 0}, {0xAA, 0x55, 0}, {0, 0, 0xAA}, {0xAA, 0, 0xAA}, {0, 0xAA, 0xAA}, {0xAA, 0xAA, 0xAA},
		{0x55, 0x55, 0x55}, {0xFF, 0x55, 0x55}, {0x55, 0xFF, 0x55}, {0xFF, 0xFF, 0x55}, {0x55, 0x55, 0xFF}, {0xFF, 0x55, 0xFF}, {0x55, 0xFF, 0xFF}, {0xFF, 0xFF, 0xFF},
	}
	switch {
	case n < 0 || n > 255:
		n = 0
		fallthrough
	case n < 16:
		return &color.RGBA{base[n][0], base[n][1], base[n][2], 0xFF}
	case n < 232:
		n -= 16
		lv := func(i int) uint8 {
			if i == 0 {
				return 0
			}
			return uint8(55 + 40*i)
		}
		return &color.RGBA{lv(n / 36), lv(n / 6 % 6), lv(n % 6), 0xFF}
	}
	g := uint8(8 + 10*(n-232))
	return &color.RGBA{g, g, g, 0xFF}
}

// Size returns the screen's columns and rows.
func (s *Screen) Size() (cols, rows int) {
	for _, r := range s.cells {
		cols = max(cols, len(r))
	}
	return cols, len(s.cells)
}

// Rasterize draws the screen as a terminal with the given options would.
func (s *Screen) Rasterize(o Options) *image.Gray {
	w := o.CellWidth
	if w <= 0 {
		w = 4
	}
	h := 2 * w
	cols, rows := s.Size()
	img := image.NewGray(image.Rect(0, 0, cols*w+2*o.Margin, rows*h+2*o.Margin))
	def := color.GrayModel.Convert(o.Theme.Bg).(color.Gray)
	for i := range img.Pix {
		img.Pix[i] = def.Y
	}
	gray := func(c *color.RGBA, d color.RGBA) uint8 {
		if c == nil {
			c = &d
		}
		return color.GrayModel.Convert(*c).(color.Gray).Y
	}
	for y, line := range s.cells {
		for x, c := range line {
			fg, bg := gray(c.fg, o.Theme.Fg), gray(c.bg, o.Theme.Bg)
			for py := 0; py < h; py++ {
				for px := 0; px < w; px++ {
					v := bg
					inGlyph := py < h-o.Leading && px < w-o.Narrow
					if inGlyph {
						switch c.r {
						case '█':
							v = fg
						case '▀':
							if py < (h-o.Leading)/2 {
								v = fg
							}
						case '▄':
							if py >= (h-o.Leading)/2 {
								v = fg
							}
						}
					}
					img.SetGray(o.Margin+x*w+px, o.Margin+y*h+py, color.Gray{v})
				}
			}
		}
	}
	return img
}

// Rasterize parses terminal output and draws it.
func Rasterize(out string, o Options) (*image.Gray, error) {
	s, err := Parse(out)
	if err != nil {
		return nil, err
	}
	return s.Rasterize(o), nil
}

// WritePNG writes an image to a file.
func WritePNG(path string, img image.Image) error {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// ErrNoZbar reports that zbarimg is not installed.
var ErrNoZbar = errors.New("zbarimg not found (apt-get install zbar-tools)")

// Zbar decodes the QR codes in image files with zbarimg and returns one
// text per decoded symbol, in order.
func Zbar(paths ...string) ([]string, error) {
	bin, err := exec.LookPath("zbarimg")
	if err != nil {
		return nil, ErrNoZbar
	}
	args := append([]string{"--quiet", "--raw", "-Sdisable", "-Sqrcode.enable"}, paths...)
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil && len(out) == 0 {
		return nil, fmt.Errorf("zbarimg: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	var texts []string
	for _, l := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if l != "" {
			texts = append(texts, l)
		}
	}
	return texts, nil
}
