#!/bin/sh
# check-imports.sh: enforce the package import rules of the README's architecture section.
# Each rule names a package and a regular expression of imports it must never reach,
# directly or through its dependencies. Exits 1 on the first violation of any rule.
set -eu
M=github.com/keremony/keremony
CHARM='github.com/charmbracelet/'
fail=0
rule() { # rule PKG FORBIDDEN-REGEX [direct|deps] [ALLOWED-REGEX]: transitive imports, or direct ones only;
  # imports matching ALLOWED-REGEX are exempt (their own imports are checked by their own rule)
  pkg=$1; bad=$2; allow=${4:-}
  [ -d "./$pkg" ] && ls ./"$pkg"/*.go >/dev/null 2>&1 || return 0
  if [ "${3:-deps}" = direct ]; then
    deps=$(go list -f '{{join .Imports "\n"}}' "./$pkg")
  else
    deps=$(go list -deps "./$pkg" | grep -vx "$M/$pkg")
  fi
  [ -z "$allow" ] || deps=$(echo "$deps" | grep -vE "$allow" || true)
  hits=$(echo "$deps" | grep -E "$bad" || true)
  if [ -n "$hits" ]; then
    echo "check-imports: $pkg must not import:"; echo "$hits" | sed 's/^/  /'; fail=1
  fi
}
rule kel       "^$M/|$CHARM|go-keyring|qrterminal|gozxing|^os/exec\$|^net\$|^net/http\$|bbolt"
rule internal/fileio "^$M/|^[^/]+\.[^/]*(/|\$)"   # the standard library only
rule keystore  "^$M/|$CHARM|qrterminal|gozxing" deps "^$M/internal/fileio\$"
rule ceremony  "^$M/(tui|qr|transport|keystore)\$|$CHARM|go-keyring|qrterminal|gozxing"
rule transport "^$M/(tui|keystore|qr|device|cli)\$|$CHARM|go-keyring|qrterminal|gozxing"
rule qr        "^$M/(ceremony|tui|keystore|kel)\$|$CHARM|go-keyring" direct
rule qr        "^$M/(tui|keystore|device|cli)\$|$CHARM|go-keyring"
rule tui       "go-keyring|^$M/(keystore|device|cli)\$" direct
rule tui       "go-keyring|^$M/(keystore|device|cli)\$"
# The application layer: kel <- ceremony <- device <- cli; device/api is data only.
rule device/api "^$M/(keystore|transport|qr|tui|device|cli|internal/.*)\$|$CHARM|go-keyring"
rule device    "^$M/(tui|cli|qr)\$|$CHARM"
# Witnesses: the one package that does network I/O, on kel alone.
rule witness   "^$M/(ceremony|transport|keystore|qr|device|device/api|tui|cli|internal/.*)\$|$CHARM|go-keyring|bbolt"
rule cli       "^$M/keystore\$" direct
# main.go only wires: it imports cli and the standard library.
main=$(go list -f '{{join .Imports "\n"}}' . | grep -vx "$M/cli" | grep -E '^[^/]+\.[^/]*/' || true)
[ -z "$main" ] || { echo "check-imports: main may import only cli:"; echo "$main" | sed 's/^/  /'; fail=1; }
prod=$(go list -f '{{join .GoFiles " "}}' .)
[ "$prod" = "main.go" ] || { echo "check-imports: the root package holds main.go alone, not: $prod"; fail=1; }
# Charm packages only in tui; go-keyring only in keystore (main may not import either directly).
direct=$(go list -f '{{.ImportPath}}: {{join .Imports " "}}' ./... | grep -v "^$M/tui:" | grep -E "$CHARM" || true)
[ -z "$direct" ] || { echo "check-imports: only tui may import Charm packages:"; echo "$direct" | sed 's/^/  /'; fail=1; }
direct=$(go list -f '{{.ImportPath}}: {{join .Imports " "}}' ./... | grep -v "^$M/keystore:" | grep -E "go-keyring" || true)
[ -z "$direct" ] || { echo "check-imports: only keystore may import go-keyring:"; echo "$direct" | sed 's/^/  /'; fail=1; }
# Network I/O only in witness (and its test stand-in witness/witnesstest).
direct=$(go list -f '{{.ImportPath}}: {{join .Imports " "}}' ./... | grep -vE "^$M/witness(/witnesstest)?:" | grep -E " (net|net/http|net/http/httptest)( |\$)" || true)
[ -z "$direct" ] || { echo "check-imports: only witness may do network i/o:"; echo "$direct" | sed 's/^/  /'; fail=1; }
# kel is pure: no clock, no I/O.
if grep -nE 'time\.Now|os\.(Open|Create|ReadFile|WriteFile|Stdout|Stderr|Exit)|fmt\.Print' kel/*.go 2>/dev/null | grep -v '_test.go:'; then
  echo "check-imports: kel must not read the clock or do I/O"; fail=1
fi
[ $fail -eq 0 ] && echo "check-imports: ok"
exit $fail
