package fileio

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

func TestWriteFile(t *testing.T) {
	tests := []struct {
		name string
		// setup makes the directory's files and returns the path to write.
		setup func(t *testing.T, dir string) string
		// check looks at the result of a write that succeeded.
		check   func(t *testing.T, dir, path string)
		wantErr error
	}{
		{
			name:  "new file",
			setup: func(t *testing.T, dir string) string { return filepath.Join(dir, "new") },
			check: func(t *testing.T, dir, path string) { wantFile(t, path, "data", 0o640) },
		},
		{
			name: "replace a regular file: content and mode",
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "old")
				mustWrite(t, p, "old contents, longer than the new", 0o666)
				return p
			},
			check: func(t *testing.T, dir, path string) { wantFile(t, path, "data", 0o640) },
		},
		{
			name: "symlink to a regular file: the link stays, the target is replaced",
			setup: func(t *testing.T, dir string) string {
				mustWrite(t, filepath.Join(dir, "target"), "old", 0o600)
				link := filepath.Join(dir, "link")
				if err := os.Symlink("target", link); err != nil {
					t.Fatal(err)
				}
				return link
			},
			check: func(t *testing.T, dir, path string) {
				if info, err := os.Lstat(path); err != nil || info.Mode()&fs.ModeSymlink == 0 {
					t.Fatalf("link replaced: %v %v", info, err)
				}
				wantFile(t, filepath.Join(dir, "target"), "data", 0o640)
			},
		},
		{
			name: "dangling symlink: its target is created",
			setup: func(t *testing.T, dir string) string {
				link := filepath.Join(dir, "link")
				if err := os.Symlink("target", link); err != nil {
					t.Fatal(err)
				}
				return link
			},
			check: func(t *testing.T, dir, path string) { wantFile(t, filepath.Join(dir, "target"), "data", 0o640) },
		},
		{
			name:  "/dev/null stays a character device",
			setup: func(t *testing.T, dir string) string { return os.DevNull },
			check: func(t *testing.T, dir, path string) {
				info, err := os.Stat(path)
				if err != nil || info.Mode()&fs.ModeCharDevice == 0 {
					t.Fatalf("%s after WriteFile: %v %v", path, info, err)
				}
			},
		},
		{
			name: "a directory is an error",
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "sub")
				if err := os.Mkdir(p, 0o700); err != nil {
					t.Fatal(err)
				}
				return p
			},
			wantErr: ErrIsDir,
		},
		{
			name:    "a missing parent directory is an error",
			setup:   func(t *testing.T, dir string) string { return filepath.Join(dir, "missing", "file") },
			wantErr: fs.ErrNotExist,
		},
		{
			name: "a symlink loop is an error",
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "loop")
				if err := os.Symlink("loop", p); err != nil {
					t.Fatal(err)
				}
				return p
			},
			wantErr: ErrSymlinkLoop,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if runtime.GOOS == "windows" {
				t.Skip("unix file types")
			}
			dir := t.TempDir()
			path := tc.setup(t, dir)
			err := WriteFile(path, []byte("data"), 0o640)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("error %v, want %v", err, tc.wantErr)
				}
				if !strings.Contains(err.Error(), path) {
					t.Errorf("error %q does not name %s", err, path)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, dir, path)
			noTemporaries(t, dir)
		})
	}
}

// A FIFO gets the bytes in place and stays a FIFO.
func TestWriteFileFIFO(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no FIFOs")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte)
	go func() {
		f, err := os.Open(path) // blocks until the writer opens
		if err != nil {
			got <- nil
			return
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		got <- b
	}()
	if err := WriteFile(path, []byte("through the pipe"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b := <-got; string(b) != "through the pipe" {
		t.Errorf("reader got %q", b)
	}
	info, err := os.Lstat(path)
	if err != nil || info.Mode().Type() != fs.ModeNamedPipe {
		t.Errorf("after WriteFile: %v %v", info, err)
	}
	noTemporaries(t, dir)
}

// A failing BeforeRename leaves the old file and no temporary file.
func TestWriteFileCrashBeforeRename(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	mustWrite(t, path, "old", 0o600)
	crash := errors.New("simulated crash")
	var seen string
	err := WriteFileWith(path, []byte("new"), 0o600, Options{BeforeRename: func(tmp string) error {
		seen = tmp
		if b, err := os.ReadFile(tmp); err != nil || string(b) != "new" {
			t.Errorf("temporary file %q before the rename: %q %v", tmp, b, err)
		}
		return crash
	}})
	if !errors.Is(err, crash) {
		t.Fatalf("error %v, want the crash", err)
	}
	if filepath.Dir(seen) != dir {
		t.Errorf("temporary file %q not beside %q", seen, path)
	}
	wantFile(t, path, "old", 0o600)
	noTemporaries(t, dir)
}

func TestReadBounded(t *testing.T) {
	dir := t.TempDir()
	atLimit := filepath.Join(dir, "at")
	over := filepath.Join(dir, "over")
	mustWrite(t, atLimit, "12345", 0o600)
	mustWrite(t, over, "123456", 0o600)
	tests := []struct {
		name    string
		path    string
		stdin   io.Reader
		want    string
		wantErr error
		naming  string // the error names the input and the limit
	}{
		{name: "at the limit", path: atLimit, want: "12345"},
		{name: "one byte over", path: over, wantErr: ErrTooLarge, naming: over + " is larger than 5 bytes"},
		{name: "stdin", path: "-", stdin: strings.NewReader("12345"), want: "12345"},
		{name: "stdin over the limit", path: "-", stdin: strings.NewReader("from stdin"), wantErr: ErrTooLarge, naming: "standard input is larger than 5 bytes"},
		{name: "stdin not given", path: "-", wantErr: ErrNoStdin, naming: "standard input"},
		{name: "missing file", path: filepath.Join(dir, "missing"), wantErr: fs.ErrNotExist, naming: filepath.Join(dir, "missing")},
		{name: "a file named - is read as ./-", path: "." + string(filepath.Separator) + "-", wantErr: fs.ErrNotExist, naming: "-"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadBounded(tc.path, tc.stdin, 5)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || got != nil {
					t.Fatalf("got %q, error %v, want %v", got, err, tc.wantErr)
				}
				if !strings.Contains(err.Error(), tc.naming) {
					t.Errorf("error %q does not say %q", err, tc.naming)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// A regular file is read into one buffer of its size: a buffer grown as it
// reads would be reallocated about twenty times for a mebibyte.
func TestReadBoundedRegularFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big")
	want := strings.Repeat("0123456789abcdef", 1<<16)
	mustWrite(t, path, want, 0o600)
	var got []byte
	allocs := testing.AllocsPerRun(3, func() {
		var err error
		if got, err = ReadBounded(path, nil, 1<<20); err != nil {
			t.Fatal(err)
		}
	})
	if string(got) != want {
		t.Fatalf("read %d bytes, want %d", len(got), len(want))
	}
	if allocs > 10 { // the file, its status, the buffer and a few more (io.ReadAll: 28)
		t.Errorf("%v allocations to read one file", allocs)
	}
	if got, err := ReadBounded(filepath.Join(t.TempDir()), nil, 5); err == nil {
		t.Errorf("a directory read as %q", got)
	}
	empty := filepath.Join(t.TempDir(), "empty")
	mustWrite(t, empty, "", 0o600)
	if got, err := ReadBounded(empty, nil, 5); err != nil || got == nil || len(got) != 0 {
		t.Errorf("empty file: %q, %v", got, err)
	}
}

// An endless input costs limit+1 bytes.
func TestReadBoundedEndless(t *testing.T) {
	r := &countingReader{}
	if _, err := ReadBounded("-", r, 1000); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("error %v", err)
	}
	if r.n > 1001+512 { // the buffer may ask for more; LimitReader caps it
		t.Errorf("read %d bytes", r.n)
	}
	if _, err := ReadBounded("-", r, -1); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("negative limit: %v", err)
	}
}

type countingReader struct{ n int }

func (c *countingReader) Read(p []byte) (int, error) {
	c.n += len(p)
	return len(p), nil
}

func mustWrite(t *testing.T, path, data string, perm fs.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil {
		t.Fatal(err)
	}
}

func wantFile(t *testing.T, path, data string, perm fs.FileMode) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(b, []byte(data)) {
		t.Errorf("%s holds %q, %v; want %q", path, b, err, data)
	}
	info, err := os.Lstat(path)
	if err != nil || !info.Mode().IsRegular() {
		t.Fatalf("%s: %v %v", path, info, err)
	}
	if runtime.GOOS != "windows" && info.Mode().Perm() != perm {
		t.Errorf("%s mode %v, want %v", path, info.Mode().Perm(), perm)
	}
}

func noTemporaries(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}
