package tui

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/keremony/keremony/qr"
	"github.com/keremony/keremony/qr/qrtest"
	"github.com/keremony/keremony/transport"
)

// startPlay runs the Play program's model in teatest at width x height.
func startPlay(t *testing.T, data []byte, opts PlayOptions, width, height int) *teatest.TestModel {
	t.Helper()
	m := newPlayModel("event.cesr", "event.cesr", data, opts)
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(width, height))
	waitScreen(t, tm, "frame 1/")
	return tm
}

// finalPlay waits for the program to end (it must end by itself) and
// returns its model.
func finalPlay(t *testing.T, tm *teatest.TestModel) *playModel {
	t.Helper()
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	return tm.FinalModel(t).(*playModel)
}

// TestPlayKeys: the frames advance by themselves; + and - change the
// speed, v inverts, space steps, n and p go frame by frame, q quits.
func TestPlayKeys(t *testing.T) {
	tm := startPlay(t, packetBytes(1500), PlayOptions{}, 80, 24)
	waitScreen(t, tm, "frame 3/") // at 5 fps
	tm.Type("+")
	waitScreen(t, tm, "6 fps")
	tm.Type("--")
	waitScreen(t, tm, "4 fps")
	tm.Type("v")
	tm.Type(" ")
	waitScreen(t, tm, "step mode")
	tm.Type("n")
	tm.Type("n")
	tm.Type("p")
	tm.Type("q")
	m := finalPlay(t, tm)
	s := m.share
	if !m.quit || s.player == nil {
		t.Fatalf("q: quit %v, player %v", m.quit, s.player)
	}
	if s.player.FPS() != 4 || !s.player.Stepping() || !s.inverted || !s.player.Layout().Invert {
		t.Errorf("fps %d, stepping %v, inverted %v", s.player.FPS(), s.player.Stepping(), s.inverted)
	}
	if s.player.Index() < 3 {
		t.Errorf("index %d: the frames did not advance", s.player.Index())
	}
}

// TestPlayNoBackend: neither w nor d is offered or works; esc quits.
func TestPlayNoBackend(t *testing.T) {
	tm := startPlay(t, packetBytes(300), PlayOptions{Step: true}, 80, 24)
	tm.Type("w")
	tm.Type("d")
	tm.Send(tea.KeyMsg{Type: tea.KeyEsc})
	m := finalPlay(t, tm)
	if m.share.Typing() || !m.quit {
		t.Fatalf("w opened the path field, or esc did not quit")
	}
	m.quit = false
	v := m.View()
	for _, bad := range []string{"write", "drop"} {
		if strings.Contains(v, bad) {
			t.Errorf("the view offers %q:\n%s", bad, v)
		}
	}
	hasAll(t, "view", v, "step mode", "frame 1/", "? help  q/esc quit")
	assertFits(t, v, 80, 24)
	// Without the header and its rule the code is larger than in the TUI.
	if strings.Contains(v, "keremony ·") {
		t.Errorf("the view has the TUI's header:\n%s", v)
	}
	_, inTUI := shareOf(&fakeBackend{}, testOutgoing(300), 80, 24)
	if got, tuiV := m.share.player.Layout().Version, inTUI.player.Layout().Version; got <= tuiV {
		t.Errorf("v%d at 80x24, no larger than the TUI's v%d", got, tuiV)
	}
}

// TestPlayScans: every frame shown, with the window's chrome around it,
// scans (no colours, on a dark and, inverted, on a light theme), and the
// frames reassemble the data with the type asked for.
func TestPlayScans(t *testing.T) {
	data := packetBytes(1200)
	for _, tc := range []struct {
		name   string
		theme  qrtest.Theme
		invert bool
	}{
		{"dark", qrtest.Dark, false},
		{"light-inverted", qrtest.Light, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tm := startPlay(t, data, PlayOptions{Type: transport.TypeEvents, Step: true, Invert: tc.invert}, 80, 24)
			tm.Type("q")
			m := finalPlay(t, tm)
			m.quit = false
			rx := transport.NewReceiver()
			for i := 0; i < 3*m.share.player.Sequence().Len(); i++ {
				view := m.View()
				assertFits(t, view, 80, 24)
				img, err := qrtest.Rasterize(view, qrtest.Options{Theme: tc.theme, CellWidth: 4, Margin: 16})
				if err != nil {
					t.Fatal(err)
				}
				text, err := qr.DecodeImage(img)
				if err != nil {
					t.Fatalf("frame %s: %v", m.share.player.Position(), err)
				}
				p, err := rx.Add(text)
				if err != nil {
					t.Fatalf("frame %s: %v", m.share.player.Position(), err)
				}
				if p.Done {
					break
				}
				m.Update(keyMsg("n"))
			}
			typ, got, ok := rx.Message()
			if !ok || !bytes.Equal(got, data) || typ != transport.TypeEvents {
				t.Errorf("reassembled %v: %d bytes of type %s, want the %d sent as E", ok, len(got), typ, len(data))
			}
		})
	}
}

// TestPlayOptions: the options set the starting state; Cols and Rows cap
// the window the code is fitted to.
func TestPlayOptions(t *testing.T) {
	pal := qr.PaletteTrueColor
	m := newPlayModel("t", "n", packetBytes(3000), PlayOptions{Density: qr.High, FPS: 50, Palette: &pal, FullBlock: true, Cols: 200, Rows: 80})
	s := m.share
	if s.player == nil {
		t.Fatalf("no code at 200x80: %v", s.err)
	}
	l := s.player.Layout()
	if s.density != qr.High || s.player.FPS() != qr.MaxFPS || l.Palette != qr.PaletteTrueColor || l.Mode != qr.FullBlock || s.typ != transport.TypeFile {
		t.Errorf("density %s, fps %d, palette %v, mode %v, type %s", s.density, s.player.FPS(), l.Palette, l.Mode, s.typ)
	}
	if m.c.width != 200 || m.c.height != 80 {
		t.Errorf("window %dx%d before the terminal reports one", m.c.width, m.c.height)
	}
	// A larger terminal: the code stays fitted to 80x24.
	capped := newPlayModel("t", "n", packetBytes(3000), PlayOptions{Cols: 80, Rows: 24})
	capped.Update(tea.WindowSizeMsg{Width: 200, Height: 80})
	whole := newPlayModel("t", "n", packetBytes(3000), PlayOptions{})
	if v, want := capped.share.player.Layout().Version, whole.share.player.Layout().Version; v != want {
		t.Errorf("capped to 80x24 in 200x80: v%d, want v%d", v, want)
	}
	whole.Update(tea.WindowSizeMsg{Width: 200, Height: 80})
	tiny := newPlayModel("t", "n", packetBytes(300), PlayOptions{Cols: 30, Rows: 10})
	tiny.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	if v := strings.Join(strings.Fields(tiny.View()), " "); !strings.Contains(v, "kept within 30x10") {
		t.Errorf("a cap too small:\n%s", v)
	}
	if whole.share.player.Layout().Version <= capped.share.player.Layout().Version {
		t.Error("without a cap the code does not grow with the window")
	}
}

// TestPlayStreams runs Play itself: the end of its input quits it, as q
// does; empty data is an error.
func TestPlayStreams(t *testing.T) {
	data := packetBytes(800)
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- Play("t", "n", data, PlayOptions{Input: strings.NewReader(""), Output: &out}) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the end of input did not end Play")
	}
	pr, pw := io.Pipe()
	defer pw.Close()
	out.Reset()
	go func() { done <- Play("t", "n", data, PlayOptions{Input: pr, Output: &out}) }()
	pw.Write([]byte("q"))
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("q did not end Play")
	}
	if err := Play("t", "n", nil, PlayOptions{Input: strings.NewReader(""), Output: io.Discard}); !errors.Is(err, ErrNothingToPlay) {
		t.Errorf("empty data: %v", err)
	}
}
