package main

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// errInputTooLarge is the default refusal of readBounded.
var errInputTooLarge = errors.New("input too large")

// readBounded reads the file at path ("-": stdin) and refuses, with tooLarge
// (errInputTooLarge when nil), anything over limit bytes without reading
// more than limit+1 of it. Every command that takes a file reads through it.
func readBounded(path string, stdin io.Reader, limit int, tooLarge error) ([]byte, error) {
	if tooLarge == nil {
		tooLarge = errInputTooLarge
	}
	r := stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if len(data) > limit {
		return nil, fmt.Errorf("%s: %w: more than %d bytes", path, tooLarge, limit)
	}
	return data, nil
}
