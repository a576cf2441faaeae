#!/usr/bin/env bash
# Usage: benchmarks/engine_identity.sh CHECKOUT OUT.jsonl [BENCH] -- every dev-split text, scored once by SmolLM2 (embedded,
# binary, toxicity+spam+negative-sentiment blocked), no cache: the engine's exact numbers.
set -euo pipefail
wt="$1"; out="$2"
tmp=$(mktemp -d)
cat "${3:-../shared/bench}"/*/dev.jsonl | python3 -c '
import json,sys
for n,line in enumerate(sys.stdin):
    r=json.loads(line); print(json.dumps({"id": f"{n}", "text": r["text"]}))' > "$tmp/in.jsonl"
cat > "$tmp/profile.toml" <<'P'
version = 1
[model]
backend = "embedded"
name = "smollm2-135m"
[task]
mode = "binary"
[categories.toxicity]
blocked = true
[categories.spam]
blocked = true
[categories.negative-sentiment]
blocked = true
P
cd "$wt"
/usr/bin/time -f "%e s" .venv/bin/python -m tactful classify "$tmp/in.jsonl" -p "$tmp/profile.toml" --no-cache -o "$out" 2>&1 | tail -2
# Compare two checkouts (a refactor must change nothing):
#   benchmarks/engine_identity.sh ../before before.jsonl && benchmarks/engine_identity.sh . after.jsonl
#   python3 -c 'import json,sys; a,b=[[json.loads(l)["moderation"] for l in open(f)] for f in sys.argv[1:]]; print(sum(x==y for x,y in zip(a,b)), "of", len(a), "identical")' before.jsonl after.jsonl
