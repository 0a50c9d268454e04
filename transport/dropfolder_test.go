package transport

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var errBadFile = errors.New("not a signature envelope")

type handled struct {
	mu    sync.Mutex
	files map[string][]string
}

func newHandled() *handled { return &handled{files: map[string][]string{}} }

func (h *handled) handle(name string, data []byte) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.files[name] = append(h.files[name], string(data))
	if strings.HasPrefix(string(data), "bad") {
		return errBadFile
	}
	return nil
}

func (h *handled) count(name string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.files[name])
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func poll(t *testing.T, d *DropFolder) []DropEvent {
	t.Helper()
	ev, err := d.Poll()
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestDropFolderAcceptsOnceWhenStable(t *testing.T) {
	dir := t.TempDir()
	h := newHandled()
	d, err := NewDropFolder(dir, h.handle)
	if err != nil {
		t.Fatal(err)
	}
	write(t, dir, "a.sig.json", `{"kc":"sig/1"}`)
	if ev := poll(t, d); len(ev) != 0 || h.count("a.sig.json") != 0 {
		t.Fatalf("first sight must not ingest: %v", ev)
	}
	ev := poll(t, d)
	if len(ev) != 1 || !ev[0].Accepted || ev[0].Err != nil || ev[0].Name != "a.sig.json" {
		t.Fatalf("second poll: %+v", ev)
	}
	if h.files["a.sig.json"][0] != `{"kc":"sig/1"}` {
		t.Fatal("content")
	}
	for i := 0; i < 3; i++ {
		if ev := poll(t, d); len(ev) != 0 {
			t.Fatalf("ingested twice: %+v", ev)
		}
	}
	if h.count("a.sig.json") != 1 {
		t.Fatal("handler called twice")
	}
	// Touched with the same content: not new.
	later := time.Now().Add(time.Hour)
	os.Chtimes(filepath.Join(dir, "a.sig.json"), later, later)
	poll(t, d)
	poll(t, d)
	if h.count("a.sig.json") != 1 {
		t.Fatal("touched file ingested again")
	}
	// New contents under the same name: a new file.
	write(t, dir, "a.sig.json", `{"kc":"sig/1","d":"E2"}`)
	poll(t, d)
	if ev := poll(t, d); len(ev) != 1 || !ev[0].Accepted || h.count("a.sig.json") != 2 {
		t.Fatalf("rewritten file: %+v", ev)
	}
}

func TestDropFolderHalfWritten(t *testing.T) {
	dir := t.TempDir()
	h := newHandled()
	d, _ := NewDropFolder(dir, h.handle)
	path := filepath.Join(dir, "event.cesr")
	write(t, dir, "event.cesr", `{"v":"KERI10JSON`)
	poll(t, d)
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`00012b_","t":"icp"}`)
	f.Close()
	if ev := poll(t, d); len(ev) != 0 {
		t.Fatalf("read while growing: %+v", ev)
	}
	if ev := poll(t, d); len(ev) != 1 || !ev[0].Accepted {
		t.Fatalf("stable file: %+v", ev)
	}
	if got := h.files["event.cesr"][0]; got != `{"v":"KERI10JSON00012b_","t":"icp"}` {
		t.Fatalf("read %q", got)
	}
}

func TestDropFolderIgnores(t *testing.T) {
	dir := t.TempDir()
	h := newHandled()
	d, _ := NewDropFolder(dir, h.handle)
	for _, n := range []string{".hidden", "x.cesr.tmp", "y.PART", "z.crdownload", "w~", "~lock", ".x.swp"} {
		write(t, dir, n, "data")
	}
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	write(t, filepath.Join(dir, "sub"), "inner", "data")
	write(t, t.TempDir(), "target", "data")
	os.Symlink("/etc/passwd", filepath.Join(dir, "link"))
	for i := 0; i < 3; i++ {
		if ev := poll(t, d); len(ev) != 0 {
			t.Fatalf("ignored files ingested: %+v", ev)
		}
	}
	if len(h.files) != 0 {
		t.Fatalf("handler saw %v", h.files)
	}
	// The usual writer pattern: rename when done.
	os.Rename(filepath.Join(dir, "x.cesr.tmp"), filepath.Join(dir, "x.cesr"))
	poll(t, d)
	if ev := poll(t, d); len(ev) != 1 || ev[0].Name != "x.cesr" {
		t.Fatalf("renamed file: %+v", ev)
	}
}

func TestDropFolderRejects(t *testing.T) {
	dir := t.TempDir()
	h := newHandled()
	d, _ := NewDropFolder(dir, h.handle)
	write(t, dir, "bad.sig.json", "bad data")
	poll(t, d)
	ev := poll(t, d)
	if len(ev) != 1 || ev[0].Accepted || !errors.Is(ev[0].Err, ErrDropRejected) || !errors.Is(ev[0].Err, errBadFile) {
		t.Fatalf("bad file: %+v", ev)
	}
	if ev[0].MovedTo != filepath.Join(dir, RejectedDir, "bad.sig.json") {
		t.Fatalf("moved to %q", ev[0].MovedTo)
	}
	// The reason is beside it.
	reason, err := os.ReadFile(ev[0].MovedTo + ReasonSuffix)
	if err != nil || !strings.Contains(string(reason), errBadFile.Error()) || !strings.HasPrefix(string(reason), "bad.sig.json was refused at ") {
		t.Fatalf("reason file: %q %v", reason, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "bad.sig.json")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("bad file still in the folder")
	}
	for i := 0; i < 3; i++ {
		if ev := poll(t, d); len(ev) != 0 {
			t.Fatalf("rejected file retried: %+v", ev)
		}
	}
	// The same name again: rejected again, kept beside the first.
	write(t, dir, "bad.sig.json", "bad again")
	poll(t, d)
	ev = poll(t, d)
	if len(ev) != 1 || ev[0].MovedTo != filepath.Join(dir, RejectedDir, "bad.sig.json.1") {
		t.Fatalf("second bad file: %+v", ev)
	}
	if h.count("bad.sig.json") != 2 {
		t.Fatal("handler calls")
	}
}

// TestDropFolderReadsEveryPacketSize: the folder hands over files up to
// the largest packet (a 64 MiB KEL); each kind's own limit is the
// handler's. It once refused anything over 1 MiB, the KC1 message limit.
func TestDropFolderReadsEveryPacketSize(t *testing.T) {
	dir := t.TempDir()
	h := newHandled()
	d, _ := NewDropFolder(dir, h.handle)
	write(t, dir, "kel.cesr", strings.Repeat("x", 3<<20))
	poll(t, d)
	if ev := poll(t, d); len(ev) != 1 || !ev[0].Accepted || h.count("kel.cesr") != 1 {
		t.Fatalf("a 3 MiB file: %+v", ev)
	}
}

// TestDropFolderReasonShowsNoControls: the reason beside a refused file
// quotes its name; the control characters of a hostile name are escaped.
func TestDropFolderReasonShowsNoControls(t *testing.T) {
	dir := t.TempDir()
	d, _ := NewDropFolder(dir, func(string, []byte) error { return errBadFile })
	name := "x\x1b]0;T\x07\x1b[2Jy.sig"
	write(t, dir, name, "bad")
	poll(t, d)
	ev := poll(t, d)
	if len(ev) != 1 || ev[0].MovedTo == "" {
		t.Fatalf("events %+v", ev)
	}
	reason, err := os.ReadFile(ev[0].MovedTo + ReasonSuffix)
	if err != nil || strings.ContainsAny(string(reason), "\x1b\x07") || !strings.Contains(string(reason), `x\x1b]0;T\x07\x1b[2Jy.sig`) {
		t.Fatalf("reason file: %q %v", reason, err)
	}
}

func TestDropFolderTooLarge(t *testing.T) {
	dir := t.TempDir()
	h := newHandled()
	d, _ := NewDropFolder(dir, h.handle)
	d.SetMaxSize(10)
	write(t, dir, "big.cesr", strings.Repeat("x", 20))
	poll(t, d)
	ev := poll(t, d)
	if len(ev) != 1 || !errors.Is(ev[0].Err, ErrDropTooLarge) || ev[0].MovedTo == "" || h.count("big.cesr") != 0 {
		t.Fatalf("big file: %+v", ev)
	}
}

// TestDropFolderCannotMove: when rejected/ cannot be created, the refusal
// is recorded so the file is not retried on every scan.
func TestDropFolderCannotMove(t *testing.T) {
	dir := t.TempDir()
	h := newHandled()
	d, _ := NewDropFolder(dir, h.handle)
	write(t, dir, RejectedDir, "a file where the folder should be")
	write(t, dir, "bad.cesr", "bad")
	poll(t, d)
	ev := poll(t, d)
	var bad *DropEvent
	for i := range ev {
		if ev[i].Name == "bad.cesr" {
			bad = &ev[i]
		}
	}
	if bad == nil || !errors.Is(bad.Err, ErrDropRejected) || !errors.Is(bad.Err, ErrDropUnreadable) || bad.MovedTo != "" {
		t.Fatalf("unmovable: %+v", ev)
	}
	for i := 0; i < 3; i++ {
		if ev := poll(t, d); len(ev) != 0 {
			t.Fatalf("retried: %+v", ev)
		}
	}
	if h.count("bad.cesr") != 1 {
		t.Fatal("handler called again")
	}
}

func TestDropFolderErrors(t *testing.T) {
	if _, err := NewDropFolder(filepath.Join(t.TempDir(), "missing"), newHandled().handle); !errors.Is(err, ErrDropUnreadable) {
		t.Fatalf("missing dir: %v", err)
	}
	dir := t.TempDir()
	write(t, dir, "f", "x")
	if _, err := NewDropFolder(filepath.Join(dir, "f"), newHandled().handle); !errors.Is(err, ErrDropUnreadable) {
		t.Fatalf("not a dir: %v", err)
	}
	if _, err := NewDropFolder(dir, nil); !errors.Is(err, ErrDropUnreadable) {
		t.Fatalf("nil handler: %v", err)
	}
	d, _ := NewDropFolder(dir, newHandled().handle)
	os.RemoveAll(dir)
	if _, err := d.Poll(); !errors.Is(err, ErrDropUnreadable) {
		t.Fatalf("vanished dir: %v", err)
	}
}

func TestDropFolderWatch(t *testing.T) {
	dir := t.TempDir()
	h := newHandled()
	d, _ := NewDropFolder(dir, h.handle)
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan DropEvent, 4)
	done := make(chan error, 1)
	go func() { done <- d.Watch(ctx, 5*time.Millisecond, func(ev DropEvent) { got <- ev }) }()
	write(t, dir, "s.sig.json", "ok")
	select {
	case ev := <-got:
		if !ev.Accepted || ev.Name != "s.sig.json" {
			t.Fatalf("event %+v", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no event")
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Watch returned %v", err)
	}
}

// A file named - in the folder "." is that file, not standard input.
func TestDropFolderDashInDot(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	h := newHandled()
	d, err := NewDropFolder(".", h.handle)
	if err != nil {
		t.Fatal(err)
	}
	write(t, dir, "-", "dash")
	poll(t, d)
	if ev := poll(t, d); len(ev) != 1 || !ev[0].Accepted || h.count("-") != 1 || h.files["-"][0] != "dash" {
		t.Fatalf("events %+v, handled %v", ev, h.files)
	}
}
