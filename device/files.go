package device

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/keremony/keremony/transport"
)

// ErrInputTooLarge is the default refusal of ReadBounded.
var ErrInputTooLarge = errors.New("input too large")

// ReadBounded reads the file at path ("-": stdin) and refuses, with
// tooLarge (ErrInputTooLarge when nil), anything over limit bytes without
// reading more than limit+1 of it.
func ReadBounded(path string, stdin io.Reader, limit int, tooLarge error) ([]byte, error) {
	if tooLarge == nil {
		tooLarge = ErrInputTooLarge
	}
	r := stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	if r == nil {
		return nil, fmt.Errorf("reading %s: no standard input", path)
	}
	data, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if len(data) > limit {
		return nil, fmt.Errorf("%s: %w: more than %d bytes", path, tooLarge, limit)
	}
	return data, nil
}

// WriteFile writes a result to path (see writeFile).
func WriteFile(path string, data []byte) error { return writeFile(path, data, 0o644) }

// writeFile replaces path atomically with data.
func writeFile(path string, data []byte, perm os.FileMode) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// ReadPacket reads a packet file ("-" is stdin) of kind want, refusing a
// file over the kind's size limit before parsing anything.
func ReadPacket(path string, stdin io.Reader, want transport.PacketType) (transport.Packet, error) {
	data, err := ReadBounded(path, stdin, want.MaxSize(), transport.ErrPacketTooLarge)
	if err != nil {
		return nil, err
	}
	p, err := transport.ParsePacketAs(data, want)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// ReadAnyPacket reads a packet file of any kind.
func ReadAnyPacket(path string, stdin io.Reader) (transport.Packet, error) {
	data, err := ReadBounded(path, stdin, transport.MaxPacketSize, transport.ErrPacketTooLarge)
	if err != nil {
		return nil, err
	}
	p, err := transport.ParsePacket(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// SniffFile reads the start of a file and names its packet kind ("" when
// unreadable or not a packet).
func SniffFile(path string) transport.PacketType {
	data, err := ReadBounded(path, nil, transport.MaxPacketSize, transport.ErrPacketTooLarge)
	if err != nil {
		return ""
	}
	t, err := transport.Sniff(data)
	if err != nil {
		return ""
	}
	return t
}
