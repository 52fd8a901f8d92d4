#!/usr/bin/env bash
# Runs every kernel test under compute-sanitizer's memcheck, racecheck and initcheck on the lent
# GPU machine and writes a summary to reports/kernels/compute-sanitizer-<device>-<date>.md
# (and $OUT when set). Carry .deps (bench/gpu_run.sh --fetch-deps) like bench/gpu_run.sh.
# Exit 0 only when every tool reports no error; 3 on a machine without a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! nvidia-smi >/dev/null 2>&1; then echo "compute-sanitizer.sh: no GPU here; run it on the GPU machine" >&2; exit 3; fi
sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
device="$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)"
driver="$(nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -1)"
commit="$(git rev-parse HEAD 2>/dev/null || echo "${KVPLAN_COMMIT:-unknown}")"
date="$(date -u +%Y-%m-%d)"
slug="$(echo "$device" | tr 'A-Z ' 'a-z-' | tr -cd 'a-z0-9-')"
scripts/gpu-build.sh kvplan_gpu_tests >/dev/null
mkdir -p reports/kernels
summary="reports/kernels/compute-sanitizer-$slug-$date.md"
{
  echo "# compute-sanitizer on the kernel tests"
  echo
  echo "- device: $device, driver $driver"
  echo "- commit: $commit, date: $date"
  echo "- sanitizer: $("$sanitizer" --version | tail -1)"
  echo
  echo "| tool | result | errors reported |"
  echo "|---|---|---|"
} >"$summary"
status=0
for tool in memcheck racecheck initcheck; do
  log="$(mktemp)"
  if "$sanitizer" --tool "$tool" --error-exitcode 99 build-gpu/tests/kvplan_gpu_tests >"$log" 2>&1; then
    result=pass
  else
    result=FAIL
    status=1
  fi
  errors=$(grep -o "ERROR SUMMARY: [0-9]*" "$log" | awk '{print $3}' | tail -1)
  echo "| $tool | $result | ${errors:-?} |" >>"$summary"
  tail -n 5 "$log"
  if [ -n "${OUT:-}" ]; then cp "$log" "$OUT/compute-sanitizer-$tool.log"; fi
done
cat "$summary"
if [ -n "${OUT:-}" ]; then cp "$summary" "$OUT"/; fi
exit $status
