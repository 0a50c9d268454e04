package transport

import (
	"encoding/binary"
	"fmt"
	"strconv"
)

// FrameSequence is the sender's side of a KC1 transfer: a message cut into
// n pure fragments, from which any pure or fountain part can be produced.
// A FrameSequence is immutable and safe for concurrent use.
type FrameSequence struct {
	typ      FrameType
	mid      string
	checksum uint32
	fragSize int
	frags    [][]byte
	msgLen   int
	compLen  int
	chooser  *fragmentChooser
}

// EncodeFrames compresses msg with raw DEFLATE and cuts it into fragments of
// fragSize bytes (a multiple of 5, at most MaxFragmentSize). When the
// compressed message fits in one fragment, the fragment shrinks to the
// smallest multiple of 5 that holds it, so a single static frame stays as
// small as possible. Errors wrap ErrMessageTooLarge (msg above
// MaxMessageSize or more than MaxFragments fragments), ErrFragmentSize or
// ErrFrameSyntax (unknown type).
func EncodeFrames(typ FrameType, msg []byte, fragSize int) (*FrameSequence, error) {
	if err := checkEncodeInput(typ, msg); err != nil {
		return nil, err
	}
	if fragSize < 5 || fragSize%5 != 0 || fragSize > MaxFragmentSize {
		return nil, fmt.Errorf("%w: fragment size %d must be a multiple of 5 from 5 to %d", ErrFragmentSize, fragSize, MaxFragmentSize)
	}
	return newSequence(typ, msg, compress(msg), fragSize)
}

// EncodeFramesFit is EncodeFrames with the largest fragment size for which
// no frame the sequence emits (see Frame) is longer than maxFrameLen
// characters: the alphanumeric capacity of the chosen QR version.
func EncodeFramesFit(typ FrameType, msg []byte, maxFrameLen int) (*FrameSequence, error) {
	if err := checkEncodeInput(typ, msg); err != nil {
		return nil, err
	}
	z := compress(msg)
	f := FitFragmentSize(maxFrameLen, len(z))
	if f < 5 {
		return nil, fmt.Errorf("%w: frames of at most %d characters cannot carry a fragment", ErrFragmentSize, maxFrameLen)
	}
	return newSequence(typ, msg, z, f)
}

// FitFragmentSize returns the largest fragment size (a multiple of 5, at
// most MaxFragmentSize) for which every frame of a message whose compressed
// size is compLen fits in maxFrameLen characters, or 0 if none does.
func FitFragmentSize(maxFrameLen, compLen int) int {
	if compLen < 1 {
		compLen = 1
	}
	f := (maxFrameLen - frameOverhead(1)) / 8 * 5
	f = min(f, MaxFragmentSize)
	for ; f >= 5; f -= 5 {
		n := (compLen + f - 1) / f
		if n > MaxFragments {
			return 0
		}
		if n == 1 {
			return f
		}
		if MaxFrameLen(n, f) <= maxFrameLen {
			return f
		}
	}
	return 0
}

// MaxFrameLen returns the length of the longest frame that a sequence of n
// fragments of f bytes emits through Frame.
func MaxFrameLen(n, f int) int {
	return frameOverhead(n) + f/5*8
}

// frameOverhead is the header length of the longest frame: "KC1:T/" + seq
// + "-" + n + "/" + MID + "/".
func frameOverhead(n int) int {
	return len(Magic) + 2 + digits(uint64(maxSeq(n))) + 1 + digits(uint64(n)) + 1 + midLen + 1
}

// maxSeq is the largest part number Frame emits for n fragments: part
// numbers keep at most two more digits than n, so the header stays short;
// the schedule repeats after about 99*n parts.
func maxSeq(n int) uint32 {
	if n <= 1 {
		return 1
	}
	m := uint64(1)
	for i := 0; i < digits(uint64(n))+2; i++ {
		m *= 10
	}
	return uint32(min(m-1, MaxSeq))
}

func digits(v uint64) int { return len(strconv.FormatUint(v, 10)) }

func checkEncodeInput(typ FrameType, msg []byte) error {
	if !typ.Valid() {
		return fmt.Errorf("%w: unknown message type %q", ErrFrameSyntax, byte(typ))
	}
	if len(msg) > MaxMessageSize {
		return fmt.Errorf("%w: %d bytes, at most %d", ErrMessageTooLarge, len(msg), MaxMessageSize)
	}
	return nil
}

func newSequence(typ FrameType, msg, z []byte, f int) (*FrameSequence, error) {
	if len(z) <= f {
		f = max(5, (len(z)+4)/5*5)
	}
	n := (len(z) + f - 1) / f
	if n > MaxFragments {
		return nil, fmt.Errorf("%w: %d compressed bytes need %d fragments of %d bytes, at most %d allowed", ErrMessageTooLarge, len(z), n, f, MaxFragments)
	}
	padded := make([]byte, n*f)
	copy(padded, z)
	d := digest(msg)
	s := &FrameSequence{
		typ:      typ,
		mid:      b32.EncodeToString(d[:5]),
		checksum: binary.BigEndian.Uint32(d[:4]),
		fragSize: f,
		frags:    make([][]byte, n),
		msgLen:   len(msg),
		compLen:  len(z),
		chooser:  newFragmentChooser(n),
	}
	for i := range s.frags {
		s.frags[i] = padded[i*f : (i+1)*f : (i+1)*f]
	}
	return s, nil
}

// Type returns the message type.
func (s *FrameSequence) Type() FrameType { return s.typ }

// MID returns the message id.
func (s *FrameSequence) MID() string { return s.mid }

// Len returns n, the number of pure fragments.
func (s *FrameSequence) Len() int { return len(s.frags) }

// FragmentSize returns F, the bytes carried by each frame.
func (s *FrameSequence) FragmentSize() int { return s.fragSize }

// MessageSize returns the length of the original message.
func (s *FrameSequence) MessageSize() int { return s.msgLen }

// CompressedSize returns the length of the deflated message.
func (s *FrameSequence) CompressedSize() int { return s.compLen }

// MaxFrameLen returns the length of the longest frame Frame returns.
func (s *FrameSequence) MaxFrameLen() int { return MaxFrameLen(len(s.frags), s.fragSize) }

// Part returns part seq (1-based): pure fragment seq for seq <= n,
// otherwise the XOR of the fragments the BC-UR chooser picks. seq 0 is
// treated as 1.
func (s *FrameSequence) Part(seq uint32) Frame {
	if seq == 0 {
		seq = 1
	}
	idx := s.chooser.choose(seq, s.checksum)
	data := make([]byte, s.fragSize)
	for _, i := range idx {
		xorInto(data, s.frags[i])
	}
	return Frame{Type: s.typ, Seq: seq, Total: len(s.frags), MID: s.mid, Data: data}
}

// SeqAt returns the part number shown at position i (0-based) of the
// display schedule: the pure parts 1..n, then fountain parts n+1, n+2, ...
// Part numbers stay at most two digits longer than n (see MaxFrameLen):
// after part 10^(digits(n)+2)-1 the schedule starts again at part 1. A
// one-fragment message always shows part 1.
//
// qr-transport.md section 4 suggests alternating fountain parts with repeats
// of pure parts after the first pass; with this package's GF(2) decoder,
// fountain parts alone finish sooner (TestLoss25 measures both), because a
// repeated pure part is useless to every receiver that already holds it.
func (s *FrameSequence) SeqAt(i int) uint32 {
	n := len(s.frags)
	if i < 0 || n == 1 {
		return 1
	}
	return uint32(uint64(i)%uint64(maxSeq(n)) + 1)
}

// Frame returns the text of the frame at position i (0-based) of the
// display schedule (see SeqAt).
func (s *FrameSequence) Frame(i int) string { return s.Part(s.SeqAt(i)).String() }

// Frames returns the n pure frames, the minimum a receiver needs.
func (s *FrameSequence) Frames() []string {
	out := make([]string, len(s.frags))
	for i := range out {
		out[i] = s.Part(uint32(i + 1)).String()
	}
	return out
}

func xorInto(dst, src []byte) {
	for i := range dst {
		dst[i] ^= src[i]
	}
}
