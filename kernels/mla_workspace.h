// Where a path's intermediates live in MlaParams::workspace, shared by mla_workspace_bytes() and the
// launchers. Every region starts on a 16-byte boundary (all sizes are multiples of 16 but the last).
#pragma once

#include <cstddef>

#include "kernels/mla.h"

namespace kvplan::kernels {

struct MlaWorkspace {
  // absorbed: [batch, n_heads, 512] bf16 each: q_nope W_UK, and the attention's latent output.
  std::size_t q_latent = 0, o_latent = 0;
  // naive, per chunk: [chunk * max_seq_len, 576] bf16 latent rows gathered (fp8 dequantised) and
  // [chunk * max_seq_len, n_heads, 256] bf16 up-projected K nope and V.
  std::size_t gathered = 0, kv_up = 0;
  // split partials: [rows, dim] fp32 outputs (dim 512 absorbed, 128 naive) then [rows] fp32
  // base-2 log-sum-exps; rows: partial groups x heads (group-major), for the chunk whose schedule
  // has the most.
  std::size_t partial_o = 0, partial_lse = 0;
  std::size_t total = 0;
};

MlaWorkspace mla_workspace(const MlaParams& params, MlaPath path, const MlaPlan& plan);

}  // namespace kvplan::kernels
