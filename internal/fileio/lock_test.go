package fileio

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestLockExcludes: a held lock makes a second Lock of the same path wait
// and then fail with ErrBusy; once released, it is taken at once.
func TestLockExcludes(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".lock")
	unlock, err := Lock(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Lock(path, 50*time.Millisecond); !errors.Is(err, ErrBusy) {
		t.Fatalf("second lock: %v, want ErrBusy", err)
	}
	unlock()
	unlock2, err := Lock(path, 0)
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	unlock2()
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("lock file: %v %v", fi, err)
	}
}

// TestLockWaits: goroutines incrementing a counter kept in a file, each
// under the lock, lose no increment.
func TestLockWaits(t *testing.T) {
	dir := t.TempDir()
	path, counter := filepath.Join(dir, ".lock"), filepath.Join(dir, "n")
	const n = 16
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			unlock, err := Lock(path, 10*time.Second)
			if err != nil {
				t.Error(err)
				return
			}
			defer unlock()
			b, _ := os.ReadFile(counter)
			time.Sleep(time.Millisecond)
			if err := WriteFile(counter, append(b, 'x'), 0o600); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if b, _ := os.ReadFile(counter); len(b) != n {
		t.Fatalf("%d increments kept of %d", len(b), n)
	}
}

// TestLockAcrossProcesses: a child process holding the lock makes this
// one busy; the lock is released when the child exits.
func TestLockAcrossProcesses(t *testing.T) {
	if os.Getenv("FILEIO_LOCK_CHILD") != "" {
		unlock, err := Lock(os.Getenv("FILEIO_LOCK_CHILD"), time.Second)
		if err != nil {
			os.Exit(3)
		}
		defer unlock()
		os.Stdout.WriteString("locked\n")
		buf := make([]byte, 1)
		os.Stdin.Read(buf) // hold until the parent closes stdin
		return
	}
	path := filepath.Join(t.TempDir(), ".lock")
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockAcrossProcesses$")
	cmd.Env = append(os.Environ(), "FILEIO_LOCK_CHILD="+path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 7)
	if _, err := out.Read(buf); err != nil || !strings.HasPrefix(string(buf), "locked") {
		t.Fatalf("child: %q %v", buf, err)
	}
	if _, err := Lock(path, 30*time.Millisecond); !errors.Is(err, ErrBusy) {
		t.Fatalf("lock held by another process: %v, want ErrBusy", err)
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	unlock, err := Lock(path, time.Second)
	if err != nil {
		t.Fatalf("after the child exited: %v", err)
	}
	unlock()
}
