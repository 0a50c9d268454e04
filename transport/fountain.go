package transport

import (
	"crypto/sha256"
	"encoding/binary"
	"slices"
)

// This file holds the BC-UR fragment chooser (BCR-2020-005, reference code
// bc-ur src/fountain-utils.cpp and random-sampler.cpp). KC1 keeps the chooser
// unchanged and only replaces the checksum that seeds it: BC-UR uses the
// CRC32 of the message, KC1 the first four bytes of SHA-256(message).

// aliasSampler is Walker's alias method as built by the reference
// RandomSampler, including its floating-point evaluation order, so that the
// same random doubles select the same indices.
type aliasSampler struct {
	probs   []float64
	aliases []int
}

func newAliasSampler(weights []float64) *aliasSampler {
	n := len(weights)
	sum := 0.0
	for _, w := range weights {
		sum += w
	}
	p := make([]float64, n)
	for i, w := range weights {
		p[i] = w * float64(n) / sum
	}
	small := make([]int, 0, n)
	large := make([]int, 0, n)
	for i := n - 1; i >= 0; i-- {
		if p[i] < 1 {
			small = append(small, i)
		} else {
			large = append(large, i)
		}
	}
	s := &aliasSampler{probs: make([]float64, n), aliases: make([]int, n)}
	for len(small) > 0 && len(large) > 0 {
		a := small[len(small)-1]
		small = small[:len(small)-1]
		g := large[len(large)-1]
		large = large[:len(large)-1]
		s.probs[a] = p[a]
		s.aliases[a] = g
		p[g] += p[a] - 1
		if p[g] < 1 {
			small = append(small, g)
		} else {
			large = append(large, g)
		}
	}
	for _, i := range large {
		s.probs[i] = 1
	}
	for _, i := range small { // only through numeric instability
		s.probs[i] = 1
	}
	return s
}

// next draws two doubles and returns an index, as RandomSampler::next.
func (s *aliasSampler) next(rng *xoshiro256) int {
	r1 := rng.nextDouble()
	r2 := rng.nextDouble()
	n := len(s.probs)
	i := int(float64(n) * r1)
	if i >= n { // r1 rounded to 1.0; unreachable in practice
		i = n - 1
	}
	if r2 < s.probs[i] {
		return i
	}
	return s.aliases[i]
}

// degreeSampler returns the sampler over the weights 1/1, 1/2, ..., 1/n.
func degreeSampler(n int) *aliasSampler {
	w := make([]float64, n)
	for i := range w {
		w[i] = 1.0 / float64(i+1)
	}
	return newAliasSampler(w)
}

// chooseDegree returns a degree in [1, n] drawn with probability
// proportional to 1/degree.
func chooseDegree(n int, rng *xoshiro256) int {
	return degreeSampler(n).next(rng) + 1
}

// shuffle returns the items in the reference's shuffled order: repeatedly
// remove remaining[nextInt(0, len-1)] and append it to the result.
func shuffle(items []int, rng *xoshiro256) []int {
	return shufflePrefix(items, len(items), rng)
}

// shufflePrefix returns only the first k elements of shuffle(items, rng);
// the remaining draws would not influence them.
func shufflePrefix(items []int, k int, rng *xoshiro256) []int {
	remaining := append([]int(nil), items...)
	out := make([]int, 0, k)
	for len(out) < k && len(remaining) > 0 {
		i := int(rng.nextInt(0, uint64(len(remaining)-1)))
		out = append(out, remaining[i])
		remaining = append(remaining[:i], remaining[i+1:]...)
	}
	return out
}

// fragmentChooser caches the degree sampler for one sequence length.
type fragmentChooser struct {
	n       int
	sampler *aliasSampler
	indexes []int
}

func newFragmentChooser(n int) *fragmentChooser {
	c := &fragmentChooser{n: n, sampler: degreeSampler(n), indexes: make([]int, n)}
	for i := range c.indexes {
		c.indexes[i] = i
	}
	return c
}

// choose returns the sorted 0-based fragment indices mixed into part seq.
func (c *fragmentChooser) choose(seq uint32, checksum uint32) []int {
	if uint64(seq) <= uint64(c.n) {
		return []int{int(seq) - 1}
	}
	var seed [8]byte
	binary.BigEndian.PutUint32(seed[0:], seq)
	binary.BigEndian.PutUint32(seed[4:], checksum)
	rng := newXoshiro256FromDigest(sha256.Sum256(seed[:]))
	degree := c.sampler.next(rng) + 1
	chosen := shufflePrefix(c.indexes, degree, rng)
	slices.Sort(chosen)
	return chosen
}

// ChooseFragments returns the sorted 0-based indices of the fragments that
// part seq (1-based) of an n-fragment message combines: the single index
// seq-1 for a pure part (seq <= n), otherwise the BC-UR fountain choice
// seeded with seq and checksum. For KC1 the checksum is the first four bytes
// of SHA-256(message), big-endian; BC-UR passes the message's CRC32. It
// returns nil when seq is 0 or n < 1.
func ChooseFragments(seq uint32, n int, checksum uint32) []int {
	if seq == 0 || n < 1 {
		return nil
	}
	if uint64(seq) <= uint64(n) {
		return []int{int(seq) - 1}
	}
	return newFragmentChooser(n).choose(seq, checksum)
}
