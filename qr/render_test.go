package qr

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/keremony/keremony/qr/qrtest"
	"github.com/keremony/keremony/transport"
)

// keriLikeICP returns JSON text with the size and shape of a KERI 1.0 icp
// event with the given number of keys (keri-1.0.md section 18:
// 205 + 94*keys bytes, one more each for two-digit kt and nt), with random
// base64url material in the key and digest positions.
func keriLikeICP(rng *rand.Rand, keys int) []byte {
	q := func(code byte) string {
		raw := make([]byte, 33)
		for i := range raw {
			raw[i] = byte(rng.IntN(256))
		}
		return string(code) + base64.RawURLEncoding.EncodeToString(raw)[:43]
	}
	th := fmt.Sprintf("%x", (keys+1)/2)
	var k, n []string
	for i := 0; i < keys; i++ {
		k = append(k, `"`+q('D')+`"`)
		n = append(n, `"`+q('E')+`"`)
	}
	said := q('E')
	body := fmt.Sprintf(`,"t":"icp","d":"%s","i":"%s","s":"0","kt":"%s","k":[%s],"nt":"%s","n":[%s],"bt":"0","b":[],"c":[],"a":[]}`,
		said, said, th, strings.Join(k, ","), th, strings.Join(n, ","))
	size := len(`{"v":"KERI10JSON000000_"`) + len(body)
	return []byte(fmt.Sprintf(`{"v":"KERI10JSON%06x_"`, size) + body)
}

func TestFitTable(t *testing.T) {
	cases := []struct {
		cols, rows int
		opt        Options
		version    int
		quiet      int
		fragSize   int // for a 3000-byte compressed message
	}{
		{80, 24, Options{}, 5, 2, 80},
		{80, 24, Options{Density: Low}, 5, 2, 80},
		{100, 30, Options{}, 8, 2, 160}, // q=4 would give v7: the window constrains, so q=2
		{100, 30, Options{Density: Low}, 7, 4, 125},
		{120, 40, Options{}, 12, 4, 320},
		{120, 40, Options{Density: Low}, 7, 4, 125},
		{120, 40, Options{Density: High}, 13, 2, 370},
		{160, 50, Options{Density: High}, 18, 2, 640},
		{200, 60, Options{}, 12, 4, 320},
		{200, 60, Options{Density: High}, 23, 2, 975},
		{240, 67, Options{Density: High}, 25, 4, 1145}, // 1140 once n >= 10
		{120, 40, Options{Mode: FullBlock}, 4, 2, 55},
		{240, 67, Options{Mode: FullBlock, Density: High}, 10, 2, 230},
	}
	for _, c := range cases {
		l, err := Fit(c.cols, c.rows, c.opt)
		if err != nil {
			t.Errorf("%dx%d %+v: %v", c.cols, c.rows, c.opt, err)
			continue
		}
		f := l.FragmentSize(3000)
		if l.Version != c.version || l.QuietZone != c.quiet || f != c.fragSize {
			t.Errorf("%dx%d %s %s: v%d q%d F%d, want v%d q%d F%d", c.cols, c.rows, c.opt.Density, c.opt.Mode, l.Version, l.QuietZone, f, c.version, c.quiet, c.fragSize)
		}
		if l.Cols > c.cols || l.Rows > c.rows-DefaultReserveRows {
			t.Errorf("%dx%d: layout %dx%d does not fit", c.cols, c.rows, l.Cols, l.Rows)
		}
	}
	for _, c := range []struct {
		cols, rows int
		opt        Options
	}{{80, 24, Options{Mode: FullBlock}}, {20, 10, Options{}}, {80, 12, Options{}}} {
		if _, err := Fit(c.cols, c.rows, c.opt); !errors.Is(err, ErrWindowTooSmall) {
			t.Errorf("%dx%d %s: %v, want ErrWindowTooSmall", c.cols, c.rows, c.opt.Mode, err)
		}
	}
	if _, err := Fit(80, 24, Options{Density: 9}); !errors.Is(err, ErrBadOption) {
		t.Errorf("bad density: %v", err)
	}
}

func TestCapacity(t *testing.T) {
	// ISO 18004 alphanumeric capacities at ECC L.
	for v, want := range map[int]int{1: 25, 4: 114, 5: 154, 7: 224, 12: 535, 13: 619, 17: 938, 25: 1853, 37: 3729, 40: 4296} {
		if got := Capacity(v); got != want {
			t.Errorf("Capacity(%d) = %d, want %d", v, got, want)
		}
	}
}

// decodeRendered rasterizes terminal output and decodes it with gozxing.
func decodeRendered(t *testing.T, out string, o qrtest.Options) (string, error) {
	t.Helper()
	img, err := qrtest.Rasterize(out, o)
	if err != nil {
		t.Fatal(err)
	}
	return DecodeImage(img)
}

type window struct{ cols, rows int }

var windows = []window{{80, 24}, {120, 40}, {200, 60}}

// TestScannable renders every frame of a message exactly as the terminal
// receives it, replays the output into a pixel image under a dark and a
// light theme, decodes it with gozxing and reassembles the message.
func TestScannable(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	msg := keriLikeICP(rng, 20)
	themes := []qrtest.Theme{qrtest.Dark, qrtest.Light}
	for _, w := range windows {
		for _, d := range []Density{Low, Normal, High} {
			l, err := Fit(w.cols, w.rows, Options{Density: d})
			if err != nil {
				t.Fatal(err)
			}
			seq, err := l.Encode(transport.TypeEvents, msg)
			if err != nil {
				t.Fatal(err)
			}
			name := fmt.Sprintf("%dx%d/%s", w.cols, w.rows, d)
			t.Run(name, func(t *testing.T) {
				recv := map[string]*transport.Receiver{}
				for _, th := range themes {
					recv[th.Name] = transport.NewReceiver()
				}
				frames := seq.Len() + 2 // the pure parts and two fountain parts
				for i := 0; i < frames; i++ {
					fr := seq.Frame(i)
					out, err := l.Render(fr)
					if err != nil {
						t.Fatal(err)
					}
					checkFootprint(t, out, l, w)
					if v := VersionFor(fr); v != l.Version && seq.Len() > 1 {
						t.Errorf("frame %d has version %d, layout %d", i, v, l.Version)
					}
					for _, th := range themes {
						got, err := decodeRendered(t, out, qrtest.Options{Theme: th, CellWidth: 4})
						if err != nil || got != fr {
							t.Errorf("frame %d, %s theme: %v", i, th.Name, err)
							continue
						}
						if _, err := recv[th.Name].Add(got); err != nil {
							t.Errorf("frame %d: %v", i, err)
						}
					}
				}
				for _, th := range themes {
					_, m, ok := recv[th.Name].Message()
					if !ok || !bytes.Equal(m, msg) {
						t.Errorf("%s theme: message not reassembled (%v)", th.Name, recv[th.Name].Progress())
					}
				}
				t.Logf("%s: %s, %d frames of %d bytes", name, l, seq.Len(), seq.FragmentSize())
			})
		}
	}
}

// checkFootprint asserts the output fits the window and the layout.
func checkFootprint(t *testing.T, out string, l Layout, w window) {
	t.Helper()
	lines := strings.Split(out, "\n")
	if len(lines) > l.Rows || len(lines) > w.rows-DefaultReserveRows {
		t.Fatalf("%d lines, layout %d, window %d", len(lines), l.Rows, w.rows)
	}
	for _, line := range lines {
		s, err := qrtest.Parse(line)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := s.Size()
		if c > l.Cols || c > w.cols {
			t.Fatalf("line of %d cells, layout %d, window %d", c, l.Cols, w.cols)
		}
		if !utf8.ValidString(line) {
			t.Fatal("invalid UTF-8")
		}
	}
}

// fillFrame returns a KC1-shaped frame that fills version v at ECC L.
func fillFrame(rng *rand.Rand, v int) string {
	const b32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	head := "KC1:F/1-1/AAAAAAAA/"
	n := Capacity(v) - len(head)
	n -= n % 8
	b := []byte(head)
	for i := 0; i < n; i++ {
		b = append(b, b32[rng.IntN(32)])
	}
	return string(b)
}

// renderVariant is one way a terminal might draw the renderer's output.
type renderVariant struct {
	name    string
	opt     Options
	raster  qrtest.Options
	themes  []qrtest.Theme
	minRate float64 // share gozxing must decode (it has known misses; zbar is the reference)
}

var bothThemes = []qrtest.Theme{qrtest.Dark, qrtest.Light}

// renderVariants: palettes, line leading and narrow glyphs (qr-transport.md
// section 12 uses 8x16-pixel cells with 2-4 px of leading), the full-block
// fallback, and the no-colour modes.
var renderVariants = []renderVariant{
	{"256", Options{}, qrtest.Options{CellWidth: 4}, bothThemes, 0.9},
	{"ansi", Options{Palette: PaletteANSI}, qrtest.Options{CellWidth: 4}, bothThemes, 0.9},
	{"truecolor", Options{Palette: PaletteTrueColor}, qrtest.Options{CellWidth: 4}, bothThemes, 0.9},
	{"3px-modules", Options{}, qrtest.Options{CellWidth: 3}, bothThemes, 0.9},
	{"leading-2px", Options{}, qrtest.Options{CellWidth: 8, Leading: 2}, bothThemes, 0.75},
	{"leading-4px", Options{}, qrtest.Options{CellWidth: 8, Leading: 4}, bothThemes, 0.5},
	{"narrow-1px", Options{}, qrtest.Options{CellWidth: 8, Narrow: 1}, bothThemes, 0.9},
	{"narrow-2px", Options{}, qrtest.Options{CellWidth: 8, Narrow: 2}, bothThemes, 0.6},
	{"full-block", Options{Mode: FullBlock}, qrtest.Options{CellWidth: 3}, bothThemes, 0.9},
	{"full-block-leading", Options{Mode: FullBlock}, qrtest.Options{CellWidth: 4, Leading: 2}, bothThemes, 0.9},
	{"no-colour-dark", Options{Palette: PaletteNone}, qrtest.Options{CellWidth: 4}, []qrtest.Theme{qrtest.Dark}, 0.9},
	{"no-colour-inverted-light", Options{Palette: PaletteNone, Invert: true}, qrtest.Options{CellWidth: 4}, []qrtest.Theme{qrtest.Light}, 0.9},
}

// variantCase is one rendered code of a variant.
type variantCase struct {
	version int
	frame   string
	out     string
}

func variantCases(t *testing.T, va renderVariant, seed uint64) []variantCase {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 9))
	var cs []variantCase
	for _, v := range []int{3, 5, 7, 12, 20} {
		for k := 0; k < 2; k++ {
			l := Layout{Version: v, QuietZone: 4 - 2*k, Modules: 17 + 4*v, Capacity: Capacity(v), Options: va.opt}
			fr := fillFrame(rng, v)
			out, err := l.Render(fr)
			if err != nil {
				t.Fatal(err)
			}
			cs = append(cs, variantCase{v, fr, out})
		}
	}
	return cs
}

// TestRenderVariants decodes every variant with gozxing.
func TestRenderVariants(t *testing.T) {
	for i, va := range renderVariants {
		ok, total := 0, 0
		for _, c := range variantCases(t, va, uint64(i)) {
			for _, th := range va.themes {
				o := va.raster
				o.Theme = th
				total++
				if got, err := decodeRendered(t, c.out, o); err == nil && got == c.frame {
					ok++
				} else {
					t.Logf("%s v%d %s theme: %v", va.name, c.version, th.Name, err)
				}
			}
		}
		t.Logf("%-26s gozxing %2d/%2d", va.name, ok, total)
		if float64(ok) < va.minRate*float64(total) {
			t.Errorf("%s: gozxing decoded %d/%d", va.name, ok, total)
		}
	}
}

// TestNoColourInvertsOnLightTheme documents why colours are explicit:
// glyphs in the default colours read as an inverted code on a light theme,
// which only the inverted retry decodes (many phone scanners have none).
func TestNoColourInvertsOnLightTheme(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 10))
	l := Layout{Version: 7, QuietZone: 4, Modules: 45, Capacity: Capacity(7), Options: Options{Palette: PaletteNone}}
	out, err := l.Render(fillFrame(rng, 7))
	if err != nil {
		t.Fatal(err)
	}
	img, _ := qrtest.Rasterize(out, qrtest.Options{Theme: qrtest.Light, CellWidth: 4})
	// The image is inverted: dark quiet zone. Check a pixel of it.
	if img.GrayAt(2, 2).Y > 0x80 {
		t.Fatal("expected a dark quiet zone on the light theme without colours")
	}
}

func TestRenderErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	l, _ := Fit(80, 24, Options{})
	if _, err := l.Render(fillFrame(rng, 6)); !errors.Is(err, ErrPayloadTooLarge) {
		t.Errorf("v6 frame in a v5 layout: %v", err)
	}
	if _, err := l.Render(strings.Repeat("A", 5000)); !errors.Is(err, ErrPayloadTooLarge) {
		t.Errorf("5000 characters: %v", err)
	}
	// qrterminal panics on input too large for any version; generate
	// recovers and reports it.
	if _, err := generate(strings.Repeat("A", 5000), l); !errors.Is(err, ErrPayloadTooLarge) {
		t.Errorf("generate with oversized input: %v", err)
	}
	// Lower case forces byte mode and so a larger version.
	fr := fillFrame(rng, 5)
	if _, err := l.Render(strings.ToLower(fr)); !errors.Is(err, ErrPayloadTooLarge) {
		t.Errorf("lower-case frame: %v", err)
	}
}

// TestVersionSweep renders codes filled to capacity for every version 1-40
// with quiet zones 4 and 2 on both themes, and decodes them with gozxing.
func TestVersionSweep(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	rng := rand.New(rand.NewPCG(12, 12))
	fails, total := 0, 0
	for v := 2; v <= 40; v++ {
		for _, q := range []int{4, 2} {
			l := Layout{Version: v, QuietZone: q, Modules: 17 + 4*v, Capacity: Capacity(v)}
			fr := fillFrame(rng, v)
			out, err := l.Render(fr)
			if err != nil {
				t.Fatal(err)
			}
			for _, th := range []qrtest.Theme{qrtest.Dark, qrtest.Light} {
				total++
				if got, err := decodeRendered(t, out, qrtest.Options{Theme: th, CellWidth: 3}); err != nil || got != fr {
					fails++
					t.Logf("v%d q%d %s: %v", v, q, th.Name, err)
				}
			}
		}
	}
	t.Logf("gozxing decoded %d/%d", total-fails, total)
	if fails > total/20 {
		t.Errorf("gozxing failed %d of %d", fails, total)
	}
}

func BenchmarkRenderV12(b *testing.B) {
	l, _ := Fit(120, 40, Options{})
	fr := fillFrame(rand.New(rand.NewPCG(1, 1)), 12)
	for b.Loop() {
		if _, err := l.Render(fr); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeV12(b *testing.B) {
	l, _ := Fit(120, 40, Options{})
	fr := fillFrame(rand.New(rand.NewPCG(1, 1)), 12)
	out, _ := l.Render(fr)
	img, _ := qrtest.Rasterize(out, qrtest.Options{Theme: qrtest.Dark, CellWidth: 4})
	for b.Loop() {
		if _, err := DecodeImage(img); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRandomFramesScan: random frames filling the largest version of each
// acceptance window (high density), both themes, decoded with gozxing.
func TestRandomFramesScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(99, 9))
	for _, w := range windows {
		l, err := Fit(w.cols, w.rows, Options{Density: High})
		if err != nil {
			t.Fatal(err)
		}
		ok, total := 0, 0
		for k := 0; k < 50; k++ {
			fr := fillFrame(rng, l.Version)
			out, err := l.Render(fr)
			if err != nil {
				t.Fatal(err)
			}
			for _, th := range bothThemes {
				total++
				if got, err := decodeRendered(t, out, qrtest.Options{Theme: th, CellWidth: 4}); err == nil && got == fr {
					ok++
				}
			}
		}
		t.Logf("%dx%d v%d: gozxing %d/%d", w.cols, w.rows, l.Version, ok, total)
		if ok != total {
			t.Errorf("%dx%d v%d: gozxing decoded %d/%d", w.cols, w.rows, l.Version, ok, total)
		}
	}
}
