package fileio

import (
	"errors"
	"fmt"
	"os"
	"time"
)

// ErrBusy: another process (or another open handle of this one) holds the
// lock, and it was not released within the wait.
var ErrBusy = errors.New("busy: another keremony process is changing this home")

// lockPoll is how often a waiting Lock tries again.
const lockPoll = 15 * time.Millisecond

// Lock takes the exclusive inter-process lock of the file at path (created,
// mode 0600, when missing; its directory must exist), trying for up to
// wait; unlock releases it. The lock is advisory (flock(2) on Unix): every
// keremony process that reads, changes and writes back a file of a home
// takes the lock of that file first, so two of them never interleave. It
// belongs to the open file, so two Locks of one path conflict even within
// one process; the kernel releases it when the process dies, so a crash
// never leaves a home locked.
func Lock(path string, wait time.Duration) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, pathErr("lock", path, err)
	}
	deadline := time.Now().Add(wait)
	for {
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, pathErr("lock", path, err)
		}
		if ok {
			return func() { unlockFile(f); f.Close() }, nil
		}
		if !time.Now().Before(deadline) {
			f.Close()
			return nil, fmt.Errorf("%w (%s is locked; waited %s): retry when the other command has finished", ErrBusy, path, wait)
		}
		time.Sleep(lockPoll)
	}
}
