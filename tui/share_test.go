package tui

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/keremony/keremony/qr"
	"github.com/keremony/keremony/qr/qrtest"
	"github.com/keremony/keremony/transport"
)

// packetBytes is n bytes that compress poorly (hex of a hash chain), so
// the packet takes several frames.
func packetBytes(n int) []byte {
	var b bytes.Buffer
	h := sha256.Sum256([]byte("tui share test"))
	for b.Len() < n {
		fmt.Fprintf(&b, "%x", h)
		h = sha256.Sum256(h[:])
	}
	return b.Bytes()[:n]
}

func testOutgoing(n int) Outgoing {
	return Outgoing{Title: "signature of bob for ceremony c1f2", Name: "bob-c1f2.sig", Data: packetBytes(n)}
}

// shareOf makes a share screen at width x height.
func shareOf(f *fakeBackend, out Outgoing, width, height int) (*common, *shareScreen) {
	c := testCommon(f)
	c.width, c.height = width, height
	return c, newShareScreen(c, out).(*shareScreen)
}

// TestShareKeys: speed, step mode, frame by frame and density change the
// player.
func TestShareKeys(t *testing.T) {
	_, s := shareOf(&fakeBackend{}, testOutgoing(1500), 80, 24)
	if s.player == nil {
		t.Fatalf("no code at 80x24: %v", s.err)
	}
	if s.player.Sequence().Len() < 3 {
		t.Fatalf("want several frames, got %d", s.player.Sequence().Len())
	}
	fps := s.player.FPS()
	drive(s, keys("+")...)
	if s.player.FPS() != fps+1 || !strings.Contains(s.View(), fmt.Sprintf("%d fps", fps+1)) {
		t.Errorf("+: fps %d, want %d", s.player.FPS(), fps+1)
	}
	drive(s, keys("-", "-")...)
	if s.player.FPS() != fps-1 {
		t.Errorf("- -: fps %d, want %d", s.player.FPS(), fps-1)
	}
	drive(s, keys("space")...)
	if !s.player.Stepping() || !strings.Contains(s.View(), "step mode") {
		t.Fatal("space did not switch to step mode")
	}
	i := s.player.Index()
	drive(s, keys("right", "n")...)
	if s.player.Index() != i+2 {
		t.Errorf("→ n: index %d, want %d", s.player.Index(), i+2)
	}
	drive(s, keys("left")...)
	if s.player.Index() != i+1 {
		t.Errorf("←: index %d, want %d", s.player.Index(), i+1)
	}
	drive(s, keys("p")...)
	if s.player.Index() != i || !strings.Contains(s.View(), "frame 1/") {
		t.Errorf("p: index %d, want %d", s.player.Index(), i)
	}
	drive(s, keys("space")...)
	if s.player.Stepping() {
		t.Error("space did not leave step mode")
	}
}

// TestShareDensity: in a large window, ] and [ change the QR version and
// hence the number of frames, shown in the caption.
func TestShareDensity(t *testing.T) {
	_, s := shareOf(&fakeBackend{}, testOutgoing(3000), 200, 70)
	frames := func() int { return s.player.Sequence().Len() }
	normal := frames()
	drive(s, keys("]")...)
	high := frames()
	if s.density != qr.High || high >= normal {
		t.Errorf("]: density %s, %d frames (normal: %d)", s.density, high, normal)
	}
	if v := s.View(); !strings.Contains(v, "density high") || !strings.Contains(v, fmt.Sprintf("%d frames", high)) {
		t.Errorf("caption after ]:\n%s", v)
	}
	_, out := drive(s, keys("]")...)
	if s.density != qr.High || !hasInfo(out, "highest") {
		t.Errorf("] at the highest density: %s %#v", s.density, out)
	}
	drive(s, keys("[", "[")...)
	if low := frames(); s.density != qr.Low || low <= normal {
		t.Errorf("[ [: density %s, %d frames (normal: %d)", s.density, low, normal)
	}
}

// TestShareTicks: a tick advances the frame; ticks of a replaced timer
// and ticks in step mode do not.
func TestShareTicks(t *testing.T) {
	_, s := shareOf(&fakeBackend{}, testOutgoing(1500), 80, 24)
	start := s.Init()
	if start == nil {
		t.Fatal("no timer for a multi-frame packet")
	}
	tick := shareTickMsg{s: s, gen: s.gen}
	i := s.player.Index()
	drive(s, tick)
	if s.player.Index() != i+1 {
		t.Fatalf("tick: index %d, want %d", s.player.Index(), i+1)
	}
	stale := shareTickMsg{s: s, gen: s.gen}
	drive(s, keys("+")...) // a new timer at the new speed
	drive(s, stale)
	if s.player.Index() != i+1 {
		t.Errorf("a stale tick advanced the frame")
	}
	drive(s, keys("space")...)
	drive(s, shareTickMsg{s: s, gen: s.gen})
	if s.player.Index() != i+1 {
		t.Errorf("a tick in step mode advanced the frame")
	}
	other := &shareScreen{}
	drive(s, keys("space")...)
	drive(s, shareTickMsg{s: other, gen: s.gen})
	if s.player.Index() != i+1 {
		t.Errorf("another screen's tick advanced the frame")
	}
}

// TestShareTinyWindow: too small a window says what to do, and grows
// back into a code.
func TestShareTinyWindow(t *testing.T) {
	c, s := shareOf(&fakeBackend{}, testOutgoing(500), 24, 12)
	v := strings.Join(strings.Fields(s.View()), " ")
	if !strings.Contains(v, "make the window at least") || !strings.Contains(v, "write a file with w") {
		t.Errorf("tiny window:\n%s", v)
	}
	assertFits(t, screenView(c, s), 24, 12)
	c.width, c.height = 80, 24
	drive(s, tea.WindowSizeMsg{Width: 80, Height: 24})
	if s.player == nil || strings.Contains(s.View(), "make the window") {
		t.Errorf("no code after growing to 80x24: %v", s.err)
	}
}

// TestShareFits: the code and caption stay within the body at every size.
func TestShareFits(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {100, 30}, {60, 40}, {200, 60}, {40, 30}, {33, 26}, {120, 20}, {300, 100}} {
		c, s := shareOf(&fakeBackend{}, testOutgoing(2000), size[0], size[1])
		for _, k := range []string{"", "]", "]", "[", "[", "["} {
			if k != "" {
				drive(s, keys(k)...)
			}
			assertFits(t, s.View(), c.width, c.bodyHeight())
			assertFits(t, screenView(c, s), c.width, c.height)
		}
	}
}

// TestShareWrite: w opens the path field, which takes q (no quit);
// enter writes the packet there.
func TestShareWrite(t *testing.T) {
	f := &fakeBackend{}
	var wrote []byte
	f.OnWriteFile = func(path string, data []byte) error { wrote = data; return nil }
	c, s := shareOf(f, testOutgoing(300), 80, 24)
	m := &Model{c: c, stack: []screen{s}}
	m.Update(keyMsg("w"))
	if !s.Typing() {
		t.Fatal("w did not focus the path field")
	}
	m.Update(keyMsg("q"))
	if m.quit {
		t.Fatal("q quit while typing a path")
	}
	if got := s.path.Value(); got != "bob-c1f2.sig"+"q" {
		t.Errorf("path %q", got)
	}
	_, out := drive(s, keys("backspace", "enter")...)
	if !slices.Contains(f.Called(), "WriteFile bob-c1f2.sig 300") || !bytes.Equal(wrote, packetBytes(300)) {
		t.Errorf("calls %v", f.Called())
	}
	if s.Typing() || !hasInfo(out, "written to bob-c1f2.sig") {
		t.Errorf("after enter: typing %v, %#v", s.Typing(), out)
	}
	// esc leaves the field without writing.
	n := len(f.Called())
	drive(s, keys("w", "esc")...)
	if s.Typing() || len(f.Called()) != n {
		t.Error("esc in the path field")
	}
}

// TestShareDrop: d puts the packet in the drop folder.
func TestShareDrop(t *testing.T) {
	f := &fakeBackend{Snap: Snapshot{DropDir: "/drop"}}
	f.OnDrop = func(name string, data []byte) (string, error) { return "/drop/" + name, nil }
	_, s := shareOf(f, testOutgoing(300), 80, 24)
	_, out := drive(s, keys("d")...)
	if !slices.Contains(f.Called(), "Drop bob-c1f2.sig 300") || !hasInfo(out, "/drop/bob-c1f2.sig") {
		t.Errorf("d: %v %#v", f.Called(), out)
	}
}

// TestShareNoDropFolder: without a drop folder d is not offered, and
// says why when pressed.
func TestShareNoDropFolder(t *testing.T) {
	f := &fakeBackend{}
	c, s := shareOf(f, testOutgoing(300), 80, 24)
	if v := screenView(c, s); strings.Contains(v, "drop folder") {
		t.Errorf("d offered without a drop folder:\n%s", v)
	}
	drive(s, keys("d")...)
	if slices.Contains(f.Called(), "Drop bob-c1f2.sig 300") || !strings.Contains(s.View(), "no drop folder") {
		t.Errorf("d without a drop folder: %v\n%s", f.Called(), s.View())
	}
}

// TestShareScans renders every frame of a packet as the screen draws it
// (true colour, and no colour on a dark theme and, inverted, on a light
// one), rasterizes it as a terminal would, decodes it and reassembles the
// packet.
func TestShareScans(t *testing.T) {
	data := packetBytes(600)
	for _, tc := range []struct {
		name    string
		profile termenv.Profile
		theme   qrtest.Theme
		invert  bool
	}{
		{"truecolor-light", termenv.TrueColor, qrtest.Light, false},
		{"nocolor-dark", termenv.Ascii, qrtest.Dark, false},
		{"nocolor-light-inverted", termenv.Ascii, qrtest.Light, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lipgloss.SetColorProfile(tc.profile)
			t.Cleanup(func() { lipgloss.SetColorProfile(termenv.Ascii) })
			_, s := shareOf(&fakeBackend{}, Outgoing{Title: "kel", Name: "k", Data: data}, 80, 24)
			if tc.invert {
				drive(s, keys("v")...)
			}
			drive(s, keys("space")...)
			rx := transport.NewReceiver()
			for i := 0; i < 3*s.player.Sequence().Len(); i++ {
				img, err := qrtest.Rasterize(s.View(), qrtest.Options{Theme: tc.theme, CellWidth: 4, Margin: 16})
				if err != nil {
					t.Fatal(err)
				}
				text, err := qr.DecodeImage(img)
				if err != nil {
					t.Fatalf("frame %s: %v", s.player.Position(), err)
				}
				p, err := rx.Add(text)
				if err != nil {
					t.Fatalf("frame %s: %v", s.player.Position(), err)
				}
				if p.Done {
					break
				}
				drive(s, keys("n")...)
			}
			typ, got, ok := rx.Message()
			if !ok {
				t.Fatal("the packet did not reassemble")
			}
			if !bytes.Equal(got, data) || typ != transport.TypeFile {
				t.Errorf("reassembled %d bytes of type %s, want the %d sent", len(got), typ, len(data))
			}
		})
	}
}

// TestShareGolden is the share screen at 80x24 without colours.
func TestShareGolden(t *testing.T) {
	c, s := shareOf(&fakeBackend{Snap: Snapshot{DropDir: "/drop"}}, testOutgoing(600), 80, 24)
	requireTeaGolden(t, c, s)
}

// TestShareExtraParts: after every frame was shown once, the fountain
// parts read as extra parts, never as "27/17".
func TestShareExtraParts(t *testing.T) {
	_, s := shareOf(&fakeBackend{}, testOutgoing(1500), 80, 24)
	if s.player == nil {
		t.Fatalf("no code at 80x24: %v", s.err)
	}
	n := s.player.Sequence().Len()
	drive(s, keys("space")...)
	for range n - 1 {
		drive(s, keys("n")...)
	}
	if v := s.View(); !strings.Contains(v, fmt.Sprintf("frame %d/%d", n, n)) {
		t.Fatalf("the last pure frame:\n%s", v)
	}
	drive(s, keys("n")...)
	v := s.View()
	if !strings.Contains(v, fmt.Sprintf("extra part 1 after %d", n)) || strings.Contains(v, fmt.Sprintf("%d/%d", n+1, n)) {
		t.Errorf("the first fountain part:\n%s", v)
	}
	requireTeaGolden(t, s.c, s)
}

// TestShareLongStatus: a long status on the share screen takes only the
// blank rows under the code: the code keeps its layout.
func TestShareLongStatus(t *testing.T) {
	c, s := shareOf(&fakeBackend{}, testOutgoing(300), 80, 24)
	if s.player == nil {
		t.Fatalf("no code: %v", s.err)
	}
	before := s.player.Layout()
	m := New(Options{PollInterval: -1}, nil)
	m.c = c
	m.stack = []screen{newHomeScreen(c), s}
	m.Update(errMsg{"", fmt.Errorf("a long refusal: %s", strings.Repeat("every word of it matters ", 12))})
	v := m.View()
	assertFits(t, v, 80, 24)
	if s.player.Layout() != before {
		t.Errorf("the status re-laid the code out: %+v, then %+v", before, s.player.Layout())
	}
	if !strings.Contains(v, "a long refusal: every word") {
		t.Errorf("no status:\n%s", v)
	}
}
