#!/usr/bin/env bash
# kvplan fit (--engine vllm@0.19, no --kv-cache-memory) against real vLLM 0.19.0 start-up logs:
# the error of each run and of each subtracted term, then the median and worst |error|.
# Data: tests/data/llmd_vllm_0.19_h100.csv (its header cites the llm-d-planner commit).
# Usage: scripts/accuracy.sh [path/to/kvplan]   (default build/kvplan)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
kvplan="${1:-$here/build/kvplan}"
[[ -x "$kvplan" ]] || { echo "accuracy.sh: $kvplan is not an executable; build first (README)" >&2; exit 2; }
exec python3 - "$kvplan" "$here/tests/data/llmd_vllm_0.19_h100.csv" <<'PY'
import csv, json, statistics, subprocess, sys

kvplan, data = sys.argv[1], sys.argv[2]
GIB = 2**30
rows = list(csv.DictReader(line for line in open(data) if not line.startswith('#')))

def weights_dtype(row):
    # How the checkpoint stores its weights, as kvplan's --weights-dtype names it.
    q, name = row['quantization'], row['model'].lower()
    if q == 'fp8' or 'fp8' in name: return 'fp8'
    if 'w8a8' in name: return 'int8'
    if 'w4a16' in name: return 'int4'
    if q == 'mxfp4': return 'auto'
    return {'torch.float16': 'fp16', 'torch.float32': 'fp32'}.get(row['dtype'], 'bf16')

def loaded(values, key):
    # vLLM's "Model loading took" holds the weights and the RoPE cos/sin tables built with them.
    return values[key] + (values.get('RoPE_cos_sin_cache_bytes', 0) if key == 'weights_bytes' else 0)

terms = [('weights', 'weights_bytes', 'weights_gib'), ('activation', 'activation_peak_bytes', 'activation_gib'),
         ('non-torch', 'non_torch_memory_bytes', 'non_torch_gib'), ('KV memory', 'KV_cache_memory_bytes', 'kv_cache_gib')]
errors = {name: [] for name, _, _ in terms}
errors['KV tokens %'] = []
# The same with the weights vLLM logged instead of kvplan's: what the other terms alone leave.
errors['KV tokens %, logged weights'] = []
skipped = []
print(f"{'run (log file)':58} {'TP':>2} {'PP':>2} " + ' '.join(f'{n:>11}' for n, _, _ in terms) +
      f" {'tokens':>9} {'logged':>9} {'error':>7} {'w/ logged weights':>17}")
for row in rows:
    if not row['kvplan_model']:
        skipped.append(row['model'])
        continue
    cmd = [kvplan, 'fit', '--model', row['kvplan_model'], '--gpu', 'h100-sxm', '--engine', 'vllm@0.19',
           '--tp', row['tp'], '--pp', row['pp'], '--ctx', row['max_model_len'],
           '--mem-util', row['gpu_memory_utilization'], '--weights-dtype', weights_dtype(row), '--format', 'json']
    # kv_cache_dtype auto caches in the model dtype.
    kv = row['kv_cache_dtype'] if row['kv_cache_dtype'] != 'auto' else {'torch.float32': 'fp32', 'torch.float16': 'fp16'}.get(row['dtype'], 'bf16')
    cmd += ['--kv-dtype', kv]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        print(f"{row['log_file'][:58]:58} kvplan failed: {out.stderr.strip()}")
        continue
    values = {r['key']: r['value'] for r in json.loads(out.stdout)['rows']}
    cells = []
    for name, key, column in terms:
        # The log gives PP rank 0's terms; kvplan's budget lines are the binding stage's.
        if row['pp'] != '1' or key not in values:
            cells.append(f"{'-':>11}")
            continue
        diff = loaded(values, key) / GIB - float(row[column])
        errors[name].append(diff)
        cells.append(f'{diff:+11.2f}')
    tokens, logged = values['kv_tokens'], int(row['kv_cache_tokens'])
    pct = 100.0 * (tokens - logged) / logged
    errors['KV tokens %'].append(pct)
    own = ''
    if row['pp'] == '1':
        # Tokens scale with the KV memory (blocks = floor(memory / block bytes)): move the budget
        # by kvplan's weights error and recount the blocks it holds.
        kv = values['KV_cache_memory_bytes']
        block = kv / values['num_blocks']
        blocks = int((kv + loaded(values, 'weights_bytes') - float(row['weights_gib']) * GIB) // block)
        own_pct = 100.0 * (blocks * tokens / values['num_blocks'] - logged) / logged
        errors['KV tokens %, logged weights'].append(own_pct)
        own = f'{own_pct:+16.2f}%'
    print(f"{row['log_file'][:58]:58} {row['tp']:>2} {row['pp']:>2} " + ' '.join(cells) +
          f' {tokens:>9} {logged:>9} {pct:+6.2f}% {own}')

print()
print('term errors are kvplan - log in GiB (PP runs: tokens only); KV tokens in % of the logged count')
print(f"{'term':27} {'runs':>4} {'median |err|':>13} {'worst |err|':>12}")
for name, values in errors.items():
    if not values: continue
    absolute = [abs(v) for v in values]
    print(f'{name:27} {len(values):>4} {statistics.median(absolute):>13.3f} {max(absolute):>12.3f}')
if skipped:
    print(f'\nnot run ({len(skipped)}, no kvplan preset for the architecture): ' + ', '.join(sorted(set(skipped))))
PY
