#include "core/kv_offload.h"

#include <array>
#include <cmath>
#include <optional>

#include "core/attention_cost.h"
#include "core/checked.h"
#include "core/error.h"
#include "core/units.h"

namespace kvplan {
namespace {

// Datasheet bandwidths per direction, not measurements: PCIe 4.0 x16 is 16 GT/s x 16 lanes with
// 128b/130b coding, ~32 GB/s theoretical per direction; PCIe 5.0 x16 doubles it, ~64 GB/s;
// NVLink-C2C on GH200 is 900 GB/s total, 450 GB/s per direction (NVIDIA's GH200 datasheet).
struct LinkPreset {
  std::string_view name;
  double gb_per_s;
  std::string_view source;
};
constexpr std::array<LinkPreset, 3> kLinks{{
    {"pcie4", 32, "PCIe 4.0 x16, theoretical per direction (datasheet)"},
    {"pcie5", 64, "PCIe 5.0 x16, theoretical per direction (datasheet)"},
    {"c2c", 450, "NVLink-C2C on GH200, per direction (NVIDIA datasheet: 900 GB/s total)"},
}};

// mmap.PAGESIZE on the x86-64 and aarch64 hosts vLLM runs on with 4 KiB pages:
// CPUOffloadingSpec.BLOCK_SIZE_ALIGNMENT = SharedOffloadRegion.BLOCK_SIZE_ALIGNMENT.
constexpr std::uint64_t kChunkAlignment = 4096;

}  // namespace

Bytes parse_offload_tiers(std::string_view text) {
  std::optional<Bytes> cpu;
  while (true) {
    const std::size_t comma = text.find(',');
    const std::string_view tier = text.substr(0, comma);
    const std::size_t colon = tier.find(':');
    if (colon == std::string_view::npos) {
      throw Error("--offload: expected cpu:SIZE such as cpu:512GiB, got '" + std::string(tier) + "'");
    }
    const std::string_view kind = tier.substr(0, colon);
    if (kind == "disk") {
      throw Error("--offload disk: vLLM 0.33's --kv-offloading-size sizes the CPU tier only (the file-system "
                  "tier of kv_offload/tiering needs its own --kv-transfer-config); kvplan does not plan it");
    }
    if (kind != "cpu") throw Error("--offload: unknown tier '" + std::string(kind) + "' (cpu)");
    if (cpu) throw Error("--offload: cpu given twice");
    cpu = parse_bytes(tier.substr(colon + 1), "--offload cpu");
    if (cpu->value == 0) throw Error("--offload cpu: the size must be more than 0 bytes");
    if (comma == std::string_view::npos) break;
    text = text.substr(comma + 1);
  }
  return *cpu;
}

HostLink parse_host_link(std::string_view text) {
  for (const LinkPreset& preset : kLinks) {
    if (text == preset.name) return {std::string(preset.name), preset.gb_per_s * 1e9, std::string(preset.source)};
  }
  constexpr std::string_view suffix = "GBps";
  if (text.size() > suffix.size() && text.substr(text.size() - suffix.size()) == suffix) {
    const std::string number(text.substr(0, text.size() - suffix.size()));
    std::size_t used = 0;
    double gb = 0;
    try {
      gb = std::stod(number, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == number.size() && std::isfinite(gb) && gb > 0 && gb <= 1e6) {
      return {std::string(text), gb * 1e9, "given (--link)"};
    }
  }
  throw Error("--link: expected pcie4, pcie5, c2c or a bandwidth such as 100GBps (GB/s per direction), got '" +
              std::string(text) + "'");
}

void check_offload_backend(std::string_view backend) {
  if (backend == "native") return;
  if (backend == "lmcache") {
    throw Error("--offload-backend lmcache: vLLM 0.33 passes no size to LMCacheMPConnector (the LMCache server "
                "holds the cache), so kvplan cannot count its tokens; use native");
  }
  throw Error("--offload-backend: expected native or lmcache, got '" + std::string(backend) + "'");
}

OffloadPlan plan_offload(const OffloadRequest& offload, const ModelShape& shape, const GpuSpec& gpu,
                         const FitRequest& request, const FitResult& result) {
  if (result.engine != Engine::vllm || result.engine_version != "0.33") {
    throw Error("--offload: kvplan plans vLLM 0.33's native CPU offloading only; use --engine vllm@0.33");
  }
  const Parallelism& parallel = request.parallel;
  if (parallel.pp > 1 || parallel.dcp > 1) {
    throw Error("--offload: kvplan does not plan offloading with --pp or --dcp (each stage's chunk differs); drop them");
  }
  if (result.groups.size() != 1 || result.groups.front().attention != LayerAttention::full) {
    throw Error("--offload: kvplan plans offloading for models with one full-attention KV-cache group only; " +
                std::to_string(result.groups.size()) + " groups here");
  }
  if (shape.mla && parallel.tp > 1) {
    throw Error("--offload: MLA with TP > 1 may use vLLM's single-copy replicated layout, which kvplan does not plan");
  }
  const std::uint64_t active = shape.params_active.value_or(shape.params_total.value_or(0));
  if (active == 0) throw Error("--offload: the recompute bound needs the model's parameter count, which it does not state");

  OffloadPlan plan;
  plan.cpu_bytes = offload.cpu;
  plan.world_size = parallel.tp;
  plan.block_size = result.block_size;
  // OffloadingConnector's config (offloading/config.py): worker_kv_bytes_per_block is one GPU
  // block of every layer on one worker; blocks_per_chunk is 1 unless extra_config says otherwise.
  plan.page_bytes = result.page_bytes;
  plan.layers = result.stage_layers.front();
  plan.worker_bytes_per_block = Bytes{checked_mul(plan.page_bytes.value, plan.layers, "--offload: bytes per block")};
  // CPUOffloadingSpec.__init__: every worker's copy of a chunk sits side by side in one buffer of
  // cpu_bytes_to_use bytes, the chunk rounded up to the page size.
  plan.chunk_bytes = Bytes{checked_mul(plan.worker_bytes_per_block.value, plan.world_size, "--offload: chunk bytes")};
  plan.aligned_chunk_bytes = Bytes{checked_mul(ceil_div(plan.chunk_bytes.value, kChunkAlignment), kChunkAlignment,
                                               "--offload: aligned chunk bytes")};
  plan.cpu_chunks = plan.cpu_bytes.value / plan.aligned_chunk_bytes.value;
  if (plan.cpu_chunks == 0) {
    throw Error("--offload cpu: " + std::to_string(plan.cpu_bytes.value) + " bytes hold no chunk of " +
                std::to_string(plan.aligned_chunk_bytes.value) + " bytes");
  }
  // cpu/common.py:_kv_cache_size_tokens, the figure vLLM reports like the GPU's "KV cache size":
  // chunks x max_model_len // chunks one max_model_len request needs.
  plan.request_tokens = request.max_model_len.value;
  plan.chunks_per_request = ceil_div(plan.request_tokens, plan.block_size);
  plan.cpu_tokens = checked_mul(plan.cpu_chunks, plan.request_tokens, "--offload: CPU tokens") / plan.chunks_per_request;
  plan.replicas = parallel.dp;
  plan.cpu_tokens_fleet = checked_mul(plan.cpu_tokens, plan.replicas, "--offload: CPU tokens in the fleet");
  plan.gpu_tokens = result.kv_tokens;
  plan.request_bytes_per_rank = Bytes{checked_mul(plan.chunks_per_request,
                                                  plan.worker_bytes_per_block.value, "--offload: request bytes")};
  plan.link = offload.link;
  plan.reload_s = static_cast<double>(plan.request_bytes_per_rank.value) / plan.link.bytes_per_s;

  PrefillAttentionShape attention;
  attention.variant = request.variant;
  attention.n_q_heads = shape.num_attention_heads;
  attention.ctx = Tokens{1};
  attention.qk_head_dim = shape.mla ? shape.mla->qk_nope_head_dim + shape.mla->qk_rope_head_dim : request.variant.head_dim;
  attention.v_head_dim = shape.mla ? shape.mla->v_head_dim : request.variant.head_dim;
  // prefill_attention_cost counts 2 h L^2 (d_qk + d_v) / 2; at L = 1 that is the coefficient a per layer.
  plan.attention_flops_per_token2 = prefill_attention_cost(attention).flops * shape.num_hidden_layers;
  plan.active_params = active;
  plan.embedding_params = checked_mul(checked_mul(shape.vocab_size, shape.hidden_size, "--offload: embedding"),
                                      shape.tie_word_embeddings ? 1 : 2, "--offload: embedding");
  plan.matmul_params = active > plan.embedding_params ? active - plan.embedding_params : 0;
  const double tokens = static_cast<double>(plan.request_tokens);
  const double matmul = static_cast<double>(plan.matmul_params);
  plan.attention_flops = plan.attention_flops_per_token2 * tokens * tokens;
  plan.recompute_flops = 2.0 * matmul * tokens + plan.attention_flops;
  plan.peak_flops_per_s = gpu.bf16_dense_flops_per_s * parallel.tp;
  plan.recompute_s = plan.recompute_flops / plan.peak_flops_per_s;
  plan.bytes_per_token_per_rank =
      static_cast<double>(plan.worker_bytes_per_block.value) / static_cast<double>(plan.block_size);
  plan.break_even_tokens = (plan.bytes_per_token_per_rank * plan.peak_flops_per_s / plan.link.bytes_per_s -
                            2.0 * matmul) /
                           plan.attention_flops_per_token2;
  return plan;
}

}  // namespace kvplan
