package kel

import "fmt"

// CESR 1.0 attachment counters: "-" + a letter + a two-digit Base64 count
// (four characters), or "-0" + a letter + a five-digit count (eight).
const (
	CtrControllerSigs = "-A"  // controller indexed signatures
	CtrWitnessSigs    = "-B"  // witness indexed signatures
	CtrNonTransRcpts  = "-C"  // non-transferable receipt couples
	CtrTransRcpts     = "-D"  // transferable receipt quadruples
	CtrFirstSeen      = "-E"  // first-seen replay couples
	CtrSealSource     = "-G"  // seal source couples (delegator sn + SAID)
	CtrPathed         = "-L"  // pathed material (count in quadlets)
	CtrAttachGroup    = "-V"  // attachment group (count in quadlets)
	CtrBigPathed      = "-0L" // big pathed material
	CtrBigAttachGroup = "-0V" // big attachment group
)

var counterSizes = map[string]sizage{
	"-A": {2, 2, 4}, "-B": {2, 2, 4}, "-C": {2, 2, 4}, "-D": {2, 2, 4},
	"-E": {2, 2, 4}, "-G": {2, 2, 4}, "-L": {2, 2, 4}, "-V": {2, 2, 4},
	"-0L": {3, 5, 8}, "-0V": {3, 5, 8},
}

// Counter is one parsed counter.
type Counter struct {
	Code  string
	Count int
}

// Qb64 encodes the counter, choosing nothing: the code fixes the width.
func (c Counter) Qb64() string {
	sz, ok := counterSizes[c.Code]
	if !ok || c.Count < 0 || c.Count >= 1<<(6*sz.ss) {
		panic(fmt.Sprintf("kel: cannot encode counter %s with count %d", c.Code, c.Count))
	}
	return c.Code + intToB64(c.Count, sz.ss)
}

// ParseCounter reads a counter from the start of s.
func ParseCounter(s string) (Counter, int, error) {
	if s == "" || s[0] != '-' {
		return Counter{}, 0, fmt.Errorf("%w: expected a counter at %q", ErrStream, clip(s))
	}
	if len(s) < 2 {
		return Counter{}, 0, fmt.Errorf("%w: counter", ErrTruncated)
	}
	hs := 2
	if s[1] == '0' {
		hs = 3
	}
	if len(s) < hs {
		return Counter{}, 0, fmt.Errorf("%w: counter", ErrTruncated)
	}
	code := s[:hs]
	sz, ok := counterSizes[code]
	if !ok {
		return Counter{}, 0, fmt.Errorf("%w: %q", ErrUnsupportedCounter, code)
	}
	if len(s) < sz.fs {
		return Counter{}, 0, fmt.Errorf("%w: counter %s", ErrTruncated, code)
	}
	n, err := b64ToInt(s[hs:sz.fs])
	if err != nil {
		return Counter{}, 0, err
	}
	return Counter{Code: code, Count: n}, sz.fs, nil
}
