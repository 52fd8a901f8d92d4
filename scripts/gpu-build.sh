#!/usr/bin/env bash
# Builds kvplan with its CUDA kernels into build-gpu/ on the lent GPU machine, using the Debian
# packages carried in .deps/ (bench/gpu_run.sh --fetch-deps unpacks them here). Shared by
# bench/gpu_run.sh and scripts/compute-sanitizer.sh. Usage: scripts/gpu-build.sh TARGET...
# Without libcurl among the carried packages, kvplan is built without the hub (KVPLAN_NETWORK=OFF).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DKVPLAN_CUDA=ON -DKVPLAN_NETWORK=OFF -DCMAKE_PREFIX_PATH="$PWD/.deps/root/usr"
cmake --build build-gpu --target "$@"
