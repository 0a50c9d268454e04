package kel

import (
	"fmt"
	"strconv"
)

// KERI 1.0 version strings: "KERI10JSON" + six lowercase hex digits of the
// body size + "_". keremony reads and writes only this form.
const (
	versionPrefix = "KERI10JSON"
	versionLen    = 17
	// bodyStart is what every KERI 1.0 JSON body begins with: v is the first field.
	bodyStart = `{"v":"`
)

func versionString(size int) string {
	return fmt.Sprintf("%s%06x_", versionPrefix, size)
}

// sniffSize reads the version string at the start of a body and returns the
// announced body size.
func sniffSize[T string | []byte](b T) (int, error) {
	if len(b) < len(bodyStart)+versionLen {
		return 0, fmt.Errorf("%w: body shorter than a version string", ErrTruncated)
	}
	if string(b[:len(bodyStart)]) != bodyStart {
		return 0, fmt.Errorf("%w: body does not open with the version field", ErrVersion)
	}
	size, err := parseVersion(string(b[len(bodyStart) : len(bodyStart)+versionLen]))
	if err == nil && size < len(bodyStart)+versionLen {
		return 0, fmt.Errorf("%w: announced size %d is smaller than the version field", ErrVersion, size)
	}
	return size, err
}

// parseVersion checks a version string and returns its size.
func parseVersion(v string) (int, error) {
	if len(v) != versionLen || v[:4] != "KERI" || v[16] != '_' {
		return 0, fmt.Errorf("%w: %q", ErrVersion, clip(v))
	}
	if v[:len(versionPrefix)] != versionPrefix {
		return 0, fmt.Errorf("%w: %q is not keri 1.0 json", ErrVersion, v)
	}
	hex := v[len(versionPrefix):16]
	for i := 0; i < len(hex); i++ {
		if c := hex[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return 0, fmt.Errorf("%w: size %q is not lowercase hex", ErrVersion, hex)
		}
	}
	n, _ := strconv.ParseUint(hex, 16, 32)
	return int(n), nil
}

// formatHex writes n as keripy does: lowercase hex without leading zeros.
func formatHex(n uint64) string { return strconv.FormatUint(n, 16) }

// parseHex reads a canonical lowercase hex number (no leading zeros, no sign).
func parseHex(s string) (uint64, error) {
	if s == "" || len(s) > 16 || (len(s) > 1 && s[0] == '0') {
		return 0, fmt.Errorf("%w: %q is not canonical hex", ErrField, clip(s))
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return 0, fmt.Errorf("%w: %q is not canonical hex", ErrField, clip(s))
		}
	}
	return strconv.ParseUint(s, 16, 64)
}
