#!/usr/bin/env bash
# Runs each libFuzzer target for a fixed number of executions, seeded with the real presets and
# configs. Usage: scripts/fuzz.sh [RUNS]   (CI: 100000 each; locally documented: 1000000).
# Needs clang and libFuzzer (Debian: clang libclang-rt-14-dev). A crash, leak or sanitizer report
# fails the script and leaves the reproducer in the work directory it names.
set -euo pipefail
runs=${1:-100000}
root=$(cd "$(dirname "$0")/.." && pwd)
build=${KVPLAN_FUZZ_BUILD:-$root/build-fuzz}
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DKVPLAN_FUZZ=ON -DKVPLAN_BENCH=OFF >/dev/null
cmake --build "$build" --target preset_yaml_fuzz config_json_fuzz

work=$(mktemp -d)
echo "fuzz work directory: $work"
run_target() {
  local target=$1; shift
  mkdir -p "$work/$target/corpus"
  for seed in "$@"; do cp "$seed" "$work/$target/corpus/"; done
  echo "== $target: $runs executions"
  (cd "$work/$target" && "$build/fuzz/$target" -runs="$runs" -max_len=16384 -timeout=10 \
     -rss_limit_mb=2048 -print_final_stats=1 corpus 2>&1 | tail -n 12)
}
run_target preset_yaml_fuzz "$root"/presets/models/*.yaml "$root"/presets/gpus/*.yaml
run_target config_json_fuzz $(find "$root/tests/data/configs" -name '*.json')
rm -rf "$work"
echo "fuzzing: no crash, leak or undefined behaviour in $runs executions per target"
