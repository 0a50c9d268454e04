package cli

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/keremony/keremony/qr"
	"github.com/keremony/keremony/transport"
)

const qrUsage = `usage: keremony qr show FILE [flags]      show FILE as animated QR codes (KC1 frames)
       keremony qr read IMAGE... [--out FILE]
                                        decode screenshots or photos (PNG, JPEG, GIF) of
                                        the codes and write the original file
       keremony qr scan [--out FILE]     read KC1 frames as text lines on standard input (a
                                        keyboard-wedge scanner, or "qr show --text"), write
                                        the file; progress on standard error

show flags:
  --type T        what FILE is: E event stream, S signature envelope, K KEL bundle,
                  C member card, F any other file (default F)
  --density D     low (v7), normal (v12, default) or high (v25): the largest code, capped
                  further by the window
  --fps N         frames per second, 1 to 10 (default 5)
  --step          start in step mode: a key press shows the next frame
  --full          full blocks, two cells per module (default when TERM=linux)
  --palette P     256 (default), ansi, truecolor or none (default none with NO_COLOR)
  --cols N, --rows N
                  window size to fit (default: the terminal's, else 80x24)
  --print         write each frame's code once, each followed by an empty line, and exit
  --text          write each frame's text once, one per line, and exit

keys while showing: space, enter or right arrow: next frame (and step mode); s: step mode
on/off; left arrow or b: previous frame; + and -: frame rate; i: invert (palette none);
q, Ctrl-C or end of input: quit.
`

// qrIsTerminal and qrTermSize are seams for tests.
var (
	qrIsTerminal = func(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }
	qrTermSize   = func(f *os.File) (int, int, error) { return term.GetSize(int(f.Fd())) }
)

// runQR sends and receives files as animated QR codes: exit 0 on success,
// 1 on failure, 2 on usage errors.
func runQR(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	sub, args, code, ok := subcommand("qr", qrUsage, args, stdout, stderr, "show", "read", "scan")
	if !ok {
		return code
	}
	if sub == "show" {
		return qrShow(args, stdin, stdout, stderr)
	}
	return qrReceive(sub, args, stdin, stdout, stderr)
}

func qrFlags(sub string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("qr "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, qrUsage) }
	return fs
}

type showOptions struct {
	typ       transport.FrameType
	opt       qr.Options
	fps       int
	step      bool
	cols      int
	rows      int
	printMode bool
	textMode  bool
}

func qrShow(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := qrFlags("show", stderr)
	typ := fs.String("type", "F", "message type")
	density := fs.String("density", "normal", "low, normal or high")
	fps := fs.Int("fps", qr.DefaultFPS, "frames per second")
	step := fs.Bool("step", false, "step mode")
	full := fs.Bool("full", false, "full blocks")
	palette := fs.String("palette", "", "256, ansi, truecolor or none")
	cols := fs.Int("cols", 0, "window columns")
	rows := fs.Int("rows", 0, "window rows")
	printMode := fs.Bool("print", false, "print every frame once")
	textMode := fs.Bool("text", false, "print every frame's text once")
	pos, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return 2
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "keremony qr show: "+format+"\n", a...)
		return 2
	}
	if len(pos) != 1 {
		return usage("want one FILE, got %d arguments", len(pos))
	}
	var o showOptions
	if o.typ, err = transport.ParseFrameType(*typ); err != nil {
		return usage("%v", err)
	}
	if o.opt.Density, err = qr.ParseDensity(*density); err != nil {
		return usage("%v", err)
	}
	if *palette == "" && os.Getenv("NO_COLOR") != "" {
		*palette = "none"
	}
	if o.opt.Palette, err = qr.ParsePalette(*palette); err != nil {
		return usage("%v", err)
	}
	if *full || os.Getenv("TERM") == "linux" || os.Getenv("XDG_SESSION_TYPE") == "tty" {
		o.opt.Mode = qr.FullBlock
	}
	if *fps < qr.MinFPS || *fps > qr.MaxFPS {
		return usage("--fps %d: want %d to %d", *fps, qr.MinFPS, qr.MaxFPS)
	}
	if *cols < 0 || *rows < 0 || (*cols == 0) != (*rows == 0) {
		return usage("--cols and --rows go together and must be positive")
	}
	if *printMode && *textMode {
		return usage("--print and --text exclude each other")
	}
	o.fps, o.step, o.cols, o.rows, o.printMode, o.textMode = *fps, *step, *cols, *rows, *printMode, *textMode

	name := pos[0]
	if name == "-" && !o.printMode && !o.textMode {
		return usage("FILE - (standard input) only with --print or --text: the animation reads keys from standard input")
	}
	data, err := readQRInput(name, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "keremony qr show: %v\n", err)
		return 1
	}
	out, isTTY := stdout.(*os.File)
	isTTY = isTTY && qrIsTerminal(out)
	if o.cols == 0 {
		o.cols, o.rows = 80, 24
		if isTTY {
			if c, r, err := qrTermSize(out); err == nil && c > 0 && r > 0 {
				o.cols, o.rows = c, r
			}
		}
	}
	layout, err := qr.Fit(o.cols, o.rows, o.opt)
	if err != nil {
		fmt.Fprintf(stderr, "keremony qr show: %v\n", err)
		if o.opt.Mode == qr.FullBlock {
			fmt.Fprintln(stderr, "keremony: hint: full blocks need about 4 times the area of half blocks; enlarge the window or use a smaller font")
		}
		return 1
	}
	seq, err := layout.Encode(o.typ, data)
	if err != nil {
		fmt.Fprintf(stderr, "keremony qr show: %s: %v\n", name, err)
		return 1
	}
	if o.printMode || o.textMode {
		return qrPrint(seq, layout, o.textMode, stdout, stderr)
	}
	return qrAnimate(seq, layout, o, stdin, stdout, stderr, isTTY)
}

// readQRInput reads FILE (or standard input for "-") up to the message limit.
func readQRInput(name string, stdin io.Reader) ([]byte, error) {
	return readBounded(name, stdin, transport.MaxMessageSize, transport.ErrMessageTooLarge)
}

// qrPrint writes every pure frame once, as a code or as text.
func qrPrint(seq *transport.FrameSequence, l qr.Layout, text bool, stdout, stderr io.Writer) int {
	w := bufio.NewWriter(stdout)
	for _, fr := range seq.Frames() {
		if text {
			fmt.Fprintln(w, fr)
			continue
		}
		code, err := l.Render(fr)
		if err != nil {
			fmt.Fprintf(stderr, "keremony qr show: %v\n", err)
			return 1
		}
		fmt.Fprint(w, code, "\n\n")
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintf(stderr, "keremony qr show: %v\n", err)
		return 1
	}
	return 0
}

// key is one command read from the keyboard.
type key int

const (
	keyNext key = iota + 1
	keyPrev
	keyToggleStep
	keyFaster
	keySlower
	keyInvert
	keyQuit
)

// readKeys turns input bytes into keys until EOF or an error, then sends
// keyQuit and closes the channel.
func readKeys(r io.Reader, keys chan<- key) {
	defer close(keys)
	br := bufio.NewReader(r)
	for {
		b, err := br.ReadByte()
		if err != nil {
			keys <- keyQuit
			return
		}
		var k key
		switch b {
		case ' ', '\r', '\n', 'n':
			k = keyNext
		case 'b':
			k = keyPrev
		case 's':
			k = keyToggleStep
		case '+', '=':
			k = keyFaster
		case '-', '_':
			k = keySlower
		case 'i':
			k = keyInvert
		case 'q', 3, 4: // q, Ctrl-C, Ctrl-D
			k = keyQuit
		case 0x1b: // ESC [ C / ESC [ D: arrows
			if c, _ := br.Peek(2); len(c) == 2 && c[0] == '[' {
				br.Discard(2)
				switch c[1] {
				case 'C':
					k = keyNext
				case 'D':
					k = keyPrev
				}
			}
		}
		if k != 0 {
			keys <- k
			if k == keyQuit {
				return
			}
		}
	}
}

// qrAnimate draws the frames in place until a quit key, end of input or
// SIGINT.
func qrAnimate(seq *transport.FrameSequence, l qr.Layout, o showOptions, stdin io.Reader, stdout, stderr io.Writer, isTTY bool) int {
	p := qr.NewPlayer(seq, l)
	p.SetFPS(o.fps)
	p.SetStepping(o.step)

	// Raw mode for single key presses when standard input is a terminal;
	// Ctrl-C then arrives as a byte. Otherwise SIGINT ends the loop.
	if in, ok := stdin.(*os.File); ok && qrIsTerminal(in) {
		if old, err := term.MakeRaw(int(in.Fd())); err == nil {
			defer term.Restore(int(in.Fd()), old)
		}
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	defer signal.Stop(sigs)

	keys := make(chan key)
	go readKeys(stdin, keys)

	w := bufio.NewWriter(stdout)
	var once sync.Once
	restore := func() {
		once.Do(func() {
			fmt.Fprint(w, "\x1b[0m\x1b[?25h\r\n")
			w.Flush()
		})
	}
	defer restore()
	fmt.Fprint(w, "\x1b[?25l\x1b[2J")

	draw := func() error {
		fmt.Fprint(w, "\x1b[H")
		if isTTY {
			if out, ok := stdout.(*os.File); ok {
				if c, r, err := qrTermSize(out); err == nil && (c < l.Cols || r < l.Rows+1) {
					fmt.Fprintf(w, "window too small for this code: it needs %dx%d cells; enlarge the window (or restart with a lower --density)\x1b[J", l.Cols, l.Rows+1)
					return w.Flush()
				}
			}
		}
		code, err := p.Render()
		if err != nil {
			return err
		}
		fmt.Fprint(w, strings.ReplaceAll(code, "\n", "\r\n"), "\r\n")
		mode := fmt.Sprintf("%d fps", p.FPS())
		if p.Stepping() {
			mode = "step mode"
		}
		mid := seq.MID()
		fmt.Fprintf(w, "KC1 %s %s  %s  v%d  %d B/frame  MID %s-%s\x1b[K\r\n", seq.Type(), p.Position(), mode, l.Version, seq.FragmentSize(), mid[:4], mid[4:])
		fmt.Fprint(w, "space: next/step  s: step on/off  +/-: speed  q: quit\x1b[K\x1b[J")
		return w.Flush()
	}

	timer := time.NewTimer(p.Interval())
	defer timer.Stop()
	rearm := func() {
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		if !p.Stepping() {
			timer.Reset(p.Interval())
		}
	}
	for {
		if err := draw(); err != nil {
			restore()
			fmt.Fprintf(stderr, "keremony qr show: %v\n", err)
			return 1
		}
		rearm()
		select {
		case <-sigs:
			return 0
		case <-timer.C:
			p.Next()
		case k, ok := <-keys:
			if !ok || k == keyQuit {
				return 0
			}
			switch k {
			case keyNext:
				p.SetStepping(true)
				p.Next()
			case keyPrev:
				p.SetStepping(true)
				p.Prev()
			case keyToggleStep:
				p.SetStepping(!p.Stepping())
			case keyFaster:
				p.Faster()
			case keySlower:
				p.Slower()
			case keyInvert:
				p.SetInverted(!p.Inverted())
			}
		}
	}
}

// qrReceive implements qr read (images) and qr scan (text lines).
func qrReceive(sub string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := qrFlags(sub, stderr)
	outPath := fs.String("out", "", "write the file to FILE instead of standard output")
	pos, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return 2
	}
	prefix := "keremony qr " + sub + ": "
	if sub == "read" && len(pos) == 0 {
		fmt.Fprintf(stderr, "%swant at least one IMAGE\n%s", prefix, qrUsage)
		return 2
	}
	if sub == "scan" && len(pos) != 0 {
		fmt.Fprintf(stderr, "%sunexpected arguments %q (frames come on standard input)\n", prefix, pos)
		return 2
	}
	r := transport.NewReceiver()
	add := func(where, text string) bool {
		p, err := r.Add(text)
		switch {
		case err == nil:
			fmt.Fprintf(stderr, "%s%s: %s\n", prefix, where, p)
		case errors.Is(err, transport.ErrOtherMessage):
			fmt.Fprintf(stderr, "%s%s: ignored: %v\n", prefix, where, err)
		default:
			fmt.Fprintf(stderr, "%s%s: %v\n", prefix, where, err)
			if errors.Is(err, transport.ErrKeyboardLayout) {
				fmt.Fprintln(stderr, "keremony: hint: configure the scanner (or the computer) for a US English keyboard layout, or use its serial (USB-CDC) mode")
			}
		}
		return p.Done
	}
	done := false
	if sub == "read" {
		for _, img := range pos {
			text, err := qr.DecodeFile(img)
			if err != nil {
				fmt.Fprintf(stderr, "%s%v\n", prefix, err)
				continue
			}
			if done = add(img, text); done {
				break
			}
		}
	} else {
		sc := bufio.NewScanner(stdin)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		for line := 1; !done && sc.Scan(); line++ {
			if strings.TrimSpace(sc.Text()) == "" {
				continue
			}
			done = add(fmt.Sprintf("line %d", line), sc.Text())
		}
		if err := sc.Err(); err != nil {
			fmt.Fprintf(stderr, "%sreading standard input: %v\n", prefix, err)
		}
	}
	typ, msg, ok := r.Message()
	if !ok {
		p := r.Progress()
		if p.Total == 0 {
			fmt.Fprintf(stderr, "%sno kc1 frame received\n", prefix)
		} else {
			fmt.Fprintf(stderr, "%sincomplete: %s; %d more independent frames needed\n", prefix, p, p.Total-p.Held-p.Mixed)
		}
		return 1
	}
	if *outPath == "" {
		if _, err := stdout.Write(msg); err != nil {
			fmt.Fprintf(stderr, "%s%v\n", prefix, err)
			return 1
		}
	} else if err := writeFileAtomic(*outPath, msg); err != nil {
		fmt.Fprintf(stderr, "%s%v\n", prefix, err)
		return 1
	}
	fmt.Fprintf(stderr, "%sreceived %d bytes (type %s, MID %s)\n", prefix, len(msg), typ, r.Progress().MID)
	return 0
}

// writeFileAtomic writes through a temporary file and a rename, so that a
// drop folder never sees a half-written file (it ignores *.tmp).
func writeFileAtomic(path string, data []byte) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
