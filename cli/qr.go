package cli

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/term"

	"github.com/keremony/keremony/device"
	"github.com/keremony/keremony/internal/safetext"
	"github.com/keremony/keremony/qr"
	"github.com/keremony/keremony/transport"
	"github.com/keremony/keremony/tui"
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
                  further by the window; ] and [ change it while showing
  --fps N         frames per second, 1 to 10 (default 5)
  --step          start in step mode: right arrow or n shows the next frame
  --full          full blocks, two cells per module (default when TERM=linux)
  --palette P     256, ansi, truecolor or none (default: the terminal's colours when
                  showing, 256 with --print; none with NO_COLOR)
  --cols N, --rows N
                  with --print, the window to fit (default: the terminal's, else 80x24);
                  when showing, the largest window to fit the code and its caption in
                  (default: the whole window, followed as it is resized)
  --print         write each frame's code once, each followed by an empty line, and exit
  --text          write each frame's text once, one per line, and exit

keys while showing (the terminal UI's share screen): space: step mode on/off; right arrow
or n, left arrow or p: next or previous frame (in step mode); + and -: frame rate; ] and
[: density; v: invert (palette none, for a light background); ?: all keys; q, esc,
Ctrl-C or end of input: quit.
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
	palette   bool // --palette or NO_COLOR chose opt.Palette
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
		safetext.Fprintf(stderr, "keremony qr show: "+format+"\n", a...)
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
	o.palette = *palette != ""
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
		safetext.Fprintf(stderr, "keremony qr show: %v\n", err)
		return 1
	}
	if !o.printMode && !o.textMode {
		return qrPlay(name, data, o, stdin, stdout, stderr)
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
		safetext.Fprintf(stderr, "keremony qr show: %v\n", err)
		if o.opt.Mode == qr.FullBlock {
			fmt.Fprintln(stderr, "keremony: hint: full blocks need about 4 times the area of half blocks; enlarge the window or use a smaller font")
		}
		return 1
	}
	seq, err := layout.Encode(o.typ, data)
	if err != nil {
		safetext.Fprintf(stderr, "keremony qr show: %s: %v\n", name, err)
		return 1
	}
	return qrPrint(seq, layout, o.textMode, stdout, stderr)
}

// qrPlay shows the frames on the terminal UI's share screen until a quit
// key or the end of input.
func qrPlay(name string, data []byte, o showOptions, stdin io.Reader, stdout, stderr io.Writer) int {
	po := tui.PlayOptions{
		Type:      o.typ,
		Density:   o.opt.Density,
		FPS:       o.fps,
		Step:      o.step,
		FullBlock: o.opt.Mode == qr.FullBlock,
		Cols:      o.cols,
		Rows:      o.rows,
		Input:     stdin,
		Output:    stdout,
	}
	if o.palette {
		po.Palette = &o.opt.Palette
	}
	if err := tui.Play(name, filepath.Base(name), data, po); err != nil {
		safetext.Fprintf(stderr, "keremony qr show: %s: %v\n", name, err)
		return 1
	}
	return 0
}

// readQRInput reads FILE (or standard input for "-") up to the message limit.
func readQRInput(name string, stdin io.Reader) ([]byte, error) {
	return device.ReadBounded(name, stdin, transport.MaxMessageSize, transport.ErrMessageTooLarge)
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
			safetext.Fprintf(stderr, "keremony qr show: %v\n", err)
			return 1
		}
		fmt.Fprint(w, code, "\n\n")
	}
	if err := w.Flush(); err != nil {
		safetext.Fprintf(stderr, "keremony qr show: %v\n", err)
		return 1
	}
	return 0
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
		safetext.Fprintf(stderr, "%swant at least one IMAGE\n", prefix)
		fmt.Fprint(stderr, qrUsage)
		return 2
	}
	if sub == "scan" && len(pos) != 0 {
		safetext.Fprintf(stderr, "%sunexpected arguments %q (frames come on standard input)\n", prefix, pos)
		return 2
	}
	r := transport.NewReceiver()
	add := func(where, text string) bool {
		p, err := r.Add(text)
		switch {
		case err == nil:
			safetext.Fprintf(stderr, "%s%s: %s\n", prefix, where, p)
		case errors.Is(err, transport.ErrOtherMessage):
			safetext.Fprintf(stderr, "%s%s: ignored: %v\n", prefix, where, err)
		default:
			safetext.Fprintf(stderr, "%s%s: %v\n", prefix, where, err)
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
				safetext.Fprintf(stderr, "%s%v\n", prefix, err)
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
			safetext.Fprintf(stderr, "%sreading standard input: %v\n", prefix, err)
		}
	}
	typ, msg, ok := r.Message()
	if !ok {
		p := r.Progress()
		if p.Total == 0 {
			safetext.Fprintf(stderr, "%sno kc1 frame received\n", prefix)
		} else {
			safetext.Fprintf(stderr, "%sincomplete: %s; %d more independent frames needed\n", prefix, p, p.Total-p.Held-p.Mixed)
		}
		return 1
	}
	if *outPath == "" {
		if _, err := stdout.Write(msg); err != nil {
			safetext.Fprintf(stderr, "%s%v\n", prefix, err)
			return 1
		}
	} else if err := device.WriteFile(*outPath, msg); err != nil {
		safetext.Fprintf(stderr, "%s%v\n", prefix, err)
		return 1
	}
	p := r.Progress()
	safetext.Fprintf(stderr, "%sreceived %d bytes (type %s, MID %s)\n", prefix, len(msg), typ, p.MID)
	if p.Discarded > 0 {
		safetext.Fprintf(stderr, "%s%d frames of this MID did not belong to the message and were discarded\n", prefix, p.Discarded)
	}
	return 0
}
