package transport

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"math/bits"
)

// Progress describes the message a Receiver is collecting.
type Progress struct {
	Type         FrameType // message type; 0 before the first frame
	MID          string    // message id; "" before the first frame
	Total        int       // n, the number of fragments needed
	FragmentSize int       // F in bytes
	Held         int       // fragments known, received pure or solved from fountain parts
	Mixed        int       // independent parts held that still mix two or more unknown fragments; done when Held+Mixed = Total
	Frames       int       // frames accepted for this message, duplicates included
	New          bool      // the last accepted frame brought new information
	Done         bool      // the message is complete and verified
}

// Fraction returns the share of the message's information held, in
// [0, 1]: (Held + Mixed) / Total. Every independent mixed part counts fully,
// because the decoder finishes exactly when Held + Mixed reaches Total; so
// progress moves whenever a frame brings information (the lesson of
// SeedSigner PR #541).
func (p Progress) Fraction() float64 {
	if p.Done {
		return 1
	}
	if p.Total == 0 {
		return 0
	}
	return float64(p.Held+p.Mixed) / float64(p.Total)
}

// String renders the progress as "E IKO34MA3 3/12 fragments + 2 mixed".
func (p Progress) String() string {
	if p.Total == 0 {
		return "no frame yet"
	}
	s := fmt.Sprintf("%s %s %d/%d fragments", p.Type, p.MID, p.Held, p.Total)
	if p.Mixed > 0 {
		s += fmt.Sprintf(" + %d mixed", p.Mixed)
	}
	if p.Done {
		s += ", complete"
	}
	return s
}

// Receiver reassembles one KC1 message from frames arriving in any order,
// pure or fountain, with duplicates and losses. It decodes fountain parts
// by GF(2) elimination. Frames of another message are refused with
// ErrOtherMessage and never mixed in; call Reset to switch. Every refused
// frame leaves the collected state exactly as it was. The zero value is
// ready to use. A Receiver is not safe for concurrent use.
type Receiver struct {
	c *collection
}

// NewReceiver returns an empty Receiver.
func NewReceiver() *Receiver { return &Receiver{} }

// Reset forgets the current message.
func (r *Receiver) Reset() { r.c = nil }

// Progress reports the current collection.
func (r *Receiver) Progress() Progress {
	if r.c == nil {
		return Progress{}
	}
	return r.c.progress()
}

// Message returns the reassembled message once Progress().Done is true.
// The returned slice must not be modified.
func (r *Receiver) Message() (FrameType, []byte, bool) {
	if r.c == nil || !r.c.done {
		return 0, nil, false
	}
	return r.c.typ, r.c.msg, true
}

// Have reports which fragments are known, for a per-fragment progress strip.
func (r *Receiver) Have() []bool {
	if r.c == nil {
		return nil
	}
	h := make([]bool, r.c.n)
	for i := range h {
		h[i] = r.c.known(i)
	}
	return h
}

// Add parses one line of text and adds the frame. See AddFrame.
func (r *Receiver) Add(line string) (Progress, error) {
	f, err := ParseFrame(line)
	if err != nil {
		return r.Progress(), err
	}
	return r.AddFrame(f)
}

// AddFrame adds a parsed frame and returns the new progress. Errors wrap
// ErrOtherMessage (another MID or type; with ErrFragmentSize too when only n
// or F differ, as after a density change on the sender), ErrBadChecksum
// (the completed message does not verify, or the part contradicts held
// fragments), ErrMessageTooLarge or ErrFrameSyntax. On error the state is
// unchanged and the returned progress is the unchanged one.
func (r *Receiver) AddFrame(f Frame) (Progress, error) {
	if err := checkFrame(f); err != nil {
		return r.Progress(), err
	}
	if r.c == nil {
		c, err := newCollection(f)
		if err != nil {
			return Progress{}, err
		}
		if err := c.add(f); err != nil {
			return Progress{}, err
		}
		r.c = c
		return c.progress(), nil
	}
	c := r.c
	switch {
	case f.MID != c.mid:
		return c.progress(), fmt.Errorf("%w: frame %d of message %s while collecting %s (reset to switch)", ErrOtherMessage, f.Seq, f.MID, c.mid)
	case f.Type != c.typ:
		return c.progress(), fmt.Errorf("%w: frame %d of message %s has type %s, collecting type %s", ErrOtherMessage, f.Seq, f.MID, f.Type, c.typ)
	case f.Total != c.n || len(f.Data) != c.fsize:
		return c.progress(), fmt.Errorf("%w: %w: frame %d of message %s has %d fragments of %d bytes, collecting %d of %d (the sender's density changed; reset to switch)",
			ErrOtherMessage, ErrFragmentSize, f.Seq, f.MID, f.Total, len(f.Data), c.n, c.fsize)
	}
	if err := c.add(f); err != nil {
		return c.progress(), err
	}
	return c.progress(), nil
}

// checkFrame validates a Frame built by a caller rather than by ParseFrame.
func checkFrame(f Frame) error {
	switch {
	case !f.Type.Valid():
		return fmt.Errorf("%w: unknown message type %q", ErrFrameSyntax, byte(f.Type))
	case f.Seq == 0 || f.Total < 1 || f.Total > MaxFragments:
		return fmt.Errorf("%w: part %d of %d", ErrFrameCount, f.Seq, f.Total)
	case len(f.Data) == 0 || len(f.Data)%5 != 0 || len(f.Data) > MaxFragmentSize:
		return fmt.Errorf("%w: %d-byte fragment", ErrFragmentSize, len(f.Data))
	case uint64(f.Total-1)*uint64(len(f.Data)) >= maxCompressed:
		return fmt.Errorf("%w: %d fragments of %d bytes", ErrMessageTooLarge, f.Total, len(f.Data))
	}
	_, err := midChecksum(f.MID)
	return err
}

// The decoder is GF(2) elimination: every accepted part is an equation
// "XOR of the fragments in S = data", kept in reduced row echelon form, so a
// message completes as soon as the parts received span all n fragments
// (the optimum for any subset of parts; a peeling decoder can need more).
// Rows are only modified while the rank stays below n-1; the part that
// would complete the message is solved into fresh buffers and committed
// only if the message verifies, so a failed Add changes nothing.

// row is one equation: bits is the set of fragments, data their XOR.
type row struct {
	bits   []uint64
	data   []byte
	weight int // number of fragments in bits
}

type collection struct {
	typ      FrameType
	mid      string
	checksum uint32
	n        int
	fsize    int
	chooser  *fragmentChooser

	rows     []*row
	pivotRow []int // fragment index -> position in rows, or -1
	held     int   // rows of weight 1: fragments known

	frames  int
	lastNew bool
	done    bool
	msg     []byte
}

func newCollection(f Frame) (*collection, error) {
	sum, err := midChecksum(f.MID)
	if err != nil {
		return nil, err
	}
	c := &collection{
		typ:      f.Type,
		mid:      f.MID,
		checksum: sum,
		n:        f.Total,
		fsize:    len(f.Data),
		chooser:  newFragmentChooser(f.Total),
		pivotRow: make([]int, f.Total),
	}
	for i := range c.pivotRow {
		c.pivotRow[i] = -1
	}
	return c, nil
}

func (c *collection) progress() Progress {
	p := Progress{
		Type:         c.typ,
		MID:          c.mid,
		Total:        c.n,
		FragmentSize: c.fsize,
		Held:         c.held,
		Mixed:        len(c.rows) - c.held,
		Frames:       c.frames,
		New:          c.lastNew,
		Done:         c.done,
	}
	if c.done {
		p.Held, p.Mixed = c.n, 0
	}
	return p
}

func (c *collection) known(i int) bool {
	if c.done {
		return true
	}
	r := c.pivotRow[i]
	return r >= 0 && c.rows[r].weight == 1
}

// accept records an accepted frame.
func (c *collection) accept(isNew bool) {
	c.frames++
	c.lastNew = isNew
}

// add processes one frame already checked to belong to this collection.
// It changes nothing when it returns an error.
func (c *collection) add(f Frame) error {
	if c.done {
		c.accept(false)
		return nil
	}
	words := (c.n + 63) / 64
	v := make([]uint64, words)
	for _, i := range c.chooser.choose(f.Seq, c.checksum) {
		v[i/64] |= 1 << (i % 64)
	}
	d := append([]byte(nil), f.Data...)
	// Reduce by the rows whose pivots v contains. A row has no other pivot
	// column, so XORing it only clears its own pivot among pivot columns:
	// one pass over v's bits as they were suffices.
	for w := range v {
		for x := v[w]; x != 0; x &= x - 1 {
			col := w*64 + bits.TrailingZeros64(x)
			if r := c.pivotRow[col]; r >= 0 {
				xorWords(v, c.rows[r].bits)
				xorInto(d, c.rows[r].data)
			}
		}
	}
	p := lowestBit(v)
	if p < 0 {
		if !allZero(d) {
			return fmt.Errorf("%w: part %d of message %s contradicts the parts already held", ErrBadChecksum, f.Seq, c.mid)
		}
		c.accept(false)
		return nil
	}
	if len(c.rows) == c.n-1 {
		return c.complete(p, d)
	}
	// Eliminate column p from the other rows, then insert the new row.
	nw := popcount(v)
	for _, r := range c.rows {
		if r.bits[p/64]&(1<<(p%64)) == 0 {
			continue
		}
		xorWords(r.bits, v)
		xorInto(r.data, d)
		r.weight = popcount(r.bits)
		if r.weight == 1 {
			c.held++
		}
	}
	c.pivotRow[p] = len(c.rows)
	c.rows = append(c.rows, &row{bits: v, data: d, weight: nw})
	if nw == 1 {
		c.held++
	}
	c.accept(true)
	return nil
}

// complete solves the system that the new row (pivot p, which is then the
// only non-pivot column, so the reduced row is fragment p alone) brings to
// full rank, verifies the message and commits it.
func (c *collection) complete(p int, d []byte) error {
	frags := make([][]byte, c.n)
	frags[p] = d
	for col, ri := range c.pivotRow {
		if ri < 0 {
			continue
		}
		r := c.rows[ri]
		if r.bits[p/64]&(1<<(p%64)) == 0 {
			frags[col] = r.data
			continue
		}
		x := append([]byte(nil), r.data...)
		xorInto(x, d)
		frags[col] = x
	}
	msg, err := c.assemble(frags)
	if err != nil {
		return err
	}
	c.msg = msg
	c.done = true
	c.rows, c.pivotRow = nil, nil
	c.accept(true)
	return nil
}

func xorWords(dst, src []uint64) {
	for i := range dst {
		dst[i] ^= src[i]
	}
}

func lowestBit(v []uint64) int {
	for w, x := range v {
		if x != 0 {
			return w*64 + bits.TrailingZeros64(x)
		}
	}
	return -1
}

func popcount(v []uint64) int {
	n := 0
	for _, x := range v {
		n += bits.OnesCount64(x)
	}
	return n
}

// assemble concatenates the fragments, inflates them with a size cap and
// checks padding and MID.
func (c *collection) assemble(frags [][]byte) ([]byte, error) {
	z := make([]byte, 0, c.n*c.fsize)
	for _, f := range frags {
		z = append(z, f...)
	}
	br := bytes.NewReader(z)
	fr := flate.NewReader(br)
	var out bytes.Buffer
	_, err := io.Copy(&out, io.LimitReader(fr, MaxMessageSize+1))
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: message %s: reassembled data is truncated", ErrBadChecksum, c.mid)
		}
		return nil, fmt.Errorf("%w: message %s: reassembled data does not inflate: %v", ErrBadChecksum, c.mid, err)
	}
	if out.Len() > MaxMessageSize {
		return nil, fmt.Errorf("%w: message %s inflates beyond %d bytes", ErrMessageTooLarge, c.mid, MaxMessageSize)
	}
	rest := z[len(z)-br.Len():]
	if !allZero(rest) {
		return nil, fmt.Errorf("%w: message %s: non-zero bytes after the compressed data", ErrBadChecksum, c.mid)
	}
	if len(rest) >= c.fsize && c.n > 1 {
		return nil, fmt.Errorf("%w: message %s: a whole fragment of padding", ErrBadChecksum, c.mid)
	}
	msg := out.Bytes()
	if got := MessageID(msg); got != c.mid {
		return nil, fmt.Errorf("%w: message %s reassembled to bytes whose id is %s", ErrBadChecksum, c.mid, got)
	}
	return msg, nil
}

func allZero(b []byte) bool {
	for _, v := range b {
		if v != 0 {
			return false
		}
	}
	return true
}
