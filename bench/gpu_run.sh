#!/usr/bin/env bash
# One command on a GPU machine: build kvplan with its CUDA kernels, check the kernels against the
# CPU reference, time them with `kvplan bench` and torch SDPA on the same shapes, and write
# reports/bench/<device>-<date>.json (device, driver, commit, commands, measured ceilings, rows).
#
# The lent GPU machine has nvcc, CMake, ninja and python3 with torch, but no apt and no network, so
# the Debian packages kvplan builds with travel with the working tree:
#   here, once:   bench/gpu_run.sh --fetch-deps      (apt-get download + dpkg -x into .deps/, ignored)
#   there:        KVPLAN_COMMIT=<sha> bench/gpu_run.sh   (carry .deps; results also go to $OUT if set)
# Results are measured there and nowhere else: this script never writes a number it did not time.
set -euo pipefail
cd "$(dirname "$0")/.."
deps="$PWD/.deps"
packages=(libcli11-dev libfmt-dev libfmt9 libyaml-cpp-dev libyaml-cpp0.7 nlohmann-json3-dev doctest-dev
          libbenchmark-dev libbenchmark1debian)

if [ "${1:-}" = "--fetch-deps" ]; then
  rm -rf "$deps" && mkdir -p "$deps/debs" "$deps/root"
  (cd "$deps/debs" && apt-get download "${packages[@]}")
  for deb in "$deps"/debs/*.deb; do dpkg -x "$deb" "$deps/root"; done
  echo "unpacked ${#packages[@]} packages into .deps/root; carry .deps to the GPU machine"
  exit 0
fi

if ! nvidia-smi >/dev/null 2>&1; then
  echo "gpu_run.sh: no GPU here (nvidia-smi failed); run it on the GPU machine" >&2
  exit 3
fi
device="$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)"
driver="$(nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -1)"
commit="$(git rev-parse HEAD 2>/dev/null || echo "${KVPLAN_COMMIT:-unknown}")"
date="$(date -u +%Y-%m-%d)"
slug="$(echo "$device" | tr 'A-Z ' 'a-z-' | tr -cd 'a-z0-9-')"
work="$(mktemp -d)"
log="$work/gpu_run.log"
echo "device: $device, driver $driver, commit $commit" | tee "$log"

# Build: the carried Debian packages first, then whatever the machine has.
start=$(date +%s)
scripts/gpu-build.sh kvplan kvplan_gpu_tests kvplan_kernel_bench >>"$log" 2>&1
echo "built in $(( $(date +%s) - start )) s" | tee -a "$log"

# Correctness first: the kernel against the double reference and the host model on random shapes.
build-gpu/tests/kvplan_gpu_tests 2>&1 | tee -a "$log" | tail -3

# The shapes: Llama-3-8B's attention at one long sequence and at a large batch, in bf16 and fp8;
# Llama-3-70B's (64 query heads) at a mid batch.
runs=(
  "--model llama-3-8b --batch 1 --ctx 128k --kv-dtype bf16"
  "--model llama-3-8b --batch 1 --ctx 128k --kv-dtype fp8"
  "--model llama-3-8b --batch 64 --ctx 4k --kv-dtype bf16"
  "--model llama-3-8b --batch 64 --ctx 4k --kv-dtype fp8"
  "--model llama-3-70b --batch 16 --ctx 32k --kv-dtype bf16"
  # Prefill per variant (MLA on 192/128 heads) at 4k-32k, with torch SDPA's flash and cuDNN backends;
  # 4096 tokens, one sequence, is the background text's shape. Then whole layers at 4k.
  "--phase prefill --variant all --model llama-3-8b --batch 1 --ctx 4096 --kv-dtype bf16"
  "--phase prefill --variant all --model llama-3-8b --batch 1 --ctx 16k --kv-dtype bf16"
  "--phase prefill --variant all --model llama-3-8b --batch 1 --ctx 32k --kv-dtype bf16"
  "--phase prefill --variant all --model deepseek-v2-lite --batch 1 --ctx 16k --kv-dtype bf16"
  "--phase layer --variant all --model llama-3-8b --batch 1 --ctx 4096 --kv-dtype bf16"
  "--phase layer --variant all --model deepseek-v2-lite --batch 1 --ctx 4096 --kv-dtype bf16"
  # MLA, naive and absorbed side by side (issue 7's targets): DeepSeek-V3 at batch 1 x 32k (naive fits)
  # and at batch 32 x 4k and 32k in both caches; Kimi-K2 (64 heads) and DeepSeek-V2-Lite (16 heads).
  "--model deepseek-v3 --variant mla --batch 1 --ctx 32k --kv-dtype bf16"
  "--model deepseek-v3 --variant mla --batch 32 --ctx 4k --kv-dtype bf16"
  "--model deepseek-v3 --variant mla --batch 32 --ctx 32k --kv-dtype bf16"
  "--model deepseek-v3 --variant mla --batch 32 --ctx 32k --kv-dtype fp8_ds_mla"
  "--model kimi-k2 --variant mla --batch 32 --ctx 32k --kv-dtype bf16"
  "--model kimi-k2 --variant mla --batch 32 --ctx 32k --kv-dtype fp8_ds_mla"
  "--model deepseek-v2-lite --variant mla --batch 32 --ctx 32k --kv-dtype fp8_ds_mla"
  "--model deepseek-v2 --variant all --batch 1 --ctx 32k --kv-dtype bf16"
)
commands=()
i=0
for args in "${runs[@]}"; do
  i=$((i + 1))
  # shellcheck disable=SC2086
  build-gpu/kvplan bench $args --iters 50 --out "$work/kvplan-$i.json" 2>>"$log" | tee -a "$log"
  commands+=("kvplan bench $args --iters 50")
  if [[ "$args" == *bf16* && "$args" != *"--variant mla"* ]]; then
    # shellcheck disable=SC2086
    python3 bench/compare_torch.py --kvplan build-gpu/kvplan --iters 50 --out "$work/torch-$i.json" -- $args \
      >/dev/null 2>>"$log" || echo "compare_torch.py failed for: $args (see the log)" | tee -a "$log"
    commands+=("python3 bench/compare_torch.py --iters 50 -- $args")
  fi
done

mkdir -p reports/bench
out="reports/bench/$slug-$date.json"
printf '%s\n' "${commands[@]}" >"$work/commands.txt"
python3 - "$work" "$out" "$device" "$driver" "$commit" "$date" <<'EOF'
import glob, json, sys
work, out, device, driver, commit, date = sys.argv[1:]
kvplan = [json.load(open(f)) for f in sorted(glob.glob(f"{work}/kvplan-*.json"))]
torch = [json.load(open(f)) for f in sorted(glob.glob(f"{work}/torch-*.json"))]
first = kvplan[0] if kvplan else {}
report = {
    "device": device, "nvidia_driver": driver, "cuda_driver_api": first.get("driver"), "commit": commit,
    "date": date, "commands": open(f"{work}/commands.txt").read().splitlines(),
    "ceilings": [{k: run.get(k) for k in ("bandwidth_bytes_per_s", "peak_bf16_flops_per_s", "empty_launch_s")}
                 for run in kvplan],
    "rows": [row for run in kvplan + torch for row in run["rows"]],
    "runs": kvplan + torch,
}
json.dump(report, open(out, "w"), indent=2)
print(f"wrote {out}: {len(report['rows'])} rows")
EOF
if [ -n "${OUT:-}" ]; then cp "$out" "$log" "$OUT"/; fi
