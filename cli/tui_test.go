package cli

import (
	"strings"
	"testing"
)

// TestTUIDispatch: keremony without a command, or with only flags, is the
// terminal UI; help still prints the usage.
func TestTUIDispatch(t *testing.T) {
	cases := []struct {
		args    []string
		code    int
		out, er string
	}{
		{[]string{"help"}, 0, "no command: the terminal UI", ""},
		{[]string{"-h"}, 0, "open the terminal UI", ""},
		{[]string{"--help"}, 0, "tui", ""},
		{[]string{"tui", "--help"}, 0, "", "--drop DIR"},
		{[]string{"--bogus"}, 2, "", "--drop DIR"},
		{[]string{"--drop", "x", "extra"}, 2, "", "unexpected arguments"},
		{[]string{"tui", "extra"}, 2, "", "unexpected arguments"},
	}
	for _, tc := range cases {
		code, out, errOut := dispatchOut(tc.args...)
		if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errOut, tc.er) {
			t.Errorf("keremony %q: exit %d, stdout %q, stderr %q", tc.args, code, out, errOut)
		}
	}
}
