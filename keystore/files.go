package keystore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/keremony/keremony/internal/fileio"
)

// testOnlyBeforeRename, when set by a test, runs after the temporary file is
// written and synced and before it is renamed into place; an error it
// returns simulates a crash at that point.
var testOnlyBeforeRename func(tmp string) error

// writeFileAtomic replaces path with data (fileio.WriteFile: a crash leaves
// the old file or the new one), creating its directory first.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return fileio.WriteFileWith(path, data, perm, fileio.Options{BeforeRename: testOnlyBeforeRename})
}

// readLimited reads a small file, refusing one larger than limit as corrupt
// (corrupt is ErrCorruptRecord or ErrCorruptKeystore).
func readLimited(name string, limit int64, corrupt error) ([]byte, error) {
	data, err := fileio.ReadBounded(name, nil, limit)
	if errors.Is(err, fileio.ErrTooLarge) {
		return nil, fmt.Errorf("%w: %w", corrupt, err)
	}
	return data, err
}
