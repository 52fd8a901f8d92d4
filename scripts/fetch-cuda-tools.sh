#!/usr/bin/env bash
# Fetches cuobjdump and nvdisasm, which a minimal CUDA install (this project's machines: nvcc
# 13.0 only) lacks, from NVIDIA's PyPI wheels into the ignored .deps/cuda-tools/bin, where the
# static-inspection test (scripts/inspect-kernels.sh) finds them. Without network it warns and
# leaves that test to skip.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/.deps/cuda-tools"
version=13.2.86
if [ -x "$dest/bin/cuobjdump" ] && [ -x "$dest/bin/nvdisasm" ]; then exit 0; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! python3 -m pip download -q --no-deps --only-binary=:all: -d "$work" \
     "nvidia-cuda-cuobjdump==$version" "nvidia-cuda-nvdisasm==$version"; then
  echo "fetch-cuda-tools: could not download cuobjdump/nvdisasm; the SASS census test will skip" >&2
  exit 0
fi
mkdir -p "$dest/bin"
for wheel in "$work"/*.whl; do
  python3 - "$wheel" "$dest/bin" <<'PY'
import sys, zipfile, os
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if "/bin/" in name and not name.endswith("/"):
            target = os.path.join(out, os.path.basename(name))
            with z.open(name) as src, open(target, "wb") as dst:
                dst.write(src.read())
            os.chmod(target, 0o755)
PY
done
"$dest/bin/cuobjdump" --version | tail -1
