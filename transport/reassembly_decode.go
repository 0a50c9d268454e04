package transport

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"slices"
)

// A collection gathers the frames of one message in one shape (type, MID,
// n and F) and solves them by GF(2) elimination: every part is an equation
// "XOR of the fragments in S = data", kept in reduced row echelon form, so
// the message completes as soon as the parts held span all n fragments.
//
// Every distinct frame is kept, and nothing is trusted for having come
// first. Frames are eliminated in arrival order; one that contradicts the
// rows (it reduces to no fragment but to non-zero data) is held as a
// candidate, with its residual and the basis frames it was reduced by (each
// row records the frames it combines): one of them is bogus. Once the rows
// span the message, a solution that does not reassemble to the MID, or any
// contradiction, starts the search: swapping a basis frame b for a
// contradicting frame f changes exactly the fragments whose rows combine b,
// by f's residual, so every swap is tried without solving again; when no
// single swap reassembles, the swap that leaves the fewest contradictions
// is made and the search goes on (up to maxSwaps bogus frames).

// row is one equation: bits is the set of fragments, data their XOR, prov
// the frames (indexes into collection.frames) it combines.
type row struct {
	bits   []uint64
	data   []byte
	prov   []uint64
	weight int // number of fragments in bits
}

// heldFrame is one distinct frame of the collection.
type heldFrame struct {
	seq  uint32
	bits []uint64
	data []byte
}

// decoder is the elimination of the frames not excluded, in arrival order.
type decoder struct {
	rows     []*row
	pivotRow []int // fragment index -> position in rows, or -1
	held     int   // rows of weight 1: fragments known
	basis    []int // the frames that made rows
	skipped  int   // frames that contradicted the rows before them
}

func newDecoder(n int) *decoder {
	d := &decoder{pivotRow: make([]int, n)}
	for i := range d.pivotRow {
		d.pivotRow[i] = -1
	}
	return d
}

// Outcomes of decoder.add.
const (
	addNew = iota
	addRedundant
	addContradicts
)

// add eliminates frame i of pw provenance words.
func (d *decoder) add(i, pw int, f heldFrame) int {
	v := slices.Clone(f.bits)
	x := slices.Clone(f.data)
	prov := make([]uint64, pw)
	prov[i/64] |= 1 << (i % 64)
	// Reduce by the rows whose pivots v contains. A row has no other pivot
	// column, so XORing it only clears its own pivot among pivot columns:
	// one pass over v's bits as they were suffices.
	for w := range v {
		for m := v[w]; m != 0; m &= m - 1 {
			col := w*64 + bits.TrailingZeros64(m)
			if r := d.pivotRow[col]; r >= 0 {
				xorWords(v, d.rows[r].bits)
				xorInto(x, d.rows[r].data)
				xorWords(prov, d.rows[r].prov)
			}
		}
	}
	p := lowestBit(v)
	if p < 0 {
		if !allZero(x) {
			d.skipped++
			return addContradicts
		}
		return addRedundant
	}
	// Eliminate column p from the other rows, then insert the new row.
	for _, r := range d.rows {
		if r.bits[p/64]&(1<<(p%64)) == 0 {
			continue
		}
		xorWords(r.bits, v)
		xorInto(r.data, x)
		xorWords(r.prov, prov)
		r.weight = popcount(r.bits)
		if r.weight == 1 {
			d.held++
		}
	}
	nw := popcount(v)
	d.pivotRow[p] = len(d.rows)
	d.rows = append(d.rows, &row{bits: v, data: x, prov: prov, weight: nw})
	d.basis = append(d.basis, i)
	if nw == 1 {
		d.held++
	}
	return addNew
}

// fragments are the n solved fragments once the rows span the message.
func (d *decoder) fragments() [][]byte {
	out := make([][]byte, len(d.pivotRow))
	for col, ri := range d.pivotRow {
		out[col] = d.rows[ri].data
	}
	return out
}

func (d *decoder) known(i int) bool {
	r := d.pivotRow[i]
	return r >= 0 && d.rows[r].weight == 1
}

type collection struct {
	typ      FrameType
	mid      string
	checksum uint32
	n        int
	fsize    int
	words    int
	pw       int // provenance words: maxHeldFrames bits
	chooser  *fragmentChooser

	frames   []heldFrame
	excluded []bool   // frames swapped out of the basis by the search
	dec      *decoder // the elimination of the frames not excluded

	count   int // frames accepted, duplicates included
	lastNew bool
	done    bool
	msg     []byte
	solved  [][]byte // the fragments, once done
	// discarded counts, once done, the frames held that disagree with the
	// message.
	discarded int
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
		words:    (f.Total + 63) / 64,
		chooser:  newFragmentChooser(f.Total),
		dec:      newDecoder(f.Total),
	}
	c.pw = (c.maxHeldFrames() + 63) / 64
	return c, nil
}

// maxHeldFrames bounds the distinct frames one collection keeps: an honest
// sequence completes long before.
func (c *collection) maxHeldFrames() int { return 2*c.n + 64 }

// maxSwaps bounds the bogus frames one search swaps out, maxSwapFrames the
// contradicting frames whose swaps it weighs, maxSwapTries the swaps it
// reassembles at each step (those leaving the fewest contradictions).
const (
	maxSwaps      = 8
	maxSwapFrames = 16
	maxSwapTries  = 8 // swaps reassembled per step
)

func (c *collection) progress() Progress {
	p := Progress{
		Type:         c.typ,
		MID:          c.mid,
		Total:        c.n,
		FragmentSize: c.fsize,
		Frames:       c.count,
		New:          c.lastNew,
		Done:         c.done,
	}
	if c.done {
		p.Held, p.Discarded = c.n, c.discarded
		return p
	}
	p.Held, p.Mixed = c.dec.held, len(c.dec.rows)-c.dec.held
	p.Contradicting = c.dec.skipped
	for _, x := range c.excluded {
		if x {
			p.Contradicting++
		}
	}
	if len(c.dec.rows) == c.n { // a full set that does not reassemble
		p.Held, p.Mixed = c.n-1, 0
		p.Contradicting = max(p.Contradicting, 1)
	}
	return p
}

func (c *collection) known(i int) bool { return c.done || c.dec.known(i) }

// accept records an accepted frame.
func (c *collection) accept(isNew bool) {
	c.count++
	c.lastNew = isNew
}

// add takes one frame already checked to belong to this collection. It
// fails only when the collection holds as many frames as it may.
func (c *collection) add(f Frame) error {
	if c.done {
		if !agrees(c.bitsOf(f.Seq), f.Data, c.solved) {
			c.discarded++
		}
		c.accept(false)
		return nil
	}
	for _, h := range c.frames {
		if h.seq == f.Seq && bytes.Equal(h.data, f.Data) {
			c.accept(false)
			return nil
		}
	}
	if len(c.frames) >= c.maxHeldFrames() {
		return fmt.Errorf("%w: message %s: %d frames held and no consistent set of them reassembles (reset to start over)",
			ErrBadChecksum, c.mid, len(c.frames))
	}
	i := len(c.frames)
	c.frames = append(c.frames, heldFrame{seq: f.Seq, bits: c.bitsOf(f.Seq), data: slices.Clone(f.Data)})
	c.excluded = append(c.excluded, false)
	rank := len(c.dec.rows)
	outcome := c.dec.add(i, c.pw, c.frames[i])
	if len(c.dec.rows) == c.n && (outcome != addRedundant || c.dec.skipped > 0) {
		c.search()
	}
	c.accept(c.done || len(c.dec.rows) > rank)
	return nil
}

// bitsOf is the set of fragments part seq mixes.
func (c *collection) bitsOf(seq uint32) []uint64 {
	v := make([]uint64, c.words)
	for _, i := range c.chooser.choose(seq, c.checksum) {
		v[i/64] |= 1 << (i % 64)
	}
	return v
}

// rebuild eliminates the frames not excluded again, in arrival order.
func (c *collection) rebuild() {
	c.dec = newDecoder(c.n)
	for i, f := range c.frames {
		if !c.excluded[i] {
			c.dec.add(i, c.pw, f)
		}
	}
}

// residual is what a frame adds to the solution x of a full decoder: its
// data XOR the fragments it mixes (zero when it agrees), and the basis
// frames its fragments' rows combine.
func (c *collection) residual(f heldFrame, x [][]byte) ([]byte, []uint64) {
	r := slices.Clone(f.data)
	prov := make([]uint64, c.pw)
	for w := range f.bits {
		for m := f.bits[w]; m != 0; m &= m - 1 {
			col := w*64 + bits.TrailingZeros64(m)
			xorInto(r, x[col])
			xorWords(prov, c.dec.rows[c.dec.pivotRow[col]].prov)
		}
	}
	return r, prov
}

func has(set []uint64, i int) bool { return set[i/64]&(1<<(i%64)) != 0 }

// search runs once the rows span the message: it completes the collection
// with the first consistent set of frames that reassembles to the MID.
func (c *collection) search() {
	for range maxSwaps + 1 {
		x := c.dec.fragments()
		if c.finish(x) {
			return
		}
		// The frames outside the basis that contradict it.
		inBasis := make([]bool, len(c.frames))
		for _, b := range c.dec.basis {
			inBasis[b] = true
		}
		type other struct {
			i    int
			res  []byte
			prov []uint64
		}
		var others []other
		var bad []int // indexes into others
		for i, f := range c.frames {
			if inBasis[i] || c.excluded[i] {
				continue
			}
			r, prov := c.residual(f, x)
			if !allZero(r) {
				bad = append(bad, len(others))
			}
			others = append(others, other{i, r, prov})
		}
		if len(bad) == 0 {
			return // a full set that does not reassemble: more frames are needed
		}
		// Swap a basis frame b that a contradicting frame f combines for f:
		// the fragments whose rows combine b change by f's residual, and so
		// does the residual of every frame combining b.
		type swap struct {
			b, f, left int
		}
		var swaps []swap
		for _, k := range bad[:min(len(bad), maxSwapFrames)] {
			f := others[k]
			for _, b := range c.dec.basis {
				if !has(f.prov, b) {
					continue
				}
				left := 1 // b, which now contradicts
				for _, g := range others {
					changed := has(g.prov, b)
					if !changed && !allZero(g.res) || changed && !bytes.Equal(g.res, f.res) {
						left++
					}
				}
				swaps = append(swaps, swap{b, k, left})
			}
		}
		if len(swaps) == 0 {
			return
		}
		slices.SortStableFunc(swaps, func(a, b swap) int { return a.left - b.left })
		// The swaps leaving the fewest contradictions are reassembled.
		for _, sw := range swaps[:min(len(swaps), maxSwapTries)] {
			y := make([][]byte, c.n)
			for col := range x {
				y[col] = x[col]
				if has(c.dec.rows[c.dec.pivotRow[col]].prov, sw.b) {
					y[col] = slices.Clone(x[col])
					xorInto(y[col], others[sw.f].res)
				}
			}
			if _, err := c.assemble(y); err == nil {
				c.excluded[sw.b] = true
				c.rebuild()
				if len(c.dec.rows) == c.n && c.finish(c.dec.fragments()) {
					return
				}
				c.excluded[sw.b] = false
				c.rebuild()
			}
		}
		// None reassembles alone: make the best one and go on.
		bestB := swaps[0].b
		if swaps[0].left >= len(bad) {
			return
		}
		c.excluded[bestB] = true
		c.rebuild()
		if len(c.dec.rows) < c.n {
			return
		}
	}
}

// finish reassembles the message from n fragments and, if it matches the
// MID, completes the collection.
func (c *collection) finish(frags [][]byte) bool {
	msg, err := c.assemble(frags)
	if err != nil {
		return false
	}
	c.msg, c.done = msg, true
	c.discarded = 0
	for _, h := range c.frames {
		if !agrees(h.bits, h.data, frags) {
			c.discarded++
		}
	}
	c.frames, c.excluded, c.dec, c.solved = nil, nil, newDecoder(0), frags
	return true
}

// agrees reports whether a part matches the solved fragments.
func agrees(v []uint64, data []byte, frags [][]byte) bool {
	x := make([]byte, len(data))
	for w := range v {
		for m := v[w]; m != 0; m &= m - 1 {
			col := w*64 + bits.TrailingZeros64(m)
			if col >= len(frags) || len(frags[col]) != len(x) {
				return false
			}
			xorInto(x, frags[col])
		}
	}
	return bytes.Equal(x, data)
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

func allZero(b []byte) bool {
	for _, v := range b {
		if v != 0 {
			return false
		}
	}
	return true
}
