#!/usr/bin/env bash
# Runs each libFuzzer target for a fixed number of executions, seeded with the real presets and
# configs, fleet specs, sizes and example command lines.
# Usage: scripts/fuzz.sh [RUNS [TARGET...]]   (CI: 100000 each, all targets; locally documented:
# 1000000, one target at a time). Extra libFuzzer flags (such as -seed=N) come from FUZZ_FLAGS.
# Needs clang and libFuzzer (Debian: clang libclang-rt-14-dev). A crash, leak or sanitizer report
# fails the script and leaves the reproducer in the work directory it names.
set -euo pipefail
runs=${1:-100000}
all_targets="preset_yaml_fuzz config_json_fuzz safetensors_header_fuzz fleet_spec_fuzz units_fuzz cli_argv_fuzz"
targets=${*:2}
targets=${targets:-$all_targets}
for target in $targets; do
  case " $all_targets " in
    *" $target "*) ;;
    *) echo "fuzz.sh: unknown target '$target' (targets: $all_targets)" >&2; exit 2 ;;
  esac
done
root=$(cd "$(dirname "$0")/.." && pwd)
build=${KVPLAN_FUZZ_BUILD:-$root/build-fuzz}
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DKVPLAN_FUZZ=ON -DKVPLAN_BENCH=OFF >/dev/null
# shellcheck disable=SC2086
cmake --build "$build" --target $targets

work=$(mktemp -d)
echo "fuzz work directory: $work"
# Seeds given as text: one file per argument. In argv seeds, NUL separates the arguments.
text_seeds() {
  local dir=$1; shift
  mkdir -p "$dir"
  local i=0
  for seed in "$@"; do printf '%b' "$seed" >"$dir/seed-$i"; i=$((i + 1)); done
}
text_seeds "$work/seeds/fleet" h100-sxm h100-sxm:8 h100-sxm:8:tp4 h200:16:tp8:pp2 rtx-4090:2:pp2
text_seeds "$work/seeds/units" 4096 128k 1M 80GiB 80GB 1.5TB 79.19GiB 1073741824 8
text_seeds "$work/seeds/argv" 'size\0--model\0deepseek-v2\0--ctx\0128k' \
  'fit\0--model\0llama-3-70b\0--gpu\0h100-sxm\0--gpus\0008\0--kv-dtype\0fp8\0--ctx\00032k' \
  'fit\0--model\0qwen2.5-72b\0--gpu\0h100-sxm\0--tp\0004\0--ctx\00032k\0--concurrency\00064\0--engine\0sglang' \
  'sweep\0--models\0llama-3-8b\0--ctx\0004k,32k\0--gpus\0h100-sxm:8:tp4\0--format\0csv' \
  'report\0--models\0llama-3-8b\0--gpus\0h100-sxm:8\0--format\0json' 'models' 'show\0--gpu\0h200'
# safetensors seeds: the 8-byte little-endian length, the JSON header, then the data.
safetensors_seed() {
  local json=$1 data=$2
  printf "\\x$(printf %02x ${#json})\\0\\0\\0\\0\\0\\0\\0%s%s" "$json" "$data"
}
mkdir -p "$work/seeds/safetensors"
safetensors_seed '{"a":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,12]}}' 'xxxxxxxxxxxx' >"$work/seeds/safetensors/seed-0"
safetensors_seed '{"__metadata__":{"format":"pt"},"w":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]},"s":{"dtype":"F32","shape":[],"data_offsets":[4,8]}}' \
  'xxxxxxxx' >"$work/seeds/safetensors/seed-1"

run_target() {
  local target=$1; shift
  case " $targets " in *" $target "*) ;; *) return 0 ;; esac
  mkdir -p "$work/$target/corpus"
  for seed in "$@"; do cp "$seed" "$work/$target/corpus/"; done
  echo "== $target: $runs executions"
  # shellcheck disable=SC2086
  (cd "$work/$target" && "$build/fuzz/$target" -runs="$runs" -max_len=16384 -timeout=10 \
     -rss_limit_mb=2048 -print_final_stats=1 ${FUZZ_FLAGS:-} corpus 2>&1 | tail -n 12)
}
run_target preset_yaml_fuzz "$root"/presets/models/*.yaml "$root"/presets/gpus/*.yaml
run_target config_json_fuzz $(find "$root/tests/data/configs" -name '*.json')
run_target safetensors_header_fuzz "$work"/seeds/safetensors/*
run_target fleet_spec_fuzz "$work"/seeds/fleet/*
run_target units_fuzz "$work"/seeds/units/*
run_target cli_argv_fuzz "$work"/seeds/argv/*
rm -rf "$work"
echo "fuzzing: no crash, leak or undefined behaviour in $runs executions per target"
