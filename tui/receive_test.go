package tui

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/keremony/keremony/transport"
)

func TestReceiveFrames(t *testing.T) {
	msg := noise(400)
	frames := kc1Frames(t, msg, 120)
	if len(frames) < 3 {
		t.Fatalf("want a message of several frames, got %d", len(frames))
	}
	var got []byte
	f := &fakeBackend{}
	f.OnReceive = func(source string, data []byte) ([]Notice, error) {
		got = data
		return []Notice{{Text: "signature of bob added"}}, nil
	}
	c := testCommon(f)
	s := screen(newReceiveScreen(c, ""))
	// The first frame, then a frame of another message, then garbage: the
	// bad ones are refused and the collected frame is kept.
	other := kc1Frames(t, []byte("another message entirely, long enough to need frames"), 60)
	s, _ = drive(s, append(typeText(frames[0]), keyMsg("enter"))...)
	for _, bad := range []struct {
		line string
		want error
	}{
		{other[0], transport.ErrOtherMessage},
		{"KC1:ZZZ", transport.ErrFrameSyntax},
	} {
		s, _ = drive(s, append(typeText(bad.line), keyMsg("enter"))...)
		v := s.View()
		if !strings.Contains(v, "frame refused") || !strings.Contains(v, "1 frames collected are kept") {
			t.Errorf("bad frame %q: view\n%s", bad.line, v)
		}
		if _, err := s.(*receiveScreen).rx.Add(bad.line); !errors.Is(err, bad.want) {
			t.Errorf("frame %q: error %v, want %v", bad.line, err, bad.want)
		}
	}
	if p := s.(*receiveScreen).rx.Progress(); p.Held != 1 {
		t.Errorf("after refused frames: %d fragments held, want 1", p.Held)
	}
	var out []any
	for _, fr := range frames[1:] {
		var o []tea.Msg
		s, o = drive(s, append(typeText(fr), keyMsg("enter"))...)
		for _, x := range o {
			out = append(out, x)
		}
	}
	if !bytes.Equal(got, msg) {
		t.Errorf("Receive got %d bytes, want the %d-byte message", len(got), len(msg))
	}
	if v := s.View(); !strings.Contains(v, "✓ imported: signature of bob added") {
		t.Errorf("outcome not shown:\n%s", v)
	}
	if len(out) == 0 {
		t.Error("no notices passed on to the root")
	}
}

// noise is n bytes that do not compress.
func noise(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestReceiveFileAndImage(t *testing.T) {
	f := &fakeBackend{}
	errMissing := os.ErrNotExist
	f.OnReadFile = func(path string, limit int) ([]byte, error) {
		if path == "missing.json" {
			return nil, errMissing
		}
		return []byte("packet"), nil
	}
	var sources []string
	f.OnReceive = func(source string, data []byte) ([]Notice, error) {
		sources = append(sources, source)
		return []Notice{{Text: "card of bob in the inbox"}}, nil
	}
	c := testCommon(f)
	s := screen(newReceiveScreen(c, ""))
	s, _ = drive(s, keyMsg("tab")) // file mode
	s, _ = drive(s, append(typeText("sig.json"), keyMsg("enter"))...)
	if len(sources) != 1 || sources[0] != "sig.json" {
		t.Errorf("Receive sources %v, want [sig.json]", sources)
	}
	s, out := drive(s, append(typeText("missing.json"), keyMsg("enter"))...)
	if len(out) != 1 || !errors.Is(out[0].(errMsg).err, errImport) || !errors.Is(out[0].(errMsg).err, errMissing) {
		t.Errorf("missing file: got %v, want errImport wrapping ErrNotExist", out)
	}
	if !strings.Contains(s.View(), "✗") {
		t.Errorf("error not shown inline:\n%s", s.View())
	}
	s, _ = drive(s, keyMsg("tab")) // image mode
	_, out = drive(s, append(typeText("no-such-image.png"), keyMsg("enter"))...)
	if len(out) != 1 || !errors.Is(out[0].(errMsg).err, errImport) {
		t.Errorf("missing image: got %v, want errImport", out)
	}
}

func TestReceiveGolden(t *testing.T) {
	c := testCommon(&fakeBackend{})
	msg := noise(300)
	frames := kc1Frames(t, msg, 100)
	s, _ := drive(newReceiveScreen(c, "signatures for ceremony 3f2a9c1e"), append(typeText(frames[0]), keyMsg("enter"))...)
	requireTeaGolden(t, c, s)
}

// TestReceiveCompleteStays: once a message is complete and imported, the
// scanner keeps reading the same animation: those frames are ignored
// quietly and the outcome stays; another message's frames start afresh.
func TestReceiveCompleteStays(t *testing.T) {
	msg := noise(300)
	frames := kc1Frames(t, msg, 100)
	f := &fakeBackend{}
	f.OnReceive = func(string, []byte) ([]Notice, error) {
		return []Notice{{Text: "proposal c1234567 (inception of acme, sn 0, from alice) in the inbox"}}, nil
	}
	c := testCommon(f)
	s := screen(newReceiveScreen(c, ""))
	for _, fr := range frames {
		s, _ = drive(s, append(typeText(fr), keyMsg("enter"))...)
	}
	for _, fr := range frames[:3] { // the animation goes round again
		s, _ = drive(s, append(typeText(fr), keyMsg("enter"))...)
	}
	if n := count(f.Called(), "Receive qr frames 300"); n != 1 {
		t.Errorf("the message was imported %d times: %v", n, f.Called())
	}
	v := s.View()
	hasAll(t, "view", v, "✓ imported: proposal c1234567 (inception of acme, sn 0, from alice) in the inbox", "3 more frames of message")
	if strings.Contains(v, "frame refused") || strings.Contains(v, "parts known") {
		t.Errorf("the repeated frames show:\n%s", v)
	}
	c.busy = 0
	requireTeaGolden(t, c, s)

	other := kc1Frames(t, noise(250), 100)
	s, _ = drive(s, append(typeText(other[0]), keyMsg("enter"))...)
	hasAll(t, "another message", s.View(), "frames: 1 received", "✓ imported: proposal c1234567")
}

// TestReceiveImageSays: image mode says what the image decoded to.
func TestReceiveImageSays(t *testing.T) {
	frames := kc1Frames(t, noise(300), 100)
	c := testCommon(&fakeBackend{})
	s := screen(newReceiveScreen(c, ""))
	s, _ = drive(s, keys("tab", "tab")...)
	s, _ = drive(s, imageFrameMsg{path: "shot.png", text: frames[1]})
	f, err := transport.ParseFrame(frames[1])
	if err != nil {
		t.Fatal(err)
	}
	hasAll(t, "view", strings.Join(strings.Fields(s.View()), " "), "decoded shot.png: a KC1 frame, part 2 of "+strconv.Itoa(f.Total)+" of message "+f.MID+" (type E)")
	requireTeaGolden(t, c, s)
	s, _ = drive(s, imageFrameMsg{path: "cat.png", text: "https://example.com/a-cat"})
	hasAll(t, "view", strings.Join(strings.Fields(s.View()), " "), `decoded cat.png: "https://example.com/a-cat", which is not a KC1 frame`)
}
