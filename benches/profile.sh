#!/usr/bin/env bash
# The read path's profile: instructions (callgrind Ir) per request of GET /v1/me, of a page of
# 50 invoices, and of the bare handlers doing only the same queries, with the top functions.
# Instruction counts do not depend on what else runs on the machine: they guide and prove an
# optimisation where wall-clock figures are noisy. Needs valgrind (apt-get install -y valgrind)
# and wrk; builds the bench binary (release) first.
#   benches/profile.sh [out-dir]   (default target/profile)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-target/profile}"
mkdir -p "$out"
rm -f "$out"/callgrind.out.* "$out"/urls
command -v valgrind >/dev/null || apt-get install -y valgrind
command -v wrk >/dev/null || apt-get install -y wrk
# The bench target's executable (not `leman`'s, which is listed too when it was rebuilt).
bin="$(cargo bench --locked --bench bench --no-run --message-format=json 2>/dev/null \
  | grep '"kind":\["bench"\]' | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)"
[ -x "$bin" ] || { echo "profile: no bench binary" >&2; exit 1; }
LEMAN_BENCH_SERVE_FILE="$out/urls" valgrind --tool=callgrind --dump-instr=no \
  --callgrind-out-file="$out/callgrind.out.%p" "$bin" >"$out/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do [ -s "$out/urls" ] && break; sleep 1; done
[ -s "$out/urls" ] || { echo "profile: the server did not start" >&2; cat "$out/server.log" >&2; exit 1; }
mapfile -t urls <"$out/urls"
token="${urls[4]}"
names=(me invoices bare_row bare_invoices)
for i in 0 1 2 3; do
  auth=()
  [ "$i" -lt 2 ] && auth=(-H "Authorization: Bearer $token")
  # Warm-up (connections, prepared statements, caches), then counters from zero.
  wrk -t1 -c4 -d3s "${auth[@]}" "${urls[$i]}" >/dev/null
  callgrind_control -z "$pid" >/dev/null
  n="$(wrk -t1 -c4 -d10s "${auth[@]}" "${urls[$i]}" | sed -n 's/^ *\([0-9]*\) requests in.*/\1/p')"
  callgrind_control -d "${names[$i]}" "$pid" >/dev/null
  sleep 1
  file="$(ls -t "$out"/callgrind.out.* | head -n 1)"
  mv "$file" "$out/${names[$i]}.callgrind"
  total="$(callgrind_annotate "$out/${names[$i]}.callgrind" 2>/dev/null | sed -n 's/^ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,)"
  echo "${names[$i]}: $n requests, $((total / n)) Ir per request"
  callgrind_annotate --inclusive=no "$out/${names[$i]}.callgrind" 2>/dev/null \
    | grep -E '^ *[0-9,]+ \(' | head -n 25 >"$out/${names[$i]}.top"
done
echo "profile: top functions (self Ir) in $out/*.top; open $out/*.callgrind with callgrind_annotate or kcachegrind"
