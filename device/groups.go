package device

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/keremony/keremony/internal/fileio"
	"github.com/keremony/keremony/kel"
	"github.com/keremony/keremony/keystore"
)

// Group aliases: HOME/groups.json maps a local alias to an identifier.

const groupBookName = "groups.json"

// groupLockName is the group book's inter-process lock: add holds it while
// it reads the book again, adds an alias and writes it back.
const groupLockName = ".groups.lock"

type groupBook struct {
	path   string
	V      int          `json:"v"`
	Groups []GroupAlias `json:"groups"`
}

// GroupAlias is a local alias of an identifier.
type GroupAlias struct {
	Alias  string `json:"alias"`
	Prefix string `json:"prefix"`
}

// ErrGroupBook: HOME/groups.json does not parse.
var ErrGroupBook = errors.New("group aliases file does not parse")

// maxGroupBook bounds the group aliases file.
const maxGroupBook = 4 << 20

func loadGroupBook(home string) (*groupBook, error) {
	b := &groupBook{path: filepath.Join(home, groupBookName), V: 1}
	return b, b.reload()
}

// reload reads the book from its file (another process may have added to
// it); a missing file is an empty book.
func (b *groupBook) reload() error {
	data, err := ReadBounded(b.path, nil, maxGroupBook, ErrGroupBook)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	in, err := parseGroupBook(b.path, data)
	if err != nil {
		return err
	}
	b.Groups = in.Groups
	return nil
}

// parseGroupBook reads the group aliases strictly: version 1, no unknown
// fields, every alias a valid alias and every prefix an identifier, each
// once.
func parseGroupBook(path string, data []byte) (*groupBook, error) {
	var in groupBook
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrGroupBook, path, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: %s: data after the object", ErrGroupBook, path)
	}
	if in.V != 1 {
		return nil, fmt.Errorf("%w: %s: version %d", ErrGroupBook, path, in.V)
	}
	seen := map[string]bool{}
	for i, g := range in.Groups {
		if err := keystore.CheckAlias(g.Alias); err != nil {
			return nil, fmt.Errorf("%w: %s: group %d: %w", ErrGroupBook, path, i, err)
		}
		if _, err := kel.DecodeMatter(g.Prefix, kel.CodeBlake3_256, kel.CodeEd25519, kel.CodeEd25519N); err != nil {
			return nil, fmt.Errorf("%w: %s: group %q: prefix: %w", ErrGroupBook, path, g.Alias, err)
		}
		if seen["a"+g.Alias] || seen["p"+g.Prefix] {
			return nil, fmt.Errorf("%w: %s: group %q or its prefix %s appears twice", ErrGroupBook, path, g.Alias, g.Prefix)
		}
		seen["a"+g.Alias], seen["p"+g.Prefix] = true, true
	}
	return &groupBook{path: path, V: 1, Groups: in.Groups}, nil
}

// aliasOf is the local alias of prefix ("" when none).
func (b *groupBook) aliasOf(prefix string) string {
	for _, g := range b.Groups {
		if g.Prefix == prefix {
			return g.Alias
		}
	}
	return ""
}

// lookup resolves an alias or a prefix.
func (b *groupBook) lookup(name string) (prefix string, ok bool) {
	for _, g := range b.Groups {
		if g.Alias == name || g.Prefix == name {
			return g.Prefix, true
		}
	}
	return "", false
}

// add records alias for prefix. It is a no-op when the alias already names
// the prefix, and refuses an alias naming another identifier; a prefix
// keeps its first alias (added is false).
func (b *groupBook) add(alias, prefix string) (added bool, err error) {
	if err := keystore.CheckAlias(alias); err != nil {
		return false, fmt.Errorf("%w: group alias: %w", ErrRequest, err)
	}
	if err := os.MkdirAll(filepath.Dir(b.path), 0o700); err != nil {
		return false, err
	}
	unlock, err := fileio.Lock(filepath.Join(filepath.Dir(b.path), groupLockName), keystore.DefaultLockWait)
	if err != nil {
		return false, fmt.Errorf("group aliases: %w", err)
	}
	defer unlock()
	if err := b.reload(); err != nil {
		return false, err
	}
	for _, g := range b.Groups {
		if g.Alias == alias && g.Prefix != prefix {
			return false, fmt.Errorf("%w: %q is %s here", ErrGroupAlias, alias, g.Prefix)
		}
		if g.Prefix == prefix {
			return false, nil
		}
	}
	b.Groups = append(b.Groups, GroupAlias{Alias: alias, Prefix: prefix})
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return false, err
	}
	return true, writeFile(b.path, append(data, '\n'), 0o600)
}

// Aliases lists the local group aliases in the order they were made.
func (d *Device) Aliases() []GroupAlias { return append([]GroupAlias(nil), d.groups.Groups...) }

// AliasOf is the local alias of prefix ("" when none).
func (d *Device) AliasOf(prefix string) string { return d.groups.aliasOf(prefix) }

// GroupName shows an identifier with its local alias: "acme (E…)".
func (d *Device) GroupName(prefix string) string {
	if a := d.groups.aliasOf(prefix); a != "" {
		return fmt.Sprintf("%s (%s)", a, prefix)
	}
	return prefix
}

// nameOf is a group's alias, else its shortened prefix.
func (d *Device) nameOf(prefix string) string {
	if a := d.groups.aliasOf(prefix); a != "" {
		return a
	}
	return ShortID(prefix)
}

// ShortID shortens a ceremony id or prefix for messages.
func ShortID(id string) string {
	if len(id) <= 12 {
		return id
	}
	return id[:12] + "…"
}

// ResolveAID turns an alias or a prefix into a prefix this device holds a
// KEL for, with its key state.
func (d *Device) ResolveAID(name string) (string, kel.KeyState, error) {
	prefix, ok := d.groups.lookup(name)
	if !ok {
		prefix = name
	}
	st, held := d.store.State(prefix)
	if !held {
		if ok {
			return "", kel.KeyState{}, fmt.Errorf("%w: %q (%s) has no accepted kel on this device yet", ErrGroupUnknown, name, prefix)
		}
		return "", kel.KeyState{}, fmt.Errorf("%w: %q is neither a group alias nor an identifier whose kel this device holds (keremony kel list)", ErrGroupUnknown, name)
	}
	return prefix, st, nil
}

// nextDigest is KERI's next-key commitment: Blake3-256 of the key's qb64.
func nextDigest(pub ed25519.PublicKey) string {
	return kel.NextDigest(kel.EncodeVerKey(pub))
}

// EventLine names an event in one line.
func EventLine(ev *kel.Event) string {
	return fmt.Sprintf("%s sn %d of %s, said %s", ev.Ilk(), ev.Sn(), ev.Prefix(), ev.SAID())
}

// firstNonEmpty is the first of its arguments that is not empty.
func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// dropName joins parts into a file name that the drop folder does not
// ignore and that names nothing outside it.
func dropName(parts ...string) string {
	for i, p := range parts {
		parts[i] = strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
				return r
			}
			return '_'
		}, p)
	}
	return strings.Join(parts, "-")
}
