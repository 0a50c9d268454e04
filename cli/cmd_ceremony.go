package cli

// Shared plumbing of the ceremony commands (group, review, sign, collect,
// status, finalize, rotate, anchor, abort, kel): opening a device (a home:
// its keystore, its ceremony store and its group aliases), reading packets
// from files, writing results, and the bookkeeping that follows a change
// of the local KELs (committing prepared rotations).

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/kel"
	"github.com/keremony/keremony/keystore"
	"github.com/keremony/keremony/transport"
)

// commonFlagsUsage documents the flags every ceremony command takes.
const commonFlagsUsage = `
common flags (before or after the arguments):
  --home DIR        data directory (env KEREMONY_HOME; default: the user config dir + /keremony)
  --keystore MODE   auto, keyring or file (env KEREMONY_KEYSTORE)
  --expires DUR     (commands that start a ceremony) expire it after DUR, e.g. 72h; it
                    then stays on record as expired and takes no more signatures
environment:
  KEREMONY_PASSPHRASE  passphrase of the file keystore (less safe than typing it)
exit status: 0 success, 1 failure, 2 usage
`

// Errors of the ceremony commands (package main: they only reach the
// user's terminal and the tests).
var (
	errUsage          = errors.New("usage")
	errGroupUnknown   = errors.New("unknown group")
	errGroupAlias     = errors.New("group alias already names another identifier")
	errNotFound       = errors.New("no such ceremony on this device")
	errAmbiguous      = errors.New("ambiguous")
	errNoMember       = errors.New("no member of this device can do this")
	errReviewFailed   = errors.New("review failed")
	errContext        = errors.New("the kel that came with the proposal does not replay on this device's kel")
	errWrongPacket    = errors.New("packet does not belong here")
	errAbortNotMember = errors.New("abort record signed by a key that is not a member's")
)

// cmd is one run of a ceremony command: its name, flags and streams.
type cmd struct {
	name    string
	usage   string
	stdin   io.Reader
	stdout  io.Writer
	stderr  io.Writer
	result  io.Writer // where a result written to "-" goes: the real standard output
	fs      *flag.FlagSet
	home    *string
	mode    *string
	expires *time.Duration // set by commands that create ceremonies
}

// expiresFlag lets a command that creates a ceremony give it a deadline.
func (c *cmd) expiresFlag() {
	c.expires = c.fs.Duration("expires", 0, "expire the ceremony after this long (e.g. 2h); 0: never")
}

// deadline is when a ceremony created now expires (zero: never).
func (c *cmd) deadline() time.Time {
	if c.expires == nil || *c.expires <= 0 {
		return time.Time{}
	}
	return time.Now().Add(*c.expires)
}

func newCmd(name, usage string, stdin io.Reader, stdout, stderr io.Writer) *cmd {
	c := &cmd{name: name, usage: usage, stdin: stdin, stdout: stdout, stderr: stderr, result: stdout}
	c.fs = flag.NewFlagSet(name, flag.ContinueOnError)
	c.fs.SetOutput(stderr)
	c.fs.Usage = func() { fmt.Fprint(stderr, usage+commonFlagsUsage) }
	c.home = c.fs.String("home", "", "data directory")
	c.mode = c.fs.String("keystore", "", "auto, keyring or file")
	return c
}

// parse parses the flags; ok is false when the command should exit with
// code (0 after --help, 2 on a usage error).
func (c *cmd) parse(args []string) (pos []string, code int, ok bool) {
	pos, err := parseInterleaved(c.fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil, 0, false
	}
	if err != nil {
		return nil, 2, false
	}
	return pos, 0, true
}

// usageErr reports a usage error (exit 2).
func (c *cmd) usageErr(format string, a ...any) int {
	fmt.Fprintf(c.stderr, "keremony %s: %s\n", c.name, fmt.Sprintf(format, a...))
	fmt.Fprintf(c.stderr, "run 'keremony %s --help' for usage\n", c.name)
	return 2
}

// fail reports a failure (exit 1), or a usage error (exit 2) when err wraps
// errUsage.
func (c *cmd) fail(err error) int {
	if errors.Is(err, errUsage) {
		return c.usageErr("%v", strings.TrimPrefix(err.Error(), errUsage.Error()+": "))
	}
	fmt.Fprintf(c.stderr, "keremony %s: %v\n", c.name, err)
	switch {
	case errors.Is(err, keystore.ErrKeyringUnavailable):
		fmt.Fprintln(c.stderr, "keremony: hint: without a working OS keyring, use --keystore=file (a passphrase-protected file)")
	case errors.Is(err, keystore.ErrNoPassphrase), errors.Is(err, errNoTerminal):
		fmt.Fprintln(c.stderr, "keremony: hint: run in a terminal, or set KEREMONY_PASSPHRASE (less safe)")
	case errors.Is(err, ceremony.ErrStoreBusy):
		fmt.Fprintln(c.stderr, "keremony: hint: another keremony command is using this home; wait for it to finish")
	}
	return 1
}

func (c *cmd) printf(format string, a ...any) { fmt.Fprintf(c.stdout, format, a...) }

// note writes a message about what happened to standard error, so that
// standard output stays the command's result.
func (c *cmd) note(format string, a ...any) {
	fmt.Fprintf(c.stderr, "keremony %s: %s\n", c.name, fmt.Sprintf(format, a...))
}

// usagef makes a usage error from inside a command.
func usagef(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, a...))
}

// device is one home opened by a command (or by the TUI, for its
// lifetime): its keystore, its ceremony store and its group aliases.
type device struct {
	home   string
	ks     *keystore.Store
	store  *ceremony.Store
	groups *groupBook
	// created, when set, is told of every ceremony recorded on this device
	// (the TUI applies the signatures it held for it).
	created func(*ceremony.Ceremony)
}

// open opens the command's home.
func (c *cmd) open() (*device, error) {
	return openDevice(*c.home, *c.mode, terminalPassphrase(c.stdin, c.stderr), c.stderr)
}

// openDevice opens a home with the keystore backend mode, asking pass for
// the file keystore's passphrase; messages go to stderr.
func openDevice(home, mode string, pass func(create bool) ([]byte, error), stderr io.Writer) (*device, error) {
	ks, dir, err := openKeystoreWith(home, mode, pass, stderr)
	if err != nil {
		return nil, err
	}
	st, err := ceremony.OpenStore(dir, ceremony.StoreOptions{})
	if err != nil {
		ks.Close()
		return nil, err
	}
	gb, err := loadGroupBook(dir)
	if err != nil {
		st.Close()
		ks.Close()
		return nil, err
	}
	d := &device{home: dir, ks: ks, store: st, groups: gb}
	d.expireDue(stderr)
	return d, nil
}

// expireDue marks the ceremonies past their deadline expired (they stay on
// record), says so on w and returns their ids. Every command does it when
// it opens the device.
func (d *device) expireDue(w io.Writer) []string {
	expired, err := d.store.ExpireDue()
	if err != nil {
		fmt.Fprintf(w, "keremony: warning: %v\n", err)
	}
	for _, id := range expired {
		fmt.Fprintf(w, "keremony: ceremony %s expired\n", id)
	}
	return expired
}

// record records a proposal built or received on this device as an open
// ceremony (deadline may be zero).
func (d *device) record(p ceremony.Proposal, deadline time.Time) (*ceremony.Ceremony, error) {
	cer, err := d.store.Create(p, deadline)
	if err != nil {
		return nil, err
	}
	if err := cer.Open(); err != nil {
		return nil, err
	}
	if d.created != nil {
		d.created(cer)
	}
	return cer, nil
}

func (d *device) close() error {
	return errors.Join(d.store.Close(), d.ks.Close())
}

// Group aliases: HOME/groups.json maps a local alias to an identifier.

const groupBookName = "groups.json"

type groupBook struct {
	path   string
	V      int          `json:"v"`
	Groups []groupEntry `json:"groups"`
}

type groupEntry struct {
	Alias  string `json:"alias"`
	Prefix string `json:"prefix"`
}

func loadGroupBook(home string) (*groupBook, error) {
	b := &groupBook{path: filepath.Join(home, groupBookName), V: 1}
	data, err := os.ReadFile(b.path)
	if errors.Is(err, os.ErrNotExist) {
		return b, nil
	}
	if err != nil {
		return nil, err
	}
	var in groupBook
	if err := json.Unmarshal(data, &in); err != nil || in.V != 1 {
		return nil, fmt.Errorf("group aliases %s do not parse (version %d): %v", b.path, in.V, err)
	}
	b.Groups = in.Groups
	return b, nil
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
		return false, usagef("group alias: %v", err)
	}
	for _, g := range b.Groups {
		if g.Alias == alias && g.Prefix != prefix {
			return false, fmt.Errorf("%w: %q is %s here", errGroupAlias, alias, g.Prefix)
		}
		if g.Prefix == prefix {
			return false, nil
		}
	}
	b.Groups = append(b.Groups, groupEntry{Alias: alias, Prefix: prefix})
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return false, err
	}
	return true, writePrivateFile(b.path, append(data, '\n'))
}

// writePrivateFile replaces path atomically with a 0600 file.
func writePrivateFile(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// groupName shows an identifier with its local alias.
func (d *device) groupName(prefix string) string {
	if a := d.groups.aliasOf(prefix); a != "" {
		return fmt.Sprintf("%s (%s)", a, prefix)
	}
	return prefix
}

// resolveAID turns an alias or a prefix into a prefix this device holds a
// KEL for.
func (d *device) resolveAID(name string) (string, kel.KeyState, error) {
	prefix, ok := d.groups.lookup(name)
	if !ok {
		prefix = name
	}
	st, held := d.store.State(prefix)
	if !held {
		if ok {
			return "", kel.KeyState{}, fmt.Errorf("%w: %q (%s) has no accepted kel on this device yet", errGroupUnknown, name, prefix)
		}
		return "", kel.KeyState{}, fmt.Errorf("%w: %q is neither a group alias nor an identifier whose kel this device holds (keremony kel list)", errGroupUnknown, name)
	}
	return prefix, st, nil
}

// Packets in files.

// readPacket reads a packet file ("-" is standard input) of kind want.
func readPacket(path string, stdin io.Reader, want transport.PacketType) (transport.Packet, error) {
	data, err := readLimitedFile(path, stdin, want.MaxSize())
	if err != nil {
		return nil, err
	}
	p, err := transport.ParsePacketAs(data, want)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// readAnyPacket reads a packet file of any kind.
func readAnyPacket(path string, stdin io.Reader) (transport.Packet, error) {
	data, err := readLimitedFile(path, stdin, transport.MaxPacketSize)
	if err != nil {
		return nil, err
	}
	p, err := transport.ParsePacket(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// readLimitedFile reads at most limit bytes and refuses larger files with
// transport.ErrPacketTooLarge before parsing anything.
func readLimitedFile(path string, stdin io.Reader, limit int) ([]byte, error) {
	return readBounded(path, stdin, limit, transport.ErrPacketTooLarge)
}

// resultOnStdout moves the command's messages to standard error when its
// result goes to standard output (out is "-", or "" for commands whose
// result goes there by default), so that the output is the result alone.
func (c *cmd) resultOnStdout(out string, byDefault bool) {
	if out == "-" || out == "" && byDefault {
		c.stdout = c.stderr
	}
}

// writeOutput writes a result to path ("-" or "" is standard output) and
// says where it went.
func (c *cmd) writeOutput(path string, data []byte, what string) error {
	if path == "" || path == "-" {
		_, err := c.result.Write(data)
		return err
	}
	if err := writeFileAtomic(path, data); err != nil {
		return err
	}
	c.note("wrote %s to %s", what, path)
	return nil
}

// Proposals.

// proposalIn is a received proposal: the packet and the ceremony proposal
// it carries.
type proposalIn struct {
	path   string
	packet transport.Proposal
	p      ceremony.Proposal
	ev     *kel.Event
}

func readProposal(path string, stdin io.Reader) (*proposalIn, error) {
	pk, err := readPacket(path, stdin, transport.PacketProposal)
	if err != nil {
		return nil, err
	}
	return proposalFromPacket(path, pk.(transport.Proposal))
}

func proposalFromPacket(path string, pk transport.Proposal) (*proposalIn, error) {
	p, err := ceremony.ParseProposal(pk.Body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	ev, err := kel.ParseEvent(p.Event)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &proposalIn{path: path, packet: pk, p: p, ev: ev}, nil
}

// contextVerifier replays this device's KELs and, on top of them, the KELs
// that came with a proposal, without storing anything. It names the
// identifiers this device did not hold before (new), and refuses a stream
// that does not replay (errContext).
func (d *device) contextVerifier(stream []byte) (*kel.Verifier, []string, error) {
	v := d.store.Verifier()
	if len(stream) == 0 {
		return v, nil, nil
	}
	before := v.Prefixes()
	results, err := v.AcceptStream(stream)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", errContext, err)
	}
	for _, r := range results {
		if !r.OK() {
			return nil, nil, fmt.Errorf("%w: %s sn %d %s: %w", errContext, r.Prefix, r.Sn, r.Ilk, r.Err)
		}
	}
	var fresh []string
	for _, p := range v.Prefixes() {
		if !slices.Contains(before, p) {
			fresh = append(fresh, p)
		}
	}
	return v, fresh, nil
}

// importContext stores the events of a proposal's KELs this device does
// not hold yet (accepted only through authenticated replay).
func (d *device) importContext(c *cmd, stream []byte) error {
	if len(stream) == 0 {
		return nil
	}
	before := map[string]uint64{}
	known := map[string]bool{}
	for _, m := range mustParse(stream) {
		p := m.Event.Prefix()
		if st, ok := d.store.State(p); ok && !known[p] {
			before[p], known[p] = st.Sn, true
		}
	}
	if _, err := d.store.ImportKEL(stream); err != nil {
		return fmt.Errorf("%w: %w", errContext, err)
	}
	for _, p := range uniquePrefixes(stream) {
		st, _ := d.store.State(p)
		switch {
		case !known[p]:
			c.note("imported the kel of %s (sn 0 to %d) that came with the proposal", d.groupName(p), st.Sn)
		case st.Sn > before[p]:
			c.note("imported events %d to %d of %s that came with the proposal", before[p]+1, st.Sn, d.groupName(p))
		}
	}
	return nil
}

func mustParse(stream []byte) []kel.Message {
	msgs, _ := kel.ParseStream(stream)
	return msgs
}

func uniquePrefixes(stream []byte) []string {
	var out []string
	for _, m := range mustParse(stream) {
		if !slices.Contains(out, m.Event.Prefix()) {
			out = append(out, m.Event.Prefix())
		}
	}
	return out
}

// Ceremonies.

// resolveCeremony finds a local ceremony by a proposal or signature file,
// a ceremony id (or a unique prefix of one), or a group alias or prefix
// (its open ceremony, else its latest).
func (d *device) resolveCeremony(arg string, stdin io.Reader) (*ceremony.Ceremony, error) {
	if fi, err := os.Stat(arg); err == nil && !fi.IsDir() {
		pk, err := readAnyPacket(arg, stdin)
		if err != nil {
			return nil, err
		}
		var id string
		switch p := pk.(type) {
		case transport.Proposal:
			in, err := proposalFromPacket(arg, p)
			if err != nil {
				return nil, err
			}
			id = in.p.ID
		case transport.Signatures:
			id = p.Ceremony
		case transport.Abort:
			id = p.Ceremony
		default:
			return nil, fmt.Errorf("%s: %w: a %s names no ceremony", arg, transport.ErrWrongPacketType, pk.PacketType().Describe())
		}
		c, err := d.store.Ceremony(id)
		if err != nil {
			return nil, fmt.Errorf("%w: %s (from %s)", errNotFound, id, arg)
		}
		return c, nil
	}
	if c, err := d.store.Ceremony(arg); err == nil {
		return c, nil
	}
	all := d.store.Ceremonies()
	if prefix, ok := d.groups.lookup(arg); ok || strings.HasPrefix(arg, "E") && len(arg) == 44 {
		if !ok {
			prefix = arg
		}
		var open, any []*ceremony.Ceremony
		for _, c := range all {
			if c.Event().Prefix() == prefix {
				any = append(any, c)
				if c.State().Open() {
					open = append(open, c)
				}
			}
		}
		switch {
		case len(open) == 1:
			return open[0], nil
		case len(open) > 1:
			return nil, fmt.Errorf("%w: group %s has %d open ceremonies (%s): name one", errAmbiguous, arg, len(open), ceremonyIDs(open))
		case len(any) > 0:
			return any[len(any)-1], nil
		}
		return nil, fmt.Errorf("%w: group %s has no ceremony here", errNotFound, arg)
	}
	var match []*ceremony.Ceremony
	if len(arg) >= 4 {
		for _, c := range all {
			if strings.HasPrefix(c.ID(), arg) {
				match = append(match, c)
			}
		}
	}
	switch len(match) {
	case 1:
		return match[0], nil
	case 0:
		return nil, fmt.Errorf("%w: %q is no file, ceremony id or group here (keremony status lists them)", errNotFound, arg)
	}
	return nil, fmt.Errorf("%w: %q matches %s", errAmbiguous, arg, ceremonyIDs(match))
}

func ceremonyIDs(cs []*ceremony.Ceremony) string {
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.ID())
	}
	return strings.Join(ids, ", ")
}

// createFromProposal records a received proposal as a local ceremony
// (collecting), after storing the KELs it came with; an existing ceremony
// of the same id must be of the same event.
func (d *device) createFromProposal(c *cmd, in *proposalIn) (*ceremony.Ceremony, bool, error) {
	if cer, err := d.store.Ceremony(in.p.ID); err == nil {
		if cer.SAID() != in.ev.SAID() {
			return nil, false, fmt.Errorf("%w: ceremony %s on this device signs %s, the proposal %s", ceremony.ErrWrongEvent, in.p.ID, cer.SAID(), in.ev.SAID())
		}
		if cer.State() == ceremony.StateDrafting {
			if err := cer.Open(); err != nil {
				return nil, false, err
			}
		}
		return cer, false, nil
	}
	if err := d.importContext(c, in.packet.KEL); err != nil {
		return nil, false, err
	}
	cer, err := d.record(in.p, c.deadline())
	if err != nil {
		return nil, false, err
	}
	return cer, true, nil
}

// addressBook maps keys and digests of an identifier to member labels,
// from the rosters of this device's ceremonies.
func (d *device) addressBook(prefix string) map[string]string {
	book := map[string]string{}
	for _, c := range d.store.Ceremonies() {
		if c.Event().Prefix() != prefix {
			continue
		}
		for _, m := range c.Roster() {
			for _, k := range []string{m.Key, m.Next, m.Prior} {
				if k != "" && !strings.HasPrefix(m.Label, "#") {
					book[k] = m.Label
				}
			}
		}
	}
	return book
}

// Members of this device.

// seat is how a local member takes part in a proposed event.
type seat struct {
	alias string
	m     keystore.Member
	// key is the member's key among the signing keys ("" when it does not
	// sign): its current key, or for a rotation the next key it reveals.
	key string
	// next is the digest the member expects in the event's next list.
	next string
	// reveals: a rotation in which the member reveals its next key.
	reveals bool
}

// seatFor works out how member m takes part in event ev, whose signatures
// index signing (for an ixn: the group's current keys); ok is false when it
// takes no part at all.
func seatFor(m keystore.Member, kind ceremony.Kind, ev *kel.Event, signing, next []string) (s seat, ok bool) {
	cur := kel.EncodeVerKey(m.PublicKey)
	s = seat{alias: m.Alias, m: m, next: m.NextDigest}
	if kind == ceremony.KindRotation {
		for _, k := range ev.Keys() {
			if kel.NextDigest(k) == m.NextDigest {
				s.key, s.reveals, s.next = k, true, m.PendingNextDigest
			}
		}
		if s.key == "" && slices.Contains(ev.Keys(), cur) {
			s.key = cur
		}
		return s, s.key != "" || slices.Contains(next, m.NextDigest)
	}
	if slices.Contains(signing, cur) {
		s.key = cur
	}
	return s, s.key != "" || slices.Contains(next, m.NextDigest)
}

// chooseSeat picks the local member that takes part in the event: the one
// named (want), else the only one that does. ok is false when no member
// takes part (and none was named).
func (d *device) chooseSeat(want string, kind ceremony.Kind, ev *kel.Event, signing, next []string) (seat, bool, error) {
	if want != "" {
		m, err := d.ks.Member(want)
		if err != nil {
			return seat{}, false, err
		}
		s, _ := seatFor(m, kind, ev, signing, next)
		return s, true, nil
	}
	ms, err := d.ks.Members()
	if err != nil {
		return seat{}, false, err
	}
	var found []seat
	for _, m := range ms {
		if s, ok := seatFor(m, kind, ev, signing, next); ok {
			found = append(found, s)
		}
	}
	switch len(found) {
	case 0:
		return seat{}, false, nil
	case 1:
		return found[0], true, nil
	}
	var names []string
	for _, s := range found {
		names = append(names, s.alias)
	}
	return seat{}, false, fmt.Errorf("%w: members %s of this device all take part: choose one with --member", errAmbiguous, strings.Join(names, ", "))
}

// syncRotations commits the prepared rotation of every local member whose
// revealed next key is now a current key of an identifier this device
// holds, with its prepared next digest committed; it is run after every
// change of the local KELs (finalize, kel import, sign). It returns what it
// did, for the user.
func (d *device) syncRotations() ([]string, error) {
	ms, err := d.ks.Members()
	if err != nil {
		return nil, err
	}
	var out []string
	var errs []error
	v := d.store.Verifier()
	for _, m := range ms {
		for _, p := range v.Prefixes() {
			st, _ := v.State(p)
			i := slices.IndexFunc(st.Keys, func(k string) bool { return kel.NextDigest(k) == m.NextDigest })
			if i < 0 {
				continue
			}
			switch {
			case m.PendingNextDigest == "":
				out = append(out, fmt.Sprintf("member %s: its next key is now k[%d] of %s (sn %d), but this device prepared no rotation for it: run keremony member check", m.Alias, i, d.groupName(p), st.EstSn))
			case !slices.Contains(st.Next, m.PendingNextDigest):
				out = append(out, fmt.Sprintf("member %s: its next key is now k[%d] of %s (sn %d), but its prepared next digest %s is not in the new next list: rotation NOT committed", m.Alias, i, d.groupName(p), st.EstSn, m.PendingNextDigest))
			default:
				nm, err := d.ks.CommitRotation(m.Alias)
				if err != nil {
					errs = append(errs, fmt.Errorf("member %s: %w", m.Alias, err))
					continue
				}
				out = append(out, fmt.Sprintf("member %s: rotation committed: its key %s is now k[%d] of %s (sn %d); next digest %s", m.Alias, kel.EncodeVerKey(nm.PublicKey), i, d.groupName(p), st.EstSn, nm.NextDigest))
			}
		}
	}
	return out, errors.Join(errs...)
}

// afterKELChange runs syncRotations and reports to the user.
func (c *cmd) afterKELChange(d *device) error {
	lines, err := d.syncRotations()
	for _, l := range lines {
		c.printf("%s\n", l)
	}
	return err
}

// Presentation.

// eventLine names an event in one line.
func eventLine(ev *kel.Event) string {
	return fmt.Sprintf("%s sn %d of %s, said %s", ev.Ilk(), ev.Sn(), ev.Prefix(), ev.SAID())
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// orderedFlag appends NAME=VALUE to a list shared by several flags, so a
// command sees them in command-line order.
type orderedFlag struct {
	name string
	list *[][2]string
}

func (o orderedFlag) String() string { return "" }
func (o orderedFlag) Set(v string) error {
	*o.list = append(*o.list, [2]string{o.name, v})
	return nil
}

// parseThresholdFlag reads --kt/--nt: an integer ("2", written as KERI's hex
// "2") or weighted JSON (["1/2","1/4","1/4"]).
func parseThresholdFlag(name, v string) (kel.Threshold, error) {
	text := strings.TrimSpace(v)
	if text != "" && text[0] != '[' && text[0] != '"' {
		var n int
		if _, err := fmt.Sscanf(text, "%d", &n); err != nil || fmt.Sprint(n) != text || n < 0 {
			return kel.Threshold{}, usagef("--%s %q: want an integer or weighted clauses such as '[\"1/2\",\"1/2\"]'", name, v)
		}
		return kel.IntThreshold(n), nil
	}
	th, err := kel.ParseThreshold(text)
	if err != nil {
		return kel.Threshold{}, usagef("--%s %q: %v", name, v, err)
	}
	return th, nil
}
