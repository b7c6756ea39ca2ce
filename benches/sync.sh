#!/usr/bin/env bash
# Times `coord sync` on the 100,000-message bench hub: with nothing new,
# with 1,000 new messages on the other side, and the growth of .git over 100
# small syncs. Needs the release binary and the
# bench hub: `cargo build --release && COORD_BENCH_KEEP=/tmp/bh cargo bench`.
set -euo pipefail
BIN=${BIN:-$(dirname "$0")/../target/release/coord}
BIN=$(realpath "$BIN")
HUB=${1:-/tmp/bh}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export COORD_TESTING=1 COORD_NOW=2026-03-09T12:00:00Z GIT_AUTHOR_NAME=b GIT_AUTHOR_EMAIL=b@b GIT_COMMITTER_NAME=b GIT_COMMITTER_EMAIL=b@b
git init -q --bare -b main "$T/remote.git"
for c in a b; do
  git init -q -b main "$T/$c"
  git -C "$T/$c" remote add origin "$T/remote.git"
done
mkdir -p "$T/a/.git/coord"
cp "$HUB"/REGISTRY.json "$HUB"/MESSAGES.jsonl "$HUB"/EVENTS.jsonl "$HUB"/coord.toml "$T/a/.git/coord/"
(cd "$T/a" && "$BIN" init -q >/dev/null && "$BIN" sync -q >/dev/null)
(cd "$T/b" && "$BIN" init -q >/dev/null && "$BIN" sync -q >/dev/null)
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# add_messages FILE TAG COUNT TIME: COUNT new messages appended to FILE.
add_messages() {
  python3 - "$@" <<'PY'
import json, sys
path, tag, count, ts = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
with open(path, "a") as f:
    for k in range(count):
        m = {"from": "s001", "id": "m-z%s%05d-sync" % (tag, k), "level": "info",
             "recipients": ["s002"], "subject": "news %d" % k, "to": "s002", "ts": ts}
        f.write(json.dumps(m, separators=(",", ":"), sort_keys=True) + "\n")
PY
}
ms() { local s e; s=$(date +%s%N); "$@" >/dev/null; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
echo "nothing new (ms, 9 runs):"
for i in $(seq 9); do (cd "$T/b" && ms "$BIN" sync); done | median
echo "1,000 new messages on the other side (ms, 5 runs):"
for i in $(seq 5); do
  add_messages "$T/a/.git/coord/MESSAGES.jsonl" "z$i" 1000 2026-03-09T11:59:00Z
  (cd "$T/a" && "$BIN" sync -q >/dev/null)
  (cd "$T/b" && ms "$BIN" sync)
done | median
echo "growth of clone b's .git over 100 syncs, each bringing 10 new messages (KiB):"
before=$(du -sk "$T/b/.git" | cut -f1)
for i in $(seq 100); do
  add_messages "$T/a/.git/coord/MESSAGES.jsonl" "y$i" 10 2026-03-09T11:59:30Z
  (cd "$T/a" && "$BIN" sync -q >/dev/null)
  (cd "$T/b" && "$BIN" sync -q >/dev/null)
done
after=$(du -sk "$T/b/.git" | cut -f1)
echo "$before -> $after ($(( (after - before) / 100 )) KiB a sync; the new records are about 2 KiB)"
