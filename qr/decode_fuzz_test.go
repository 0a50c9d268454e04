package qr

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"testing"

	"github.com/keremony/keremony/qr/qrtest"
	"github.com/keremony/keremony/transport"
)

// FuzzDecodeImage: no image file (PNG, JPEG, GIF or not an image at all)
// makes the decoder panic or allocate for more than maxImagePixels pixels
// (the size is read from the header first); a refusal wraps ErrImage or
// ErrNoCode. The seeds are a rendered KC1 frame as PNG, an image without a
// code, and headers that claim huge images.
func FuzzDecodeImage(f *testing.F) {
	l, err := Fit(80, 24, Options{})
	if err != nil {
		f.Fatal(err)
	}
	seq, err := l.Encode(transport.TypeFile, []byte("a small file"))
	if err != nil {
		f.Fatal(err)
	}
	out, err := l.Render(seq.Frame(0))
	if err != nil {
		f.Fatal(err)
	}
	img, err := qrtest.Rasterize(out, qrtest.Options{CellWidth: 2})
	if err != nil {
		f.Fatal(err)
	}
	var code bytes.Buffer
	if err := png.Encode(&code, img); err != nil {
		f.Fatal(err)
	}
	if got, err := DecodeBytes(code.Bytes()); err != nil || got != seq.Frame(0) {
		f.Fatalf("the seed image decodes to %q, %v", got, err)
	}
	f.Add(code.Bytes())
	blank := image.NewGray(image.Rect(0, 0, 64, 64))
	var buf bytes.Buffer
	png.Encode(&buf, blank)
	f.Add(buf.Bytes())
	buf.Reset()
	gif.Encode(&buf, image.NewPaletted(image.Rect(0, 0, 8, 8), color.Palette{color.Black, color.White}), nil)
	f.Add(buf.Bytes())
	// A PNG header claiming 100000 x 100000 pixels.
	huge := bytes.Clone(code.Bytes()[:33])
	copy(huge[16:24], []byte{0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0})
	f.Add(huge)
	f.Add([]byte("GIF89a\xff\xff\xff\xff"))
	f.Add([]byte("not an image"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := DecodeBytes(data); err != nil && !errors.Is(err, ErrImage) && !errors.Is(err, ErrNoCode) {
			t.Fatalf("error without ErrImage or ErrNoCode: %v", err)
		}
	})
}
