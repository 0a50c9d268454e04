//go:build zbar

package qr

// The zbar tests write the rasterized renderer output as PNG files and
// decode them with zbarimg (Debian zbar-tools), the reference decoder of
// qr-transport.md. Run them with `make test-qr-zbar`, which is
// `go test -tags zbar -run Zbar ./qr/`. Set QR_ZBAR_DIR to keep the PNGs.

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/keremony/keremony/qr/qrtest"
	"github.com/keremony/keremony/transport"
)

func zbarDir(t *testing.T) string {
	if _, err := qrtest.Zbar(); err == qrtest.ErrNoZbar {
		t.Fatal(err) // the zbar tag asks for zbar: do not skip silently
	}
	if d := os.Getenv("QR_ZBAR_DIR"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// zbarDecode writes img-producing output as a PNG and decodes it with zbarimg.
func zbarDecode(t *testing.T, dir, name, out string, o qrtest.Options) (string, error) {
	t.Helper()
	img, err := qrtest.Rasterize(out, o)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name+".png")
	if err := qrtest.WritePNG(path, img); err != nil {
		t.Fatal(err)
	}
	texts, err := qrtest.Zbar(path)
	if err != nil {
		return "", err
	}
	if len(texts) != 1 {
		return "", fmt.Errorf("zbarimg found %d symbols", len(texts))
	}
	return texts[0], nil
}

// TestZbarScannable: the acceptance windows, every frame, both themes.
func TestZbarScannable(t *testing.T) {
	dir := zbarDir(t)
	rng := rand.New(rand.NewPCG(7, 7))
	msg := keriLikeICP(rng, 20)
	ok, total := 0, 0
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
			for _, th := range bothThemes {
				r := transport.NewReceiver()
				for i := 0; i < seq.Len()+2; i++ {
					fr := seq.Frame(i)
					out, err := l.Render(fr)
					if err != nil {
						t.Fatal(err)
					}
					name := fmt.Sprintf("win-%dx%d-%s-%s-%02d", w.cols, w.rows, d, th.Name, i)
					total++
					got, err := zbarDecode(t, dir, name, out, qrtest.Options{Theme: th, CellWidth: 4})
					if err != nil || got != fr {
						t.Errorf("%s: %v", name, err)
						continue
					}
					ok++
					if _, err := r.Add(got); err != nil {
						t.Errorf("%s: %v", name, err)
					}
				}
				if _, m, done := r.Message(); !done || !bytes.Equal(m, msg) {
					t.Errorf("%dx%d %s %s: not reassembled", w.cols, w.rows, d, th.Name)
				}
			}
		}
	}
	t.Logf("zbarimg decoded %d/%d frames of the acceptance windows", ok, total)
}

// TestZbarVariants: every render variant must decode with zbar (leading of
// 4 px in a 16 px cell and 2 px narrowing are the hardest).
func TestZbarVariants(t *testing.T) {
	dir := zbarDir(t)
	for i, va := range renderVariants {
		ok, total := 0, 0
		for j, c := range variantCases(t, va, uint64(i)) {
			for _, th := range va.themes {
				o := va.raster
				o.Theme = th
				total++
				name := fmt.Sprintf("variant-%s-v%d-%d-%s", va.name, c.version, j, th.Name)
				if got, err := zbarDecode(t, dir, name, c.out, o); err == nil && got == c.frame {
					ok++
				} else {
					t.Logf("%s: %v", name, err)
				}
			}
		}
		t.Logf("%-26s zbarimg %2d/%2d", va.name, ok, total)
		if ok < total*9/10 {
			t.Errorf("%s: zbarimg decoded %d/%d", va.name, ok, total)
		}
	}
}

// TestZbarVersionSweep: versions 2-40 filled to capacity, quiet zones 4 and 2.
func TestZbarVersionSweep(t *testing.T) {
	dir := zbarDir(t)
	rng := rand.New(rand.NewPCG(12, 12))
	ok, total := 0, 0
	for v := 2; v <= 40; v++ {
		for _, q := range []int{4, 2} {
			l := Layout{Version: v, QuietZone: q, Modules: 17 + 4*v, Capacity: Capacity(v)}
			fr := fillFrame(rng, v)
			out, err := l.Render(fr)
			if err != nil {
				t.Fatal(err)
			}
			for _, th := range bothThemes {
				total++
				name := fmt.Sprintf("sweep-v%02d-q%d-%s", v, q, th.Name)
				if got, err := zbarDecode(t, dir, name, out, qrtest.Options{Theme: th, CellWidth: 3}); err == nil && got == fr {
					ok++
				} else {
					t.Errorf("%s: %v", name, err)
				}
			}
		}
	}
	t.Logf("zbarimg decoded %d/%d", ok, total)
}
