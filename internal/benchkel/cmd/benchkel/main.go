// Command benchkel writes the benchmarks' n-event 3-of-5 KEL as a CESR
// stream (scripts/bench-home.sh): benchkel N FILE.
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/keremony/keremony/internal/benchkel"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: benchkel N FILE")
		os.Exit(2)
	}
	n, err := strconv.Atoi(os.Args[1])
	if err != nil || n < 1 {
		fmt.Fprintln(os.Stderr, "benchkel: N must be a positive number")
		os.Exit(2)
	}
	k, err := benchkel.Build(n)
	if err == nil {
		err = os.WriteFile(os.Args[2], k.Stream, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchkel:", err)
		os.Exit(1)
	}
}
