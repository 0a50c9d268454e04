#!/bin/sh
# bench-ratio.sh [BENCH.TXT]: replay cost against the Ed25519 verification
# floor, from the output of `make bench` (kel's BenchmarkReplay1000,
# BenchmarkVerifyFloor and BenchmarkReplay1000VsFloor run with -cpu 1,2).
# From benchstat's medians it prints, for 1 and 2 CPUs:
#   separate: Replay1000 ns/event / VerifyFloor ns/event (two benchmarks)
#   interleaved: Replay1000VsFloor x-floor (floor pass and replay alternate
#     in every iteration, so load drifting on a shared machine cancels out)
# and checks the targets, <= 1.2 on one core and < 1.0 on two, on the
# interleaved ratio (on the separate one when the interleaved is absent).
# Exits 1 when a target is missed or a figure is missing.
# BENCHSTAT may name the benchstat command (default: benchstat on PATH, then
# $(go env GOPATH)/bin/benchstat, then `go run golang.org/x/perf/cmd/benchstat@latest`).
set -eu
f=${1:-bench.txt}
[ -r "$f" ] || { echo "bench-ratio: cannot read $f" >&2; exit 1; }
bs=${BENCHSTAT:-}
if [ -z "$bs" ]; then
  if command -v benchstat >/dev/null 2>&1; then
    bs=benchstat
  elif [ -x "$(go env GOPATH)/bin/benchstat" ]; then
    bs="$(go env GOPATH)/bin/benchstat"
  else
    bs="go run golang.org/x/perf/cmd/benchstat@latest"
  fi
fi
csv=$($bs -format csv "$f" 2>/dev/null) || { echo "bench-ratio: $bs failed on $f" >&2; exit 1; }
printf '%s\n' "$csv" | awk -F, '
  # benchstat writes one table per unit; ns/event becomes sec/event.
  /^,[^,]*,CI$/ { unit = $2; next }
  NF < 2        { unit = ""; next }
  unit == "sec/event" { ns[$1] = $2 * 1e9 }
  unit == "x-floor"   { x[$1] = $2 }
  function row(cpus, suffix, target, strict,   r, f, sep, il, ratio, ok, what) {
    r = ns["Replay1000" suffix]; f = ns["VerifyFloor" suffix]; il = x["Replay1000VsFloor" suffix]
    sep = (r != "" && f != "" && f > 0) ? r / f : ""
    if (sep != "")
      printf "%s CPU: separate    replay %.0f ns/event, floor %.0f ns/event, ratio %.3f\n", cpus, r, f, sep
    if (il != "")
      printf "%s CPU: interleaved ratio %.3f\n", cpus, il
    ratio = il != "" ? il : sep
    what = il != "" ? "interleaved" : "separate"
    if (ratio == "") {
      printf "%s CPU: no figures for Replay1000%s and VerifyFloor%s\n", cpus, suffix, suffix
      return 1
    }
    ok = strict ? ratio < target : ratio <= target
    printf "%s CPU: target %s %.1f on the %s ratio: %s\n", cpus, strict ? "<" : "<=", target, what, ok ? "ok" : "MISSED"
    return !ok
  }
  END {
    bad = row("1", "", 1.2, 0)
    bad += row("2", "-2", 1.0, 1)
    exit bad ? 1 : 0
  }'
