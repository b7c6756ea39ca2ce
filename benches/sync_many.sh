#!/usr/bin/env bash
# N clones of one bare remote (5 sessions each, a shared claim, messages)
# syncing at the same moment, two rounds: how many syncs succeed, how long
# each round takes, and whether every clone ends with the same registry and
# the same message and event sets. Usage: benches/sync_many.sh [N ...]
# (default: 20 50). Needs the release binary (`cargo build --release`).
set -uo pipefail
BIN=${BIN:-$(dirname "$0")/../target/release/coord}
BIN=$(realpath "$BIN")
export COORD_TESTING=1 COORD_NOW=2026-03-09T12:00:00Z
export GIT_AUTHOR_NAME=b GIT_AUTHOR_EMAIL=b@b GIT_COMMITTER_NAME=b GIT_COMMITTER_EMAIL=b@b
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
for N in "${@:-20 50}"; do
  for n in $N; do
    T=$(mktemp -d)
    git init -q --bare -b main "$T/remote.git"
    git init -q -b main "$T/seed" && echo code >"$T/seed/README" && git -C "$T/seed" add -A &&
      git -C "$T/seed" commit -qm code && git -C "$T/seed" push -q "$T/remote.git" main
    for i in $(seq "$n"); do
      git clone -q "$T/remote.git" "$T/c$i"
      (
        cd "$T/c$i" && export COORD_MACHINE="m$i"
        "$BIN" init -q >/dev/null
        for s in 1 2 3 4 5; do
          COORD_AGENT_ID="a$i-$s" "$BIN" start -q --name "s$i-$s" >/dev/null
          COORD_AGENT_ID="a$i-$s" "$BIN" -q claim task "own-$i-$s" >/dev/null
        done
        "$BIN" -q -s "s$i-1" claim task shared >/dev/null
        "$BIN" -q -s "s$i-1" send broadcast "hello from $i" >/dev/null
      )
    done
    for round in 1 2; do
      start=$(now_ms)
      pids=()
      for i in $(seq "$n"); do
        (cd "$T/c$i" && COORD_MACHINE="m$i" "$BIN" -q sync >"$T/out$i" 2>&1) &
        pids+=($!)
      done
      ok=0
      for p in "${pids[@]}"; do wait "$p" && ok=$((ok + 1)); done
      echo "$n clones, round $round: $ok/$n syncs succeeded in $(( $(now_ms) - start )) ms"
    done
    regs=$(for i in $(seq "$n"); do sha1sum <"$T/c$i/.git/coord/REGISTRY.json"; done | sort -u | wc -l)
    msgs=$(for i in $(seq "$n"); do grep -o '"id":"[^"]*"' "$T/c$i/.git/coord/MESSAGES.jsonl" | sort | sha1sum; done | sort -u | wc -l)
    evs=$(for i in $(seq "$n"); do grep -o '"id":"[^"]*"' "$T/c$i/.git/coord/EVENTS.jsonl" | sort | sha1sum; done | sort -u | wc -l)
    echo "$n clones after two rounds: $regs distinct registries, $msgs distinct message sets, $evs distinct event sets (1 each = all agree)"
    if [ -n "${KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
  done
done
