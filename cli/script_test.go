package cli

// CLI transcripts: testdata/script/*.txtar run `keremony ...` as a real
// process (the test binary re-executed) and check its exit status and
// output. They are the contract of the command line's behaviour.

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/keremony/keremony/device"
	"github.com/keremony/keremony/kel"
	"github.com/keremony/keremony/transport"
	"github.com/keremony/keremony/witness/witnesstest"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"keremony": func() {
			// Cheap Argon2id for new keystore files, and never a real terminal.
			testOnlyKDF = &device.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}
			ttyPath = filepath.Join(os.TempDir(), "keremony-test-no-tty")
			os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
		},
	})
}

func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/script",
		UpdateScripts: os.Getenv("UPDATE_SCRIPTS") != "", // UPDATE_SCRIPTS=1 rewrites the cmp files from the output
		Setup: func(env *testscript.Env) error {
			work := env.WorkDir
			home := filepath.Join(work, "home")
			if err := os.MkdirAll(home, 0o755); err != nil {
				return err
			}
			env.Setenv("HOME", home)
			env.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
			env.Setenv("KEREMONY_HOME", filepath.Join(work, "keremony"))
			env.Setenv("KEREMONY_KEYSTORE", "file")
			env.Setenv("KEREMONY_PASSPHRASE", "script test passphrase")
			env.Setenv("KEREMONY_DROP", "")
			env.Setenv("NO_COLOR", "")
			// The KERI vectors, byte for byte (they end without a newline,
			// which a txtar archive cannot keep), at $WORK/vectors.
			return copyVectors(filepath.Join(work, "vectors"))
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"truncate": cmdTruncate,
			"zeros":    cmdZeros,
			"replace":  cmdReplace,
			"forgekel": cmdForgeKEL,
			"witness":  cmdWitness,
			"setaid":   cmdSetAID,
			"envfrom":  cmdEnvFrom,
			"append":   cmdAppend,
		},
	})
}

// cmdTruncate is `truncate FILE N`: keep the first N bytes of FILE (a
// packet cut short in transit).
func cmdTruncate(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: truncate FILE N")
	}
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	path := ts.MkAbs(args[0])
	data, err := os.ReadFile(path)
	ts.Check(err)
	if n > len(data) {
		ts.Fatalf("%s has only %d bytes", args[0], len(data))
	}
	ts.Check(os.WriteFile(path, data[:n], 0o644))
}

// cmdAppend is `append FILE "GO-QUOTED"`: add bytes (control characters
// written as Go escapes, "\r\n") at the end of FILE.
func cmdAppend(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: append FILE \"GO-QUOTED\"")
	}
	text, err := strconv.Unquote(args[1])
	ts.Check(err)
	path := ts.MkAbs(args[0])
	data, err := os.ReadFile(path)
	ts.Check(err)
	ts.Check(os.WriteFile(path, append(data, text...), 0o644))
}

// cmdReplace is `replace FILE REGEXP REPL`: rewrite the first match of
// REGEXP in FILE (a tampered packet); the match must exist.
func cmdReplace(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: replace FILE REGEXP REPL")
	}
	re, err := regexp.Compile(args[1])
	ts.Check(err)
	path := ts.MkAbs(args[0])
	data, err := os.ReadFile(path)
	ts.Check(err)
	loc := re.FindSubmatchIndex(data)
	if loc == nil {
		ts.Fatalf("%s: no match for %q", args[0], args[1])
	}
	var out []byte
	out = append(out, data[:loc[0]]...)
	out = re.Expand(out, []byte(args[2]), data, loc)
	out = append(out, data[loc[1]:]...)
	ts.Check(os.WriteFile(path, out, 0o644))
}

// cmdEnvFrom is `envfrom FILE REGEXP VAR`: set VAR to the first submatch
// of REGEXP in FILE (a value a user copies from a file or the screen, such
// as the SAID of an event to anchor).
func cmdEnvFrom(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: envfrom FILE REGEXP VAR")
	}
	re, err := regexp.Compile(args[1])
	ts.Check(err)
	data, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	m := re.FindSubmatch(data)
	if len(m) < 2 {
		ts.Fatalf("%s: no submatch for %q", args[0], args[1])
	}
	ts.Setenv(args[2], string(m[1]))
}

// copyVectors copies testdata/vectors/*.cesr into dir.
func copyVectors(dir string) error {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "vectors", "*.cesr"))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("no vectors in testdata/vectors")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// cmdZeros is `zeros FILE N`: a file of N zero bytes (an input over a
// size limit).
func cmdZeros(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: zeros FILE N")
	}
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), make([]byte, n), 0o644))
}

// cmdForgeKEL is `forgekel CONTRIBUTION OUT`: what anyone holding a
// rotation contribution (public by design) can build: the KEL of a new
// identifier, signed only by the forger, whose k lists the contribution's
// revealed key and whose n lists its prepared next digest.
func cmdForgeKEL(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: forgekel CONTRIBUTION OUT")
	}
	data, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	cc, err := transport.ParseContribution(data)
	ts.Check(err)
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	ts.Check(err)
	mine := kel.EncodeVerKey(pub)
	ev, err := kel.Incept(kel.InceptionOptions{Keys: []string{cc.Key, mine}, Kt: kel.IntThreshold(1),
		Next: []string{cc.Next, kel.NextDigest(mine)}, Nt: kel.IntThreshold(1)})
	ts.Check(err)
	sig, err := kel.NewSiger(ed25519.Sign(priv, ev.Raw()), 1, 1, false)
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), kel.NewMessage(ev, []kel.Siger{sig}).Bytes(), 0o644))
}

// cmdWitness is `witness NAME start|down|up|garbage`: a witness stand-in
// (package witnesstest) on a loopback port, run by the test process for
// the script's keremony processes. start sets $NAME (its prefix, NAME in
// upper case), $NAME_URL and $NAME_OOBI (named NAME); the others change
// how it answers. It stops when the script ends.
func cmdWitness(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: witness NAME start|down|up|garbage")
	}
	name, verb := args[0], args[1]
	if verb == "start" {
		w := witnesstest.Start(name)
		ts.Defer(w.Close)
		scriptWitnesses.Store(ts, name, w)
		v := strings.ToUpper(name)
		ts.Setenv(v, w.Prefix)
		ts.Setenv(v+"_URL", strings.TrimSuffix(w.URL, "/"))
		ts.Setenv(v+"_OOBI", w.OOBI())
		return
	}
	w := scriptWitnesses.Load(ts, name)
	if w == nil {
		ts.Fatalf("witness %s was not started", name)
	}
	switch verb {
	case "down":
		w.SetMode(witnesstest.Down, 0)
	case "up":
		w.SetMode(witnesstest.Up, 0)
	case "garbage":
		w.SetMode(witnesstest.Garbage, 0)
	default:
		ts.Fatalf("witness %s: unknown %q", name, verb)
	}
}

// scriptWitnesses holds each script's witness stand-ins.
var scriptWitnesses witnessRegistry

type witnessRegistry struct {
	mu sync.Mutex
	m  map[*testscript.TestScript]map[string]*witnesstest.Witness
}

func (r *witnessRegistry) Store(ts *testscript.TestScript, name string, w *witnesstest.Witness) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[*testscript.TestScript]map[string]*witnesstest.Witness{}
	}
	if r.m[ts] == nil {
		r.m[ts] = map[string]*witnesstest.Witness{}
	}
	r.m[ts][name] = w
}

func (r *witnessRegistry) Load(ts *testscript.TestScript, name string) *witnesstest.Witness {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.m[ts][name]
}

// cmdSetAID is `setaid VAR FILE`: VAR becomes the identifier of the first
// event of the CESR stream FILE.
func cmdSetAID(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: setaid VAR FILE")
	}
	data, err := os.ReadFile(ts.MkAbs(args[1]))
	ts.Check(err)
	msgs, err := kel.ParseStream(data)
	if err != nil || len(msgs) == 0 {
		ts.Fatalf("%s: no event: %v", args[1], err)
	}
	ts.Setenv(args[0], msgs[0].Event.Prefix())
}
