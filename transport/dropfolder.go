package transport

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/keremony/keremony/internal/fileio"
	"github.com/keremony/keremony/internal/safetext"
)

// Drop-folder errors. Events carry them wrapped with %w.
var (
	// ErrDropRejected: the handler refused the file; it wraps the handler's
	// error too.
	ErrDropRejected = errors.New("drop folder file rejected")
	// ErrDropTooLarge: the file exceeds the folder's size limit.
	ErrDropTooLarge = errors.New("drop folder file too large")
	// ErrDropUnreadable: the file or the folder could not be read or moved.
	ErrDropUnreadable = errors.New("drop folder unreadable")
)

// RejectedDir is the subfolder refused files are moved into.
const RejectedDir = "rejected"

// DefaultPollInterval is how often Watch scans the folder.
const DefaultPollInterval = 500 * time.Millisecond

// DropEvent reports what happened to one file.
type DropEvent struct {
	Name     string // file name inside the folder
	Accepted bool   // the handler took the file
	Err      error  // why it was refused (nil when accepted)
	MovedTo  string // where a refused file was moved, "" if it stayed
}

// DropFolder ingests files that appear in a directory, for carrying events
// and signatures on removable media or a shared folder. It polls (no
// file-system notification), hands each new file's bytes to a handler once,
// moves files the handler refuses into the rejected/ subfolder, and
// remembers what it has seen so that nothing is ingested twice or retried
// forever.
//
// A file is read only after its size and modification time have stayed the
// same across two scans, so a file being copied in is not read half
// written; writers should still create "name.tmp" (or a dot-file) and
// rename it when done: names starting with "." or "~", or ending in ".tmp",
// ".part", ".partial", ".crdownload", ".swp" or "~", are ignored, as are
// subdirectories, symbolic links and other non-regular files.
//
// A file that reappears under the same name with other contents (size,
// modification time or SHA-256) is a new file. The record lives in memory:
// a new DropFolder ingests the files present again, so handlers should be
// idempotent (signatures de-duplicate by index anyway).
//
// Poll and Watch must not be called concurrently.
type DropFolder struct {
	dir     string
	handler func(name string, data []byte) error
	maxSize int64

	pending map[string]fileState // seen once, waiting to be stable
	done    map[string]fileState // ingested or rejected
}

type fileState struct {
	size  int64
	mtime time.Time
	sum   [32]byte
}

// NewDropFolder watches dir, handing files of at most MaxPacketSize bytes
// (the largest packet of any kind: the handler applies each kind's own
// limit) to handler. The directory must exist.
func NewDropFolder(dir string, handler func(name string, data []byte) error) (*DropFolder, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDropUnreadable, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%w: %q is not a directory", ErrDropUnreadable, dir)
	}
	if handler == nil {
		return nil, fmt.Errorf("%w: nil handler for %q", ErrDropUnreadable, dir)
	}
	return &DropFolder{
		dir:     dir,
		handler: handler,
		maxSize: MaxPacketSize,
		pending: map[string]fileState{},
		done:    map[string]fileState{},
	}, nil
}

// SetMaxSize changes the size limit; larger files are rejected with
// ErrDropTooLarge.
func (d *DropFolder) SetMaxSize(n int64) { d.maxSize = n }

// Dir returns the watched directory.
func (d *DropFolder) Dir() string { return d.dir }

// ignored reports whether a name is a temporary or hidden file.
func ignored(name string) bool {
	if strings.HasPrefix(name, ".") || strings.HasPrefix(name, "~") || strings.HasSuffix(name, "~") {
		return true
	}
	l := strings.ToLower(name)
	for _, ext := range []string{".tmp", ".part", ".partial", ".crdownload", ".swp"} {
		if strings.HasSuffix(l, ext) {
			return true
		}
	}
	return false
}

// Poll scans the folder once and processes every file that is stable since
// the previous scan, in name order. It returns one event per file accepted
// or refused; the error is for a folder that cannot be listed.
func (d *DropFolder) Poll() ([]DropEvent, error) {
	entries, err := os.ReadDir(d.dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDropUnreadable, err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	present := map[string]bool{}
	var events []DropEvent
	for _, e := range entries {
		name := e.Name()
		if ignored(name) || !e.Type().IsRegular() {
			continue
		}
		present[name] = true
		info, err := e.Info()
		if err != nil {
			continue // vanished since ReadDir
		}
		st := fileState{size: info.Size(), mtime: info.ModTime()}
		if prev, ok := d.done[name]; ok && prev.size == st.size && prev.mtime.Equal(st.mtime) {
			continue
		}
		if prev, ok := d.pending[name]; !ok || prev.size != st.size || !prev.mtime.Equal(st.mtime) {
			d.pending[name] = st // new or still changing: look again next scan
			continue
		}
		delete(d.pending, name)
		if ev, ok := d.ingest(name, st); ok {
			events = append(events, ev)
		}
	}
	// Forget files that went away, so a later file of the same name is new.
	for name := range d.pending {
		if !present[name] {
			delete(d.pending, name)
		}
	}
	for name := range d.done {
		if !present[name] {
			delete(d.done, name)
		}
	}
	return events, nil
}

// ingest reads a stable file and hands it to the handler. ok is false when
// the file turned out to be unchanged content or changed while reading.
func (d *DropFolder) ingest(name string, st fileState) (DropEvent, bool) {
	path := filepath.Join(d.dir, name)
	if st.size > d.maxSize {
		return d.reject(name, st, fmt.Errorf("%w: %q has %d bytes, at most %d", ErrDropTooLarge, name, st.size, d.maxSize)), true
	}
	readPath := path
	if readPath == fileio.Stdin { // a file named - in the folder "."
		readPath = "." + string(filepath.Separator) + readPath
	}
	data, err := fileio.ReadBounded(readPath, nil, d.maxSize)
	if err != nil {
		if errors.Is(err, fileio.ErrTooLarge) {
			return d.reject(name, st, fmt.Errorf("%w: %q grew beyond %d bytes", ErrDropTooLarge, name, d.maxSize)), true
		}
		// Unreadable (permissions, vanished): record it so it is not
		// retried every scan; a change of size or time makes it new.
		d.done[name] = st
		return DropEvent{Name: name, Err: fmt.Errorf("%w: %v", ErrDropUnreadable, err)}, true
	}
	// The file must not have changed while it was read.
	if info, err := os.Lstat(path); err != nil || !info.Mode().IsRegular() || info.Size() != st.size || !info.ModTime().Equal(st.mtime) || int64(len(data)) != st.size {
		return DropEvent{}, false
	}
	st.sum = sha256.Sum256(data)
	if prev, ok := d.done[name]; ok && prev.sum == st.sum {
		d.done[name] = st // touched, same contents
		return DropEvent{}, false
	}
	if err := d.handler(name, data); err != nil {
		return d.reject(name, st, fmt.Errorf("%w: %q: %w", ErrDropRejected, name, err)), true
	}
	d.done[name] = st
	return DropEvent{Name: name, Accepted: true}, true
}

// ReasonSuffix names the text file written next to a file moved to
// rejected/: why it was refused.
const ReasonSuffix = ".reason.txt"

// reject moves a refused file into rejected/ (renaming it if that name is
// taken), writes the reason next to it, and records it; if it cannot be
// moved, the record alone keeps it from being retried until it changes.
func (d *DropFolder) reject(name string, st fileState, cause error) DropEvent {
	ev := DropEvent{Name: name, Err: cause}
	rdir := filepath.Join(d.dir, RejectedDir)
	if err := os.MkdirAll(rdir, 0o700); err != nil {
		d.done[name] = st
		ev.Err = fmt.Errorf("%w (and %w: %v)", cause, ErrDropUnreadable, err)
		return ev
	}
	target := filepath.Join(rdir, name)
	for i := 1; ; i++ {
		if _, err := os.Lstat(target); errors.Is(err, fs.ErrNotExist) {
			break
		}
		target = filepath.Join(rdir, fmt.Sprintf("%s.%d", name, i))
	}
	if err := os.Rename(filepath.Join(d.dir, name), target); err != nil {
		d.done[name] = st
		ev.Err = fmt.Errorf("%w (and %w: %v)", cause, ErrDropUnreadable, err)
		return ev
	}
	ev.MovedTo = target
	// The reason is outside text (it may quote the file's name and
	// contents): shown through safetext, so that reading it with cat
	// cannot steer a terminal. A name too long for the suffix keeps the
	// reason in the event only.
	reason := fmt.Sprintf("%s was refused at %s:\n%s\n", safetext.Show(name), time.Now().UTC().Format(time.RFC3339), safetext.Show(cause.Error()))
	_ = fileio.WriteFile(target+ReasonSuffix, []byte(reason), 0o600)
	return ev
}

// Watch polls every interval (DefaultPollInterval if interval <= 0) until
// ctx is done, calling report for each event (from Watch's goroutine). It
// returns ctx's error, or the error of a folder that can no longer be
// listed.
func (d *DropFolder) Watch(ctx context.Context, interval time.Duration, report func(DropEvent)) error {
	if interval <= 0 {
		interval = DefaultPollInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		events, err := d.Poll()
		if err != nil {
			return err
		}
		for _, ev := range events {
			if report != nil {
				report(ev)
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
