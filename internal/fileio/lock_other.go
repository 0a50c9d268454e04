//go:build !unix

package fileio

import (
	"os"
	"sync"
)

// Without flock(2) the lock only serialises the handles of one process
// (keremony targets Linux; other systems get no inter-process exclusion).
var (
	otherMu   sync.Mutex
	otherHeld = map[string]bool{}
)

func tryLock(f *os.File) (bool, error) {
	otherMu.Lock()
	defer otherMu.Unlock()
	if otherHeld[f.Name()] {
		return false, nil
	}
	otherHeld[f.Name()] = true
	return true, nil
}

func unlockFile(f *os.File) {
	otherMu.Lock()
	defer otherMu.Unlock()
	delete(otherHeld, f.Name())
}
