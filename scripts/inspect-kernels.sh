#!/usr/bin/env bash
# Static inspection of the attention kernels for one GPU arch, for machines with nvcc but no GPU:
# compiles kernels/decode_attention.cu, kernels/prefill_attention.cu, kernels/mla_absorbed.cu and
# kernels/mla_naive.cu as the build does for that arch (the fatbin holds one such image per arch),
# then checks
#   - the ptxas resource report: 0 bytes of stack frame and of spills for every kernel;
#   - a cuobjdump SASS census: no local memory (LDL/STL) anywhere; in every decode kernel 128-bit
#     global loads (LDG.E.128) and no tensor-core instructions (HMMA/HGMMA), which they do not claim;
#     in every prefill and absorbed MLA kernel tensor-core MMA (HMMA, mma.sync), 16-byte cp.async tile
#     loads (LDGSTS.E.BYPASS.128) and ldmatrix (LDSM); 128-bit loads in the latent cache write, the MLA
#     gather and the naive MLA attention.
# and states which kernels fit the arch's shared memory per block (they are refused at run time).
# Usage: scripts/inspect-kernels.sh [--arch sm_80|sm_86|sm_89|sm_90|sm_100|sm_120] [--family decode|prefill|mla]
#        [--report FILE]   (FILE: Markdown; default arch sm_90)
# Exits 0 when every check holds, 1 when one fails, 77 (skip) without nvcc or cuobjdump.
# cuobjdump is not in every CUDA install: set CUOBJDUMP=/path/to/cuobjdump, or put it on PATH
# (it also needs nvdisasm beside it or on PATH).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
report=""
family=all
arch=sm_90
while [ $# -gt 0 ]; do
  case "$1" in
    --report) report="$2"; shift 2 ;;
    --family) family="$2"; shift 2 ;;
    --arch) arch="$2"; shift 2 ;;
    *) echo "usage: $0 [--arch sm_XY] [--family decode|prefill|mla] [--report FILE]" >&2; exit 2 ;;
  esac
done
# Opt-in shared memory per block (cudaDevAttrMaxSharedMemoryPerBlockOptin) of each arch, from the
# CUDA C++ Programming Guide's compute-capability table: 163 KB (8.0), 99 KB (8.6, 8.9, 12.x), 227 KB
# (9.0, 10.0).
case "$arch" in
  sm_80) smem_optin=166912 ;;
  sm_86|sm_89|sm_120) smem_optin=101376 ;;
  sm_90|sm_90a|sm_100|sm_100a) smem_optin=232448 ;;
  *) echo "--arch: sm_80, sm_86, sm_89, sm_90, sm_100 or sm_120" >&2; exit 2 ;;
esac
compute="compute_${arch#sm_}"
case "$family" in
  decode) sources=(decode_attention) ;;
  prefill) sources=(prefill_attention) ;;
  mla) sources=(mla_absorbed mla_naive) ;;
  all) sources=(decode_attention prefill_attention mla_absorbed mla_naive) ;;
  *) echo "--family: decode, prefill or mla" >&2; exit 2 ;;
esac

nvcc="${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}"
cuobjdump="${CUOBJDUMP:-$(command -v cuobjdump || true)}"
if [ ! -x "$nvcc" ]; then echo "SKIP: nvcc not found"; exit 77; fi
if [ -z "$cuobjdump" ] || [ ! -x "$cuobjdump" ]; then echo "SKIP: cuobjdump not found (set CUOBJDUMP)"; exit 77; fi
export PATH="$(dirname "$cuobjdump"):$PATH"  # cuobjdump runs the nvdisasm beside it

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
: >"$work/ptxas.txt"
: >"$work/sass.tsv"
timings=""
for source in "${sources[@]}"; do
  start=$(date +%s%N)
  "$nvcc" -std=c++17 -O3 -gencode=arch=$compute,code=$arch -Xptxas -v -I"$root" -I"$root/src" \
    -c "$root/kernels/$source.cu" -o "$work/$source.o" 2>>"$work/ptxas.txt"
  elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
  timings+="${timings:+, }kernels/$source.cu $((elapsed_ms / 1000)).$(printf %03d $((elapsed_ms % 1000))) s"
  # Instruction counts per kernel from the SASS (per object: a template two files instantiate,
  # the split combine, is counted once).
  "$cuobjdump" -sass "$work/$source.o" | awk '/Function :/ { name = $3 }
     /^ +\/\*[0-9a-f]+\*\// { op = $2; if (op ~ /^@/) op = $3;
       ldg128[name] += (op ~ /^LDG\.E\.128/); ldg[name] += (op ~ /^LDG/ && op !~ /^LDGSTS/); local_[name] += (op ~ /^(LDL|STL)/);
       mma[name] += (op ~ /^(HMMA|HGMMA|QGMMA)/); ffma[name] += (op ~ /^FFMA/); shfl[name] += (op ~ /^SHFL/);
       ex2[name] += (op ~ /^MUFU\.EX2/); cvt[name] += (op ~ /^F2FP.*E4M3/); ldgsts[name] += (op ~ /^LDGSTS.*128/);
       ldsm[name] += (op ~ /^LDSM/); total[name]++ }
     END { for (n in total) print n, ldg128[n], ldg[n] - ldg128[n], local_[n], mma[n], ffma[n], shfl[n], ex2[n], cvt[n],
                                   ldgsts[n], ldsm[n], total[n] }' >>"$work/sass.tsv"
done
sort -u -o "$work/sass.tsv" "$work/sass.tsv"

# Friendly kernel names: decode_split_kernel<bf16, 128>, lse_combine_pieces_kernel<bf16>, mla_absorbed_kernel<64 heads, bf16>.
friendly() {
  c++filt | sed -e 's/(kvplan::kernels::LatentCacheParams, int)//' -e 's/.*kernels::\(\(([^)]*)::\)\?[a-z_]*kernel\)/\1/' -e 's/(kvplan::kernels::KvType)0/bf16/' \
    -e 's/(kvplan::kernels::KvType)1/fp16/' -e 's/(kvplan::kernels::KvType)2/fp8/' -e 's/__nv_bfloat16/bf16/' \
    -e 's/__half/fp16/' -e 's/(kvplan::kernels::DecodeParams, int)//' \
    -e 's/(kvplan::kernels::\(Prefill\|LatentCache\)Params)//' \
    -e 's/(kvplan::kernels::(anonymous namespace)::[A-Za-z]*Args[^)]*)//' -e 's/(float const\*, float const\*, [^)]*)//' \
    -e 's/mla_absorbed_kernel<\([0-9]*\), false>/mla_absorbed_kernel<\1 heads, bf16>/' \
    -e 's/decode_split_kernel<\([a-z0-9]*\), \([0-9]*\), \([0-9]*\)>/decode_split_kernel<\1, d \2, \3 heads>/' \
    -e 's/mla_absorbed_kernel<\([0-9]*\), true>/mla_absorbed_kernel<\1 heads, fp8_ds_mla>/' -e 's/^.*::\([a-z_]*kernel\)/\1/'
}

# One line per kernel from ptxas: name registers smem stack spill_stores spill_loads.
awk '/Compiling entry function/ { match($0, /'"'"'[^'"'"']*'"'"'/); name = substr($0, RSTART + 1, RLENGTH - 2) }
     /bytes stack frame/ { stack = $1; spill_st = $5; spill_ld = $9 }
     /Used [0-9]+ registers/ { regs = $5; smem = 0; if (match($0, /[0-9]+ bytes smem/)) smem = substr($0, RSTART, RLENGTH) + 0;
                               print name, regs, smem, stack, spill_st, spill_ld }' "$work/ptxas.txt" | sort -u >"$work/ptxas.tsv"

join "$work/ptxas.tsv" "$work/sass.tsv" >"$work/all.tsv"

# The dynamic shared memory a kernel asks for (kernels/prefill_tiling.h smem_bytes,
# kernels/mla_tiling.h absorbed_smem: 1288 h + 147968 B bf16, 1288 h + 116224 B fp8 at h heads per
# CTA); 0 for the kernels with static shared memory only.
dynamic_smem() {
  case "$1" in
    prefill_kernel*", 64, 64>") echo 55296 ;;
    prefill_kernel*", 128, 128>") echo 104448 ;;
    prefill_kernel*", 192, 128>") echo 137216 ;;
    mla_absorbed_kernel*)
      local heads="${1#mla_absorbed_kernel<}"
      heads="${heads%% *}"
      if [[ "$1" == *fp8* ]]; then echo $((1288 * heads + 116224)); else echo $((1288 * heads + 147968)); fi ;;
    *) echo 0 ;;
  esac
}

failures=0
not_launched=0
table="| kernel | launched on $arch | registers | smem B | stack B | spill B (st/ld) | LDG.E.128 | other LDG | LDGSTS.128 | LDSM | LDL/STL | HMMA/HGMMA | FFMA | SHFL | MUFU.EX2 | fp8 cvt | SASS instr |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
while read -r name regs smem stack st ld l128 lother local mma ffma shfl ex2 cvt ldgsts ldsm total; do
  pretty="$(echo "$name" | friendly)"
  dynamic=$(dynamic_smem "$pretty")
  launched=yes
  [ "$dynamic" -le "$smem_optin" ] || launched="no: $dynamic B smem"
  table+=$'\n'"| \`$pretty\` | $launched | $regs | $smem | $stack | $st/$ld | $l128 | $lother | $ldgsts | $ldsm | $local | $mma | $ffma | $shfl | $ex2 | $cvt | $total |"
  problems=""
  [ "$stack" = 0 ] || problems+=" stack frame $stack B;"
  [ "$st" = 0 ] && [ "$ld" = 0 ] || problems+=" spills $st/$ld B;"
  [ "$local" = 0 ] || problems+=" $local local-memory instructions;"
  if [[ "$pretty" == prefill_kernel* ]]; then
    [ "$mma" -gt 0 ] || problems+=" no tensor-core MMA;"
    [ "$ldgsts" -ge 3 ] || problems+=" only $ldgsts LDGSTS.128 (Q, K and V tiles);"
    [ "$ldsm" -gt 0 ] || problems+=" no ldmatrix;"
  elif [[ "$pretty" == mla_absorbed_kernel* ]]; then
    [ "$mma" -gt 0 ] || problems+=" no tensor-core MMA;"
    [ "$ldgsts" -gt 0 ] || problems+=" no LDGSTS.128 (cp.async tiles);"
    [ "$ldsm" -gt 0 ] || problems+=" no ldmatrix;"
  else
    [ "$mma" = 0 ] || problems+=" $mma tensor-core instructions this kernel does not claim;"
  fi
  if [[ "$pretty" == decode_split_kernel* ]] && [ "$l128" -lt 4 ]; then problems+=" only $l128 LDG.E.128;"; fi
  if [[ "$pretty" == latent_cache_kernel* ]] && [ "$l128" -lt 1 ]; then problems+=" no LDG.E.128;"; fi
  if [[ "$pretty" == mla_naive_attention_kernel* ]] && [ "$l128" -lt 4 ]; then problems+=" only $l128 LDG.E.128;"; fi
  if [[ "$pretty" == mla_gather_kernel* ]] && [ "$l128" -lt 1 ]; then problems+=" no LDG.E.128;"; fi
  # A configuration this arch's shared memory cannot hold is refused before launch: its code is in
  # the fatbin but never runs here, so what ptxas did with it is noted, not failed.
  if [ -n "$problems" ] && [ "$launched" != yes ]; then
    echo "NOTE $pretty (never launched on $arch):$problems"
    not_launched=$((not_launched + 1))
  elif [ -n "$problems" ]; then
    echo "FAIL $pretty:$problems"
    failures=$((failures + 1))
  fi
done <"$work/all.tsv"
# Each configuration's dynamic shared memory against this arch's opt-in limit: what does not fit is
# refused at run time with that message.
fits="Dynamic shared memory per CTA against $arch's opt-in $smem_optin B (a configuration that does not fit is refused at run time, naming both numbers):

| kernel configuration | dynamic smem B | fits |
|---|---|---|"
fit_row() { fits+=$'\n'"| $1 | $2 | $([ "$2" -le "$smem_optin" ] && echo yes || echo "no: refused") |"; }
fit_row "prefill_kernel d 64/64" 55296
fit_row "prefill_kernel d 128/128" 104448
fit_row "prefill_kernel d 192/128 (MLA decompressed)" 137216
for heads in 16 32 64; do
  fit_row "mla_absorbed_kernel $heads heads, bf16" $((1288 * heads + 147968))
  fit_row "mla_absorbed_kernel $heads heads, fp8_ds_mla" $((1288 * heads + 116224))
done
fits+=$'\n\n'"The absorbed path takes the most heads per CTA (64, 32, 16, dividing n_heads) that fit; decode, the naive MLA path, the latent cache write and the split combine use at most 48 KB of static shared memory (smem B above) and run on every arch."
kernels=$(wc -l <"$work/all.tsv")
if [ "$kernels" -eq 0 ]; then echo "FAIL: no kernel found in the ptxas report"; exit 1; fi

echo "$table"
echo
echo "$fits"
echo "$kernels kernels inspected ($timings of nvcc); $failures failed; $not_launched noted (never launched on $arch)"
if [ -n "$report" ]; then
  {
    echo "# Static inspection of the $arch $([ "$family" = all ] && echo attention || echo "$family") kernels"
    echo
    echo "Measured: compiler output, no GPU. Written by \`scripts/inspect-kernels.sh --arch $arch --family $family --report $report\`."
    echo
    echo "- date: $(date -u +%Y-%m-%d)"
    echo "- commit: $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet -- kernels || echo ' (kernels/ modified)')"
    echo "- nvcc: $("$nvcc" --version | grep release)"
    echo "- cuobjdump: $("$cuobjdump" --version | grep release)"
    echo "- host: $(nproc) cores; nvcc took: $timings"
    echo "- command: \`nvcc -std=c++17 -O3 -gencode=arch=$compute,code=$arch -Xptxas -v -I. -Isrc -c kernels/<file>.cu\`, then \`cuobjdump -sass\`"
    echo
    echo "$table"
    echo
    echo "Checks: 0 stack and spill bytes and no LDL/STL in every kernel launched on $arch: $failures failed of $kernels kernels"
    echo "($not_launched with a finding in code that $arch never launches: its shared memory cannot hold them)."
    echo
    echo "$fits"
    if [ "$family" = all ] || [ "$family" = decode ]; then
      echo "Decode: no HMMA/HGMMA (CUDA-core kernels: FFMA), at least four LDG.E.128 (K and V of"
      echo "kTokensPerStep = 2 tokens) in every decode_split_kernel; the remaining LDG are the block table and"
      echo "sequence lengths (32-bit) and, in the combine kernel, the fp32 partial outputs. fp8 cvt counts"
      echo "F2FP ... E4M3 (two fp8 values to half2 per instruction)."
    fi
    if [ "$family" != decode ]; then
      if [ "$family" != mla ]; then
        echo "Prefill: tensor-core MMA (HMMA.16816.F32[.BF16] = mma.sync m16n8k16 with fp32 accumulation),"
        echo "16-byte cp.async tile loads (LDGSTS.E.BYPASS.128) for Q, K and V, and ldmatrix (LDSM.16.M88.4 for"
        echo "Q and K, LDSM.16.MT88.4, the transposing form, for V) in every prefill_kernel; the latent cache"
        echo "write loads 16-byte vectors (LDG.E.128). The other LDG are seq_starts and block-table entries."
        echo "The prefill kernels' shared memory is dynamic (smem B shows static only): prefill::smem_bytes(d_qk, d_v)"
        echo "= 55296 B (64/64), 104448 B (128/128), 137216 B (192/128): Q once, K and V double-buffered, rows padded."
      fi
      if [ "$family" != prefill ]; then
        echo "MLA: tensor-core MMA (HMMA.16816.F32.BF16 = mma.sync m16n8k16, bf16 in, fp32 accumulate), 16-byte"
        echo "cp.async tile loads (LDGSTS.E.BYPASS.128: Q and the latent rows) and ldmatrix (LDSM.16.M88 for Q, K"
        echo "and P, LDSM.16.MT88.4, the transposing form, for V) in every mla_absorbed_kernel; its shared memory"
        echo "is dynamic (smem B shows static only): mla::absorbed_smem() = 230400 B (64 heads, bf16: Q, two"
        echo "latent tiles, P), 198400 B (64 heads, fp8_ds_mla: one bf16 tile and the raw 656-byte rows). The naive"
        echo "attention loads K nope and V as 16-byte vectors and the RoPE dims as 8-byte ones (LDG.E.64), the"
        echo "gather 16-byte rows (8-byte fp8 codes). The split combine is shared with the decode family."
      fi
    fi
  } >"$report"
fi
[ "$failures" -eq 0 ]
