package device

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/keremony/keremony/internal/fileio"
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
	data, err := fileio.ReadBounded(path, stdin, int64(limit))
	if errors.Is(err, fileio.ErrTooLarge) {
		return nil, fmt.Errorf("%s: %w: more than %d bytes", path, tooLarge, limit)
	}
	return data, err
}

// WriteFile writes a result to path: atomically when path is a regular
// file (or new), in place when it is a device or a FIFO (/dev/stdout),
// which is never replaced.
func WriteFile(path string, data []byte) error { return fileio.WriteFile(path, data, 0o644) }

// writeFile writes path with perm (see WriteFile).
func writeFile(path string, data []byte, perm os.FileMode) error {
	return fileio.WriteFile(path, data, perm)
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
