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

// screenOut is the output of an animation that tests watch while it
// runs.
type screenOut struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *screenOut) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *screenOut) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// waitFor waits until the output since from contains want, and returns
// the output's length then.
func (s *screenOut) waitFor(t *testing.T, from int, want string) int {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if out := s.String(); strings.Contains(out[from:], want) {
			return len(out)
		}
	}
	t.Fatalf("the output lacks %q:\n%s", want, s.String()[from:])
	return 0
}

// qrShowLive runs `keremony qr show ARGS...` with keys written to a pipe.
func qrShowLive(t *testing.T, args ...string) (keys *io.PipeWriter, out *screenOut, code <-chan int, errOut *bytes.Buffer) {
	t.Helper()
	qrEnv(t)
	pr, pw := io.Pipe()
	out, errOut = &screenOut{}, &bytes.Buffer{}
	done := make(chan int, 1)
	go func() { done <- runQR(append([]string{"show"}, args...), pr, out, errOut) }()
	t.Cleanup(func() { pw.Close() })
	return pw, out, done, errOut
}

// exitCode waits for the animation to end.
func exitCode(t *testing.T, code <-chan int) int {
	t.Helper()
	select {
	case c := <-code:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("qr show did not end")
	}
	return -1
}

// TestQRShowStep drives the share screen in step mode with keys on
// standard input: → and n step on, p steps back, q quits.
func TestQRShowStep(t *testing.T) {
	path, _ := qrTestFile(t, 2000)
	keys, out, code, errOut := qrShowLive(t, "--step", "--cols", "120", "--rows", "40", path)
	at := out.waitFor(t, 0, "frame 1/")
	hasAll := func(from int, wants ...string) {
		for _, w := range wants {
			if !strings.Contains(out.String()[from:], w) {
				t.Errorf("output lacks %q", w)
			}
		}
	}
	hasAll(0, "event.cesr", "step mode", "KC1 F", "density normal (v12)", "q/esc quit")
	keys.Write([]byte("\x1b[C"))
	at = out.waitFor(t, at, "frame 2/")
	keys.Write([]byte("n"))
	at = out.waitFor(t, at, "frame 3/")
	keys.Write([]byte("p"))
	out.waitFor(t, at, "frame 2/")
	keys.Write([]byte("q"))
	if c := exitCode(t, code); c != 0 {
		t.Fatalf("show: %d %s", c, errOut)
	}
	if strings.Contains(out.String(), "frame 4/") {
		t.Error("stepped past frame 3")
	}
}

// TestQRShowAnimates: without key presses the frames advance at the frame
// rate until standard input ends.
func TestQRShowAnimates(t *testing.T) {
	path, _ := qrTestFile(t, 2000)
	start := time.Now()
	keys, out, code, errOut := qrShowLive(t, "--fps", "10", path)
	out.waitFor(t, 0, "frame 4/")
	if el := time.Since(start); el < 250*time.Millisecond {
		t.Errorf("4 frames at 10 fps took only %v", el)
	}
	if !strings.Contains(out.String(), "10 fps") {
		t.Error("caption lacks the frame rate")
	}
	keys.Close()
	if c := exitCode(t, code); c != 0 {
		t.Fatalf("show: %d %s", c, errOut)
	}
}
