//go:build unix

package cli

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestKelExportToADevice: `kel export --out X` writes into a device or a
// FIFO in place and never replaces it with a regular file. The device is
// a copy of /dev/null (major 1, minor 3) made in a temporary directory, so
// that a regression cannot destroy the machine's own /dev/null; making it
// needs root, which CI has.
func TestKelExportToADevice(t *testing.T) {
	cliSetup(t)
	d := newCLIDevice(t, "A")
	vector := filepath.Join("..", "testdata", "vectors", "b_2of2_inception.kel.cesr")
	d.ok("kel", "import", vector, "--group", "vec")

	t.Run("character device", func(t *testing.T) {
		null := filepath.Join(t.TempDir(), "null")
		if err := syscall.Mknod(null, syscall.S_IFCHR|0o666, int((1<<8)|3)); err != nil {
			t.Skipf("cannot make a device node (needs root): %v", err)
		}
		d.ok("kel", "export", "vec", "--out", null)
		info, err := os.Lstat(null)
		if err != nil || info.Mode()&fs.ModeCharDevice == 0 {
			t.Fatalf("%s after kel export --out: %v %v, want a character device", null, info.Mode(), err)
		}
	})

	t.Run("fifo", func(t *testing.T) {
		fifo := filepath.Join(t.TempDir(), "fifo")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Skipf("mkfifo: %v", err)
		}
		got := make(chan []byte, 1)
		go func() {
			f, err := os.Open(fifo)
			if err != nil {
				got <- nil
				return
			}
			defer f.Close()
			b, _ := io.ReadAll(f)
			got <- b
		}()
		d.ok("kel", "export", "vec", "--out", fifo)
		info, err := os.Lstat(fifo)
		if err != nil || info.Mode()&fs.ModeNamedPipe == 0 {
			t.Fatalf("%s after kel export --out: %v %v, want a fifo", fifo, info.Mode(), err)
		}
		want, err := os.ReadFile(vector)
		if err != nil {
			t.Fatal(err)
		}
		select {
		case b := <-got:
			if string(b) != string(want) {
				t.Fatalf("the reader of the fifo got %d bytes, want the %d of the kel", len(b), len(want))
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the reader of the fifo got nothing")
		}
	})
}
