package qr

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/draw"
	_ "image/gif"  // screenshots
	_ "image/jpeg" // photos
	_ "image/png"  // screenshots
	"io"
	"os"

	"github.com/makiuchi-d/gozxing"
	gzqr "github.com/makiuchi-d/gozxing/qrcode"
)

var (
	// ErrNoCode: no QR code could be decoded from the image.
	ErrNoCode = errors.New("no qr code found")
	// ErrImage: the file is not a readable PNG, JPEG or GIF image.
	ErrImage = errors.New("unreadable image")
)

// maxImagePixels bounds the decoded image size (a 4K frame is 8.3 Mpx).
const maxImagePixels = 40 << 20

// DecodeImage returns the text of the QR code in img. It tries gozxing's
// HybridBinarizer, then its GlobalHistogramBinarizer (which recovers
// blurred frames), then both again on the inverted image (light-on-dark
// codes), as qr-transport.md section 9 recommends; if all fail, the same
// on a 3x3-blurred copy and on copies resampled to 3/4 and 2/3 of the size.
// A miss costs about four times a hit.
func DecodeImage(img image.Image) (string, error) {
	text, err := decodeLuminance(gozxing.NewLuminanceSourceFromImage(img))
	if err == nil {
		return text, nil
	}
	// gozxing misses some sharp, noise-free codes that zbar reads (rsc.io/qr
	// always uses mask 0, and ZXing has known false finder detections). A
	// slightly blurred copy, and copies resampled as a camera at another
	// distance would see them, recover nearly all of those screenshots.
	b := img.Bounds()
	if b.Dx() < 63 || b.Dy() < 63 {
		return "", err
	}
	for _, alt := range []func(image.Image) image.Image{
		blur3,
		func(i image.Image) image.Image { return resample(i, 3, 4) },
		func(i image.Image) image.Image { return resample(i, 2, 3) },
	} {
		if text, err2 := decodeLuminance(gozxing.NewLuminanceSourceFromImage(alt(img))); err2 == nil {
			return text, nil
		}
	}
	return "", err
}

// gray copies img into an 8-bit gray image with origin (0, 0).
func gray(img image.Image) *image.Gray {
	b := img.Bounds()
	g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(g, g.Bounds(), img, b.Min, draw.Src)
	return g
}

// blur3 returns img smoothed with a 3x3 box filter.
func blur3(img image.Image) image.Image {
	g := gray(img)
	w, h := g.Rect.Dx(), g.Rect.Dy()
	out := image.NewGray(g.Rect)
	copy(out.Pix, g.Pix)
	for y := 1; y < h-1; y++ {
		for x := 1; x < w-1; x++ {
			s := 0
			for dy := -1; dy <= 1; dy++ {
				row := (y+dy)*g.Stride + x
				s += int(g.Pix[row-1]) + int(g.Pix[row]) + int(g.Pix[row+1])
			}
			out.Pix[y*out.Stride+x] = uint8(s / 9)
		}
	}
	return out
}

// resample scales img by num/den with nearest-neighbour sampling.
func resample(img image.Image, num, den int) image.Image {
	g := gray(img)
	w, h := g.Rect.Dx()*num/den, g.Rect.Dy()*num/den
	out := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			out.Pix[y*out.Stride+x] = g.Pix[(y*den/num)*g.Stride+x*den/num]
		}
	}
	return out
}

func decodeLuminance(src gozxing.LuminanceSource) (string, error) {
	hints := map[gozxing.DecodeHintType]interface{}{gozxing.DecodeHintType_TRY_HARDER: true}
	var lastErr error
	for _, s := range []gozxing.LuminanceSource{src, src.Invert()} {
		for _, bin := range []func(gozxing.LuminanceSource) gozxing.Binarizer{gozxing.NewHybridBinarizer, gozxing.NewGlobalHistgramBinarizer} {
			bmp, err := gozxing.NewBinaryBitmap(bin(s))
			if err != nil {
				lastErr = err
				continue
			}
			res, err := gzqr.NewQRCodeReader().Decode(bmp, hints)
			if err == nil {
				return res.GetText(), nil
			}
			lastErr = err
		}
	}
	return "", fmt.Errorf("%w: %v", ErrNoCode, lastErr)
}

// maxImageBytes bounds an image file read for decoding.
const maxImageBytes = 64 << 20

// DecodeReader decodes an image (PNG, JPEG or GIF, at most 64 MiB and
// maxImagePixels pixels) and returns its QR text.
func DecodeReader(r io.Reader) (string, error) { return decodeReader("", r) }

// DecodeBytes decodes an image held in memory. Its size is read from the
// header first: an image of more than maxImagePixels pixels is refused
// before any pixel is decoded.
func DecodeBytes(data []byte) (string, error) { return decodeBytes("", data) }

// DecodeFile decodes the image file at path and returns its QR text.
func DecodeFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrImage, err)
	}
	defer f.Close()
	return decodeReader(path, f)
}

// decodeReader and decodeBytes name the image (name, when not "") in
// their errors.
func decodeReader(name string, r io.Reader) (string, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxImageBytes+1))
	if err != nil {
		return "", imageErr(name, err)
	}
	if len(data) > maxImageBytes {
		return "", imageErr(name, fmt.Errorf("more than %d bytes", maxImageBytes))
	}
	return decodeBytes(name, data)
}

func decodeBytes(name string, data []byte) (string, error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return "", imageErr(name, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > maxImagePixels {
		return "", imageErr(name, fmt.Errorf("%dx%d pixels is too large", cfg.Width, cfg.Height))
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return "", imageErr(name, err)
	}
	text, err := DecodeImage(img)
	if err != nil && name != "" {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return text, err
}

func imageErr(name string, err error) error {
	if name == "" {
		return fmt.Errorf("%w: %v", ErrImage, err)
	}
	return fmt.Errorf("%w: %s: %v", ErrImage, name, err)
}
