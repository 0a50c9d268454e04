package transport

import (
	"crypto/sha256"
	"encoding/binary"
	"math/bits"
)

// xoshiro256 is the Xoshiro256** generator exactly as BC-UR's reference
// implementation (bc-ur src/xoshiro256.cpp) seeds and uses it: the state is
// the SHA-256 of a seed, read as four big-endian uint64 words.
type xoshiro256 struct {
	s [4]uint64
}

// newXoshiro256 seeds a generator from SHA-256(seed).
func newXoshiro256(seed []byte) *xoshiro256 {
	d := sha256.Sum256(seed)
	return newXoshiro256FromDigest(d)
}

// newXoshiro256FromDigest seeds a generator from 32 bytes used as they are.
func newXoshiro256FromDigest(d [32]byte) *xoshiro256 {
	var x xoshiro256
	for i := range x.s {
		x.s[i] = binary.BigEndian.Uint64(d[8*i:])
	}
	return &x
}

// next returns the next 64-bit output (the "**" scrambler).
func (x *xoshiro256) next() uint64 {
	s := &x.s
	result := bits.RotateLeft64(s[1]*5, 7) * 9
	t := s[1] << 17
	s[2] ^= s[0]
	s[3] ^= s[1]
	s[1] ^= s[2]
	s[0] ^= s[3]
	s[2] ^= t
	s[3] = bits.RotateLeft64(s[3], 45)
	return result
}

// two64 is 2^64 as a float64, the divisor of nextDouble (the reference
// computes double(UINT64_MAX) + 1, which rounds to the same value).
const two64 = 18446744073709551616.0

// nextDouble returns next() / 2^64, in [0, 1] (1 only by rounding).
func (x *xoshiro256) nextDouble() float64 {
	return float64(x.next()) / two64
}

// nextInt returns an integer in [lo, hi] as the reference does:
// uint64(nextDouble() * (hi - lo + 1)) + lo. The reference can return hi+1
// when nextDouble rounds to 1.0 (probability about 2^-54); that case is
// clamped to hi so that callers can index safely. Every known-answer vector
// is unaffected.
func (x *xoshiro256) nextInt(lo, hi uint64) uint64 {
	v := uint64(x.nextDouble()*float64(hi-lo+1)) + lo
	if v > hi {
		v = hi
	}
	return v
}

// nextByte returns nextInt(0, 255) as a byte, as the reference's next_byte.
func (x *xoshiro256) nextByte() byte {
	return byte(x.nextInt(0, 255))
}

// nextData returns n bytes of nextByte, as the reference's next_data.
func (x *xoshiro256) nextData(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = x.nextByte()
	}
	return b
}
