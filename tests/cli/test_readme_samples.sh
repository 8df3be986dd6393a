#!/usr/bin/env bash
# README's sample outputs are the real output of the commands shown: every fenced block in
# README.md that starts with "$ synack trace ..." on a file committed in the repository is run
# again here and must match line for line (the capture is fixed, so the output is too).
#
# usage: bash test_readme_samples.sh /path/to/synack
set -u
SYNACK=${1:?usage: test_readme_samples.sh /path/to/synack}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 - "$ROOT/README.md" "$tmp" <<'PY'
import sys, re, os
readme, out = sys.argv[1], sys.argv[2]
text = open(readme, encoding="utf-8").read()
n = 0
for block in re.findall(r"```\n(\$ synack trace [^\n]*)\n(.*?)```", text, re.S):
    cmd, body = block
    with open(os.path.join(out, "%02d.cmd" % n), "w") as f:
        f.write(cmd[2:].strip() + "\n")
    with open(os.path.join(out, "%02d.want" % n), "w", encoding="utf-8") as f:
        f.write(body)
    n += 1
print(n)
PY
count=$(ls "$tmp"/*.cmd 2>/dev/null | wc -l)
if [ "$count" -eq 0 ]; then
    echo "FAIL no '\$ synack trace' sample found in README.md"
    exit 1
fi
failures=0
for c in "$tmp"/*.cmd; do
    base=${c%.cmd}
    read -r -a words <"$c"
    # words[0] is "synack": run this build's binary from the repository's root, as shown.
    (cd "$ROOT" && LC_ALL=C.UTF-8 LANG= "$SYNACK" "${words[@]:1}") >"$base.got" 2>&1
    if diff -u "$base.want" "$base.got" >"$base.diff"; then
        echo "ok   README: \$ $(cat "$c")"
    else
        echo "FAIL README: \$ $(cat "$c") prints something else now:"
        head -40 "$base.diff"
        failures=$((failures + 1))
    fi
done
[ "$failures" -eq 0 ]
