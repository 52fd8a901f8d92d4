#!/usr/bin/env bash
# Installs what kvplan builds with, all from Debian's packages (no downloads at build time).
# --fuzz also installs clang and libFuzzer for scripts/fuzz.sh.
set -euo pipefail
packages=(g++ cmake ninja-build
          libcli11-dev libfmt-dev libyaml-cpp-dev nlohmann-json3-dev doctest-dev libbenchmark-dev
          libcurl4-openssl-dev  # --model org/name: config.json and safetensors headers from the hub
          librsvg2-bin   # rsvg-convert: the tests render the report's SVG charts
          python3)       # tests/hub/hub_server.py: the stand-in Hugging Face hub the tests start
if [ "${1:-}" = "--fuzz" ]; then packages+=(clang libclang-rt-14-dev); fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${packages[@]}"
