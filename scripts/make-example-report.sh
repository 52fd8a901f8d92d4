#!/usr/bin/env bash
# Regenerates the committed example report under reports/example from the embedded presets, so a
# visitor sees what kvplan produces without building it. A test checks it is up to date.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
kvplan=${KVPLAN:-$root/build/kvplan}
"$kvplan" report --out "$root/reports/example"
