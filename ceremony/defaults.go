package ceremony

import "github.com/keremony/keremony/kel"

// DefaultThreshold is the threshold keremony proposes over n keys when the
// user names none: a majority, n/2+1 ("2" of 2, "2" of 3, "3" of 5). A
// group then keeps signing, and can rotate a lost device out, while a
// minority of its devices is missing; requiring every key would make one
// lost device the end of the identifier.
func DefaultThreshold(n int) kel.Threshold {
	if n <= 0 {
		return kel.IntThreshold(0)
	}
	return kel.IntThreshold(n/2 + 1)
}
