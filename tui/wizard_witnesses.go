package tui

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/textinput"
)

// The witnesses of a new group: OOBI URLs typed or pasted in one field,
// and their threshold (toad). The backend resolves the OOBIs when the
// proposal is made; here they are only checked for their form.

var errWitnessField = errors.New("witnesses")

func newWitnessFields() (oobis, toad textinput.Model) {
	oobis = newTextInput()
	oobis.Prompt = "witnesses> "
	oobis.Placeholder = "none (or OOBI URLs http://host:port/oobi/B…/controller?name=wan, space between)"
	oobis.CharLimit = 4096
	toad = newTextInput()
	toad.Prompt = "toad> "
	toad.Placeholder = "a majority of the witnesses"
	toad.CharLimit = 4
	return oobis, toad
}

// parseWitnessFields reads the OOBI URLs (split by spaces or commas) and
// the toad (0: the default).
func parseWitnessFields(oobis, toad string) ([]string, uint64, error) {
	list := strings.FieldsFunc(oobis, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' })
	for _, o := range list {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || !strings.HasPrefix(u.Path, "/oobi/") {
			return nil, 0, fmt.Errorf("%w: %q is not an OOBI URL (http://HOST:PORT/oobi/PREFIX/controller)", errWitnessField, truncate(o, 60))
		}
	}
	t := strings.TrimSpace(toad)
	if t == "" {
		return list, 0, nil
	}
	n, err := strconv.ParseUint(t, 10, 16)
	if err != nil || n == 0 || n > uint64(len(list)) {
		return nil, 0, fmt.Errorf("%w: toad %q: want a whole number from 1 to the %d witnesses", errWitnessField, t, len(list))
	}
	return list, n, nil
}

// witnessLines are the group step's witness fields and what they say.
func witnessLines(c *common, oobis, toad textinput.Model, width int) []string {
	st := c.styles
	out := []string{"  " + oobis.View(), "  " + toad.View()}
	if _, _, err := parseWitnessFields(oobis.Value(), toad.Value()); err != nil {
		return append(out, wizWrap("    "+st.Bad.Render("✗ ")+err.Error(), width, "      ")...)
	}
	if w := witnessWords(oobis.Value(), toad.Value()); w != "none" {
		out = append(out, "    "+st.Subtle.Render(truncate(w, max(width-4, 10))))
	}
	return out
}

// witnessWords says what the fields ask for: "2, resolved when proposed;
// toad 2 (receipts every event needs)".
func witnessWords(oobis, toad string) string {
	list, t, err := parseWitnessFields(oobis, toad)
	switch {
	case err != nil:
		return "invalid: " + err.Error()
	case len(list) == 0:
		return "none"
	case t == 0:
		return fmt.Sprintf("%d, resolved when proposed; toad: a majority of their receipts", len(list))
	}
	return fmt.Sprintf("%d, resolved when proposed; toad %d (receipts every event needs)", len(list), t)
}
