// Package fileio is the project's one way to write a file and to read a
// bounded input: WriteFile replaces a regular file atomically and writes to
// a device or a FIFO in place; ReadBounded reads a file or standard input up
// to a size limit. It imports only the standard library.
package fileio

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
)

// Sentinel errors; errors from the operating system (fs.ErrNotExist,
// fs.ErrPermission, …) stay reachable with errors.Is too.
var (
	// ErrTooLarge: the input is larger than the reader's limit.
	ErrTooLarge = errors.New("input too large")
	// ErrIsDir: the path to write names a directory.
	ErrIsDir = errors.New("is a directory")
	// ErrNoStdin: "-" was read but no standard input was given.
	ErrNoStdin = errors.New("no standard input to read")
	// ErrSymlinkLoop: the path's symbolic links do not end in a file.
	ErrSymlinkLoop = errors.New("too many levels of symbolic links")
)

// Stdin is the path ReadBounded reads as standard input.
const Stdin = "-"

// Options tunes WriteFileWith.
type Options struct {
	// BeforeRename, when set, runs once the temporary file is written,
	// synced and closed, just before it is renamed over the target. An error
	// it returns aborts the write as a crash at that point would leave it
	// (minus the temporary file, which is removed): tests use it to show
	// that the old file survives.
	BeforeRename func(tmp string) error
}

// WriteFile writes data to path.
//
// When path does not exist or is a regular file (after following symbolic
// links to their target), it is replaced atomically: data goes to a
// temporary file in the target's directory, which is synced, given perm,
// renamed over the target, and the directory is synced. A crash leaves the
// old file or the new one, never a mix; a symbolic link stays a link to the
// replaced target. The target's directory must exist.
//
// When path exists and is not a regular file (a character device such as
// /dev/null or /dev/stdout, a FIFO), data is written in place: the file is
// opened write-only, never truncated, created or replaced. A directory is an
// error wrapping ErrIsDir.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	return WriteFileWith(path, data, perm, Options{})
}

// WriteFileWith is WriteFile with options.
func WriteFileWith(path string, data []byte, perm fs.FileMode, o Options) error {
	target, err := resolve(path)
	if err != nil {
		return err
	}
	info, err := os.Stat(target)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return replace(target, data, perm, o)
	case err != nil:
		return fmt.Errorf("write %s: %w", path, err)
	case info.IsDir():
		return fmt.Errorf("write %s: %w", path, ErrIsDir)
	case info.Mode().IsRegular():
		return replace(target, data, perm, o)
	default:
		return writeInPlace(target, data)
	}
}

// resolve follows path's symbolic links, one at a time, to the file they
// name, which need not exist: writing through a dangling link creates its
// target, as os.WriteFile does.
func resolve(path string) (string, error) {
	for range 255 {
		info, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return path, nil
		}
		if err != nil {
			return "", fmt.Errorf("write %s: %w", path, err)
		}
		if info.Mode()&fs.ModeSymlink == 0 {
			return path, nil
		}
		link, err := os.Readlink(path)
		if err != nil {
			return "", fmt.Errorf("write %s: %w", path, err)
		}
		if !filepath.IsAbs(link) {
			link = filepath.Join(filepath.Dir(path), link)
		}
		path = link
	}
	return "", fmt.Errorf("write %s: %w", path, ErrSymlinkLoop)
}

// replace writes data to a temporary file beside target and renames it
// over target.
func replace(target string, data []byte, perm fs.FileMode, o Options) (err error) {
	dir, base := filepath.Split(target)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return pathErr("write", target, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			err = fmt.Errorf("write %s: %w", target, err)
		}
	}()
	if err = tmp.Chmod(perm); err != nil {
		return err
	}
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if o.BeforeRename != nil {
		if err = o.BeforeRename(tmp.Name()); err != nil {
			return err
		}
	}
	if err = os.Rename(tmp.Name(), target); err != nil {
		return err
	}
	return SyncDir(dir)
}

// SyncDir makes a rename or a new file in dir durable (WriteFile does it
// itself; an append-only journal that creates its file needs it). Windows
// cannot open a directory for syncing, and NTFS journals renames itself.
func SyncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// writeInPlace writes data to an existing file that is not a regular one: a
// device or a FIFO is written, never truncated or replaced.
func writeInPlace(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// ReadBounded reads the file at path, or stdin when path is "-" (Stdin),
// and fails with an error wrapping ErrTooLarge, naming the input and the
// limit, when there are more than limit bytes. It reads at most limit+1
// bytes, so an endless input (a device, a pipe) costs no more. A file
// literally named "-" is read as "./-". A regular file is read into one
// buffer of its size, not into one grown as it is read (which would cost
// about twice its size).
func ReadBounded(path string, stdin io.Reader, limit int64) ([]byte, error) {
	name := path
	if limit < 0 {
		return nil, fmt.Errorf("read %s: negative limit %d: %w", name, limit, fs.ErrInvalid)
	}
	var r io.Reader
	var buf bytes.Buffer
	if path == Stdin {
		name = "standard input"
		if stdin == nil {
			return nil, fmt.Errorf("read %s: %w", name, ErrNoStdin)
		}
		r = stdin
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, pathErr("read", name, err)
		}
		defer f.Close()
		r = f
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() <= limit {
			buf.Grow(int(fi.Size()) + bytes.MinRead) // room to read the end of the file
		}
	}
	n := limit
	if n < math.MaxInt64 {
		n++
	}
	if _, err := buf.ReadFrom(io.LimitReader(r, n)); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	data := buf.Bytes()
	if data == nil {
		data = []byte{} // as for a read that found nothing
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrTooLarge, name, limit)
	}
	return data, nil
}

// pathErr names path in err once: an error of the operating system about
// path (or a temporary file beside it) is given path's name, anything
// else is prefixed with op and path.
func pathErr(op, path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return &fs.PathError{Op: pe.Op, Path: path, Err: pe.Err}
	}
	return fmt.Errorf("%s %s: %w", op, path, err)
}
