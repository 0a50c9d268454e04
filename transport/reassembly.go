package transport

import (
	"fmt"
	"slices"
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
	// Contradicting counts the frames held as candidates because they
	// contradict the others (one of them is bogus); the message completes
	// from whichever consistent set reassembles to its MID.
	Contradicting int
	// Discarded counts, once the message is complete, the frames that
	// turned out not to belong to it: parts that disagree with it, and
	// frames of its MID in another shape (type, n or F).
	Discarded int
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
	if p.Contradicting > 0 && !p.Done {
		s += fmt.Sprintf(", %d contradicting", p.Contradicting)
	}
	if p.Done {
		s += ", complete"
		if p.Discarded > 0 {
			s += fmt.Sprintf(" (%d frames discarded)", p.Discarded)
		}
	}
	return s
}

// Receiver reassembles one KC1 message from frames arriving in any order,
// pure or fountain, with duplicates and losses. It decodes fountain parts
// by GF(2) elimination. Frames of another MID are refused with
// ErrOtherMessage and never mixed in; call Reset to switch. A frame of the
// message's MID trusts nothing for having come first: one in another shape
// (type, n or F, as after a density change on the sender, or a bogus frame)
// starts a candidate collection beside the first, and a part that
// contradicts the others is held as a candidate too (see collection); the
// message completes as soon as some consistent set of parts reassembles to
// the MID, and Progress counts the frames discarded. Every refused frame
// leaves the collected state exactly as it was. The zero value is ready to
// use. A Receiver is not safe for concurrent use.
type Receiver struct {
	mid   string
	cands []*collection // by shape, in order of arrival; at most maxShapes
	done  *collection
	// other counts the frames of the MID in a shape other than the one
	// that completed.
	other int
}

// maxShapes bounds the candidate collections of one MID.
const maxShapes = 4

// NewReceiver returns an empty Receiver.
func NewReceiver() *Receiver { return &Receiver{} }

// Reset forgets the current message.
func (r *Receiver) Reset() { *r = Receiver{} }

// best is the collection whose progress is shown: the completed one, else
// the candidate holding the most information (the earliest on a tie).
func (r *Receiver) best() *collection {
	if r.done != nil {
		return r.done
	}
	var b *collection
	for _, c := range r.cands {
		if b == nil || len(c.dec.rows)*b.n > len(b.dec.rows)*c.n {
			b = c
		}
	}
	return b
}

// Progress reports the current collection.
func (r *Receiver) Progress() Progress {
	c := r.best()
	if c == nil {
		return Progress{}
	}
	p := c.progress()
	if r.done != nil {
		p.Discarded += r.other
	} else {
		for _, o := range r.cands {
			if o != c {
				p.Frames += o.count
			}
		}
	}
	return p
}

// Message returns the reassembled message once Progress().Done is true.
// The returned slice must not be modified.
func (r *Receiver) Message() (FrameType, []byte, bool) {
	if r.done == nil {
		return 0, nil, false
	}
	return r.done.typ, r.done.msg, true
}

// Have reports which fragments are known, for a per-fragment progress strip.
func (r *Receiver) Have() []bool {
	c := r.best()
	if c == nil {
		return nil
	}
	h := make([]bool, c.n)
	for i := range h {
		h[i] = c.known(i)
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
// ErrOtherMessage (another MID; with ErrFragmentSize when the MID already
// has as many shapes as a receiver keeps), ErrBadChecksum (a collection
// holds as many frames as it may and none of their consistent sets
// reassembles), ErrMessageTooLarge or ErrFrameSyntax. On error the state is
// unchanged and the returned progress is the unchanged one.
func (r *Receiver) AddFrame(f Frame) (Progress, error) {
	if err := checkFrame(f); err != nil {
		return r.Progress(), err
	}
	if r.mid != "" && f.MID != r.mid {
		return r.Progress(), fmt.Errorf("%w: frame %d of message %s while collecting %s (reset to switch)", ErrOtherMessage, f.Seq, f.MID, r.mid)
	}
	shape := func(c *collection) bool { return c.typ == f.Type && c.n == f.Total && c.fsize == len(f.Data) }
	if r.done != nil {
		if shape(r.done) {
			_ = r.done.add(f)
		} else {
			r.other++
		}
		return r.Progress(), nil
	}
	i := slices.IndexFunc(r.cands, shape)
	if i < 0 {
		if len(r.cands) >= maxShapes {
			return r.Progress(), fmt.Errorf("%w: %w: frame %d of message %s has %d fragments of %d bytes (type %s), and %d other shapes of it are held already (reset to start over)",
				ErrOtherMessage, ErrFragmentSize, f.Seq, f.MID, f.Total, len(f.Data), f.Type, maxShapes)
		}
		c, err := newCollection(f)
		if err != nil {
			return r.Progress(), err
		}
		r.cands = append(r.cands, c)
		i = len(r.cands) - 1
	}
	c := r.cands[i]
	if err := c.add(f); err != nil {
		if len(c.frames) == 0 && c.count == 0 {
			r.cands = slices.Delete(r.cands, i, i+1)
		}
		return r.Progress(), err
	}
	r.mid = f.MID
	if c.done {
		r.done = c
		for _, o := range r.cands {
			if o != c {
				r.other += o.count
			}
		}
		r.cands = nil
	}
	return r.Progress(), nil
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
