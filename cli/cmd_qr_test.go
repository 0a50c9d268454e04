package cli

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keremony/keremony/qr"
	"github.com/keremony/keremony/qr/qrtest"
)

// qrRun runs `keremony qr ARGS...` in-process.
func qrRun(t *testing.T, stdin io.Reader, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	qrEnv(t)
	var out, errOut bytes.Buffer
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	code = runQR(args, stdin, &out, &errOut)
	return code, out.String(), errOut.String()
}

// qrEnv clears the environment that changes how codes are drawn
// (TERM=linux and XDG_SESSION_TYPE=tty select full blocks, NO_COLOR drops
// the colours), so the tests behave the same on every machine.
func qrEnv(t *testing.T) {
	t.Helper()
	t.Setenv("TERM", "xterm-256color")
	t.Setenv("XDG_SESSION_TYPE", "")
	t.Setenv("NO_COLOR", "")
}

// qrTestFile writes a KERI-like event stream of about n bytes.
func qrTestFile(t *testing.T, n int) (string, []byte) {
	t.Helper()
	rng := rand.New(rand.NewPCG(uint64(n), 3))
	const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	var b strings.Builder
	for b.Len() < n {
		fmt.Fprintf(&b, `{"v":"KERI10JSON0001e7_","t":"icp","d":"E`)
		for i := 0; i < 43; i++ {
			b.WriteByte(b64[rng.IntN(64)])
		}
		b.WriteString(`","k":["D`)
		for i := 0; i < 43; i++ {
			b.WriteByte(b64[rng.IntN(64)])
		}
		b.WriteString(`"]}-AAB`)
	}
	data := []byte(b.String()[:n])
	path := filepath.Join(t.TempDir(), "event.cesr")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, data
}

func TestQRTextScanRoundTrip(t *testing.T) {
	path, data := qrTestFile(t, 3000)
	code, frames, errOut := qrRun(t, nil, "show", "--text", "--type", "E", path)
	if code != 0 {
		t.Fatalf("show --text: %d %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(frames), "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "KC1:E/1-") {
		t.Fatalf("frames: %q", frames)
	}
	// Shuffled, lower-cased, with a blank line, a foreign frame and a
	// keyboard-layout-mangled one in between: still reassembles.
	other, _ := qrTestFile(t, 500)
	_, otherFrames, _ := qrRun(t, nil, "show", "--text", other)
	in := []string{strings.ToLower(lines[len(lines)-1]), "", strings.Split(otherFrames, "\n")[0], "KC1Ö" + lines[0][4:]}
	in = append(in, lines[:len(lines)-1]...)
	out := filepath.Join(t.TempDir(), "back.cesr")
	code, stdout, errOut := qrRun(t, strings.NewReader(strings.Join(in, "\r\n")), "scan", "--out", out)
	if code != 0 {
		t.Fatalf("scan: %d\n%s", code, errOut)
	}
	if stdout != "" {
		t.Fatalf("stdout with --out: %q", stdout)
	}
	got, _ := os.ReadFile(out)
	if !bytes.Equal(got, data) {
		t.Fatal("scan --out: bytes differ")
	}
	for _, want := range []string{"ignored:", "another message", "keyboard layout", "hint:", "received 3000 bytes"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("scan stderr lacks %q:\n%s", want, errOut)
		}
	}
	// To standard output.
	code, stdout, _ = qrRun(t, strings.NewReader(frames), "scan")
	if code != 0 || stdout != string(data) {
		t.Fatalf("scan to stdout: %d", code)
	}
	// Incomplete input.
	code, _, errOut = qrRun(t, strings.NewReader(lines[0]+"\n"), "scan")
	if code != 1 || !strings.Contains(errOut, "incomplete") {
		t.Fatalf("incomplete scan: %d %s", code, errOut)
	}
	code, _, errOut = qrRun(t, strings.NewReader("hello\n"), "scan")
	if code != 1 || !strings.Contains(errOut, "no kc1 frame") {
		t.Fatalf("no frames: %d %s", code, errOut)
	}
}

// TestQRPrintReadImages: the --print output at 80x24, rasterized to PNG
// screenshots on both themes, read back with `qr read`.
func TestQRPrintReadImages(t *testing.T) {
	path, data := qrTestFile(t, 1500)
	code, printed, errOut := qrRun(t, nil, "show", "--print", "--cols", "80", "--rows", "24", "--type", "K", path)
	if code != 0 {
		t.Fatalf("show --print: %d %s", code, errOut)
	}
	blocks := strings.Split(strings.TrimSuffix(printed, "\n\n"), "\n\n")
	if len(blocks) < 2 {
		t.Fatalf("%d blocks", len(blocks))
	}
	dir := t.TempDir()
	for _, th := range []qrtest.Theme{qrtest.Dark, qrtest.Light} {
		var imgs []string
		for i, b := range blocks {
			lines := strings.Split(b, "\n")
			if len(lines) > 24-3 {
				t.Fatalf("block %d has %d lines", i, len(lines))
			}
			img, err := qrtest.Rasterize(b, qrtest.Options{Theme: th, CellWidth: 4, Margin: 16})
			if err != nil {
				t.Fatal(err)
			}
			if img.Bounds().Dx() > 80*4+32 {
				t.Fatalf("block %d is wider than 80 cells", i)
			}
			p := filepath.Join(dir, fmt.Sprintf("%s-%d.png", th.Name, i))
			if err := qrtest.WritePNG(p, img); err != nil {
				t.Fatal(err)
			}
			imgs = append(imgs, p)
		}
		// A file that is not an image is reported and skipped.
		junk := filepath.Join(dir, "junk.png")
		os.WriteFile(junk, []byte("not a png"), 0o644)
		args := append([]string{"read", junk}, imgs...)
		code, stdout, errOut := qrRun(t, nil, args...)
		if code != 0 || stdout != string(data) {
			t.Fatalf("%s theme: read: %d\n%s", th.Name, code, errOut)
		}
		if !strings.Contains(errOut, "unreadable image") {
			t.Errorf("junk image not reported:\n%s", errOut)
		}
	}
	// Too few images.
	code, _, errOut = qrRun(t, nil, "read", filepath.Join(dir, "dark-0.png"))
	if code != 1 || !strings.Contains(errOut, "incomplete") {
		t.Fatalf("one image: %d %s", code, errOut)
	}
}

// TestQRShowStep drives the animation in step mode with keys on stdin.
func TestQRShowStep(t *testing.T) {
	path, _ := qrTestFile(t, 2000)
	code, out, errOut := qrRun(t, strings.NewReader("  \x1b[Cbq"), "show", "--step", "--cols", "120", "--rows", "40", path)
	if code != 0 {
		t.Fatalf("show: %d %s", code, errOut)
	}
	for _, want := range []string{"\x1b[?25l", "\x1b[2J", "KC1 F 1/", "KC1 F 2/", "KC1 F 3/", "KC1 F 4/", "step mode", "v12", "\x1b[?25h"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if n := strings.Count(out, "\x1b[H"); n != 5 {
		t.Errorf("%d frames drawn, want 5 (start, 3 steps, back)", n)
	}
	// The last frame drawn is the one before: 'b' went back from 4 to 3.
	last := out[strings.LastIndex(out, "\x1b[H"):]
	if !strings.Contains(last, "KC1 F 3/") {
		t.Errorf("after b: %q", last[len(last)-120:])
	}
	// Each frame is a code that scans.
	frame := last[len("\x1b[H"):strings.Index(last, "KC1 F")]
	frame = strings.ReplaceAll(frame, "\r\n", "\n")
	img, err := qrtest.Rasterize(frame, qrtest.Options{Theme: qrtest.Light, CellWidth: 4})
	if err != nil {
		t.Fatal(err)
	}
	text, err := qr.DecodeImage(img)
	if err != nil || !strings.HasPrefix(text, "KC1:F/3-") {
		t.Errorf("frame 3 does not scan: %q %v", text, err)
	}
}

// frameCounter is an output that closes the animation's input once it has
// seen a number of frames, so the test does not depend on the machine's speed.
type frameCounter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	want   int
	closed bool
	stdin  *io.PipeWriter
}

func (f *frameCounter) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.buf.Write(p)
	if !f.closed && strings.Count(f.buf.String(), "\x1b[H") >= f.want {
		f.closed = true
		f.stdin.Close()
	}
	return len(p), nil
}

// TestQRShowAnimates: without key presses the frames advance at the frame
// rate until standard input closes.
func TestQRShowAnimates(t *testing.T) {
	path, _ := qrTestFile(t, 2000)
	pr, pw := io.Pipe()
	qrEnv(t)
	out := &frameCounter{want: 4, stdin: pw}
	timer := time.AfterFunc(20*time.Second, func() { pw.Close() })
	defer timer.Stop()
	start := time.Now()
	var errOut bytes.Buffer
	code := runQR([]string{"show", "--fps", "10", path}, pr, out, &errOut)
	if code != 0 {
		t.Fatalf("show: %d %s", code, errOut.String())
	}
	got := out.buf.String()
	if n := strings.Count(got, "\x1b[H"); n < 4 {
		t.Fatalf("%d frames drawn", n)
	}
	if el := time.Since(start); el < 250*time.Millisecond {
		t.Errorf("4 frames at 10 fps took only %v", el)
	}
	if !strings.Contains(got, "10 fps") || !strings.Contains(got, "KC1 F 4/") {
		t.Error("status line")
	}
}

func TestQRUsage(t *testing.T) {
	path, _ := qrTestFile(t, 100)
	big := filepath.Join(t.TempDir(), "big")
	os.WriteFile(big, make([]byte, 1<<20+1), 0o644)
	cases := []struct {
		args []string
		code int
		msg  string
	}{
		{nil, 2, "usage"},
		{[]string{"help"}, 0, ""},
		{[]string{"bogus"}, 2, "unknown subcommand"},
		{[]string{"show"}, 2, "want one FILE"},
		{[]string{"show", path, "--density", "extreme"}, 2, "density"},
		{[]string{"show", path, "--fps", "11"}, 2, "--fps"},
		{[]string{"show", path, "--type", "X"}, 2, "unknown message type"},
		{[]string{"show", path, "--palette", "pink"}, 2, "palette"},
		{[]string{"show", path, "--cols", "80"}, 2, "--cols and --rows"},
		{[]string{"show", path, "--print", "--text"}, 2, "exclude"},
		{[]string{"show", "-"}, 2, "only with --print"},
		{[]string{"show", "--print", filepath.Join(t.TempDir(), "missing")}, 1, "no such file"},
		{[]string{"show", "--print", big}, 1, "too large"},
		{[]string{"show", "--print", "--cols", "30", "--rows", "10", path}, 1, "window too small"},
		{[]string{"show", "--print", "--full", "--cols", "80", "--rows", "24", path}, 1, "full blocks need"},
		{[]string{"read"}, 2, "want at least one IMAGE"},
		{[]string{"scan", "extra"}, 2, "unexpected arguments"},
		{[]string{"read", "--nope", "x.png"}, 2, ""},
	}
	for _, c := range cases {
		code, out, errOut := qrRun(t, nil, c.args...)
		if code != c.code || !strings.Contains(out+errOut, c.msg) {
			t.Errorf("qr %q: exit %d (want %d), output lacks %q:\n%s%s", c.args, code, c.code, c.msg, out, errOut)
		}
	}
	// Standard input as FILE for --text.
	code, out, _ := qrRun(t, strings.NewReader("hello"), "show", "--text", "-")
	if code != 0 || !strings.HasPrefix(out, "KC1:F/1-1/") {
		t.Fatalf("stdin: %d %q", code, out)
	}
}

func TestQRDispatch(t *testing.T) {
	var out, errOut bytes.Buffer
	dispatch([]string{"help"}, strings.NewReader(""), &out, &errOut)
	if !strings.Contains(out.String(), "qr ") || !strings.Contains(out.String(), "animated QR codes") {
		t.Fatalf("usage lacks qr:\n%s", out.String())
	}
}
