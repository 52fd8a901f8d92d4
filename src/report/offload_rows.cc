#include "report/offload_rows.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "report/format.h"

namespace kvplan::report {
namespace {

void add_row(Document& document, std::string key, std::string item, Cell value, std::string unit, std::string rule) {
  document.rows.push_back({Cell::of(std::move(key)), Cell::of(std::string(" ")), Cell::of(std::move(item)),
                           std::move(value), Cell::of(std::move(unit)), Cell::of(std::move(rule))});
}

std::string seconds(double s) { return s < 1 ? fmt::format("{:.1f} ms", s * 1e3) : fmt::format("{:.2f} s", s); }

void add_disk_rows(Document& document, const DiskTierPlan& d) {
  add_row(document, "offload_disk_chunks", "disk chunk files", Cell::of(d.disk_chunks), "",
          fmt::format("floor(--offload disk {} B / {} B per file) = {}: FileSystemTierManager writes one file per chunk, "
                      "the CPU tier's aligned row (every rank's slice); vLLM gives the tier no size and never evicts "
                      "from it, so {} B is the space the directory gets",
                      d.disk_bytes.value, d.file_bytes.value, d.disk_chunks, d.disk_bytes.value));
  add_row(document, "offload_disk_tokens", "tokens, disk tier", Cell::of(format_count(d.disk_tokens) + " tokens", d.disk_tokens),
          "tokens",
          fmt::format("{} chunks x L // chunks per request = {}, the CPU tier's rule (vLLM reports no size for the fs tier); "
                      "a copy of what the CPU tier stored (every store cascades to all secondary tiers); one store for every "
                      "DP replica given this root_dir (FileMapper names files by model, layout and block hash)",
                      d.disk_chunks, d.disk_tokens));
  add_row(document, "offload_disk_read_s", "read one request from disk (" + d.disk_read.name + ")", Cell::of(seconds(d.disk_read_s), d.disk_read_s), "s",
          fmt::format("{} files x {} B = {} B / {:.4g} GB/s ({}) = {:.4f} s, into the CPU tier", d.request_bytes.value / d.file_bytes.value,
                      d.file_bytes.value, d.request_bytes.value, d.disk_read.bytes_per_s / 1e9, d.disk_read.source, d.disk_read_s));
  add_row(document, "offload_disk_reload_s", "reload one request from disk", Cell::of(seconds(d.disk_to_gpu_s), d.disk_to_gpu_s), "s",
          fmt::format("{:.4f} s disk -> CPU + {:.4f} s CPU -> GPU = {:.4f} s: secondary tiers cannot reach GPU memory, so the "
                      "two run one after the other",
                      d.disk_read_s, d.host_reload_s, d.disk_to_gpu_s));
}

// LMCache's L1 in place of native's chunk rows.
void add_lmcache_rows(Document& document, const OffloadPlan& p, const LmcacheTierPlan& l, UnitSystem units) {
  add_row(document, "offload_chunk_bytes", "LMCache object (one worker, one chunk)",
          Cell::of(format_bytes(l.aligned_object_bytes, units), l.aligned_object_bytes.value), "bytes",
          fmt::format("cache_context.py:_get_shape_for_kernel_group: {} tokens (MPServerConfig.chunk_size) x {} B per token "
                      "(page {} B / {} tokens x {} layers on the rank) = {} B, rounded up to the L1's 4096-byte alignment "
                      "= {} B",
                      l.chunk_tokens, l.bytes_per_token_per_rank.value, p.page_bytes.value, p.block_size, p.layers,
                      l.object_bytes.value, l.aligned_object_bytes.value));
  add_row(document, "offload_cpu_chunks", "LMCache chunks in the L1", Cell::of(l.chunks), "",
          fmt::format("floor(L1 {} B (lmcache server --l1-size-gb) / {} B) = {} objects / {} per chunk ({}) = {}",
                      p.cpu_bytes.value, l.aligned_object_bytes.value, l.objects, l.kv_workers,
                      l.kv_workers == 1 ? "one object per chunk: an MLA latent is stored once per TP group "
                                          "(extract_world_size_and_kv_rank), as is a single worker's cache"
                                        : "each TP worker stores its own object, keyed by worker_id",
                      l.chunks));
}

}  // namespace

void add_offload_rows(Document& document, const OffloadPlan& plan, UnitSystem units) {
  const OffloadPlan& p = plan;
  if (p.lmcache) {
    add_lmcache_rows(document, p, *p.lmcache, units);
  } else {
  add_row(document, "offload_chunk_bytes", "CPU chunk (all ranks)", Cell::of(format_bytes(p.aligned_chunk_bytes, units), p.aligned_chunk_bytes.value),
          "bytes",
          fmt::format("CPUOffloadingSpec: round_up(page {} B x {} layers = {} B per block per rank, x {} rank{}, 4096) = {} B; "
                      "blocks_per_chunk 1, so a chunk is one GPU block of {} tokens",
                      p.page_bytes.value, p.layers, p.worker_bytes_per_block.value, p.world_size,
                      p.world_size == 1 ? "" : "s", p.aligned_chunk_bytes.value, p.block_size));
  add_row(document, "offload_cpu_chunks", "CPU chunks", Cell::of(p.cpu_chunks), "",
          fmt::format("floor(cpu_bytes_to_use {} B (--kv-offloading-size x 2^30, the total over the TP ranks) / {} B) = {}",
                      p.cpu_bytes.value, p.aligned_chunk_bytes.value, p.cpu_chunks));
  }
  add_row(document, "offload_gpu_tokens", "tokens, GPU tier (per replica)", Cell::of(format_count(p.gpu_tokens) + " tokens", p.gpu_tokens),
          "tokens", "the GPU KV cache size above");
  const std::string cpu_tokens_rule =
      p.lmcache ? fmt::format("{} chunks x {} tokens = {}, the L1 full: LMCache's eviction loop (EvictionController, every "
                              "second) drops 20% of the keys once use passes 80%, so the tier settles between about "
                              "0.64 and 0.8 of it; one engine per server (a server shared by several engines splits it)",
                              p.lmcache->chunks, p.lmcache->chunk_tokens, p.cpu_tokens)
                : fmt::format("cpu/common.py:_kv_cache_size_tokens: {} chunks x {} // ceil({} / {}) = {} chunks per "
                              "request = {}; every rank holds its own slice of each token",
                              p.cpu_chunks, p.request_tokens, p.request_tokens, p.block_size, p.chunks_per_request,
                              p.cpu_tokens);
  add_row(document, "offload_cpu_tokens", "tokens, CPU tier (per replica)", Cell::of(format_count(p.cpu_tokens) + " tokens", p.cpu_tokens),
          "tokens", cpu_tokens_rule);
  add_row(document, "offload_cpu_tokens_fleet", "tokens, CPU tier (fleet)", Cell::of(format_count(p.cpu_tokens_fleet) + " tokens", p.cpu_tokens_fleet),
          "tokens", fmt::format("{} x {} replica{}, each its own buffer", p.cpu_tokens, p.replicas, p.replicas == 1 ? "" : "s"));
  const std::string request_rule =
      p.lmcache ? fmt::format("ceil({} / {}) chunks x {} B = {} B", p.request_tokens, p.lmcache->chunk_tokens,
                              p.lmcache->object_bytes.value, p.request_bytes_per_rank.value)
                : fmt::format("{} blocks x {} B = {} B", p.chunks_per_request, p.worker_bytes_per_block.value,
                              p.request_bytes_per_rank.value);
  add_row(document, "offload_request_bytes_per_rank", "one request's KV per rank", Cell::of(format_bytes(p.request_bytes_per_rank, units), p.request_bytes_per_rank.value),
          "bytes", request_rule);
  add_row(document, "offload_reload_s", "reload one request (" + p.link.name + ")", Cell::of(seconds(p.reload_s), p.reload_s), "s",
          fmt::format("{} B / {:.0f} GB/s ({}) = {:.4f} s; each rank over its own link", p.request_bytes_per_rank.value,
                      p.link.bytes_per_s / 1e9, p.link.source, p.reload_s));
  add_row(document, "offload_recompute_s", "recompute one request, bound", Cell::of(">= " + seconds(p.recompute_s), p.recompute_s), "s",
          fmt::format("(2 x N {} (active {} - embedding and head {}) x {} + attention {:.4g} x {}^2 = {:.4g} FLOPs) / "
                      "({:.4g} FLOP/s bf16 dense x TP {}) = {:.4f} s: a lower bound, every FLOP at the datasheet peak",
                      p.matmul_params, p.active_params, p.embedding_params, p.request_tokens, p.attention_flops_per_token2, p.request_tokens, p.recompute_flops,
                      p.peak_flops_per_s / p.world_size, p.world_size, p.recompute_s));
  const std::string break_even_rule = fmt::format(
      "closed form, reload b L / B = recompute (2 N L + a L^2) / P at L = (b P / B - 2 N) / a = ({:.6g} B/token x {:.4g} "
      "FLOP/s / {:.4g} B/s - 2 x {}) / {:.4g} = {:.6g}; recompute is faster below it, reload above",
      p.bytes_per_token_per_rank, p.peak_flops_per_s, p.link.bytes_per_s, p.matmul_params, p.attention_flops_per_token2,
      p.break_even_tokens);
  if (p.break_even_tokens >= 1) {
    const auto tokens = static_cast<std::uint64_t>(p.break_even_tokens);
    add_row(document, "offload_break_even_tokens", "break-even context", Cell::of(format_count(tokens) + " tokens", tokens), "tokens",
            break_even_rule);
  } else {
    add_row(document, "offload_break_even_tokens", "break-even context",
            Cell::of(std::string("none: reload is faster at every length"), std::uint64_t{0}), "tokens", break_even_rule);
  }
  if (p.disk) add_disk_rows(document, *p.disk);
  if (p.lmcache) {
    add_row(document, "offload_lmcache_staging_bytes", "LMCache GPU staging per GPU",
            Cell::of(format_bytes(p.lmcache->staging_bytes_per_gpu, units), p.lmcache->staging_bytes_per_gpu.value), "bytes",
            fmt::format("cache_context.py:_TempGPUBuffer: 4 chunks x {} B, allocated by the server on each GPU after vLLM "
                        "has sized its KV cache: it comes out of the memory vLLM left free (1 - "
                        "gpu_memory_utilization), not out of the KV cache",
                        p.lmcache->object_bytes.value));
  }
}

std::string offload_server_command(const OffloadPlan& plan) {
  if (!plan.lmcache) return "";
  // v1/distributed/config.py: a bare --l1-size-gb needs --eviction-policy; the size is GiB (x 2^30).
  return fmt::format("lmcache server --l1-size-gb {} --eviction-policy LRU --chunk-size {}",
                     static_cast<double>(plan.cpu_bytes.value) / static_cast<double>(std::uint64_t{1} << 30),
                     plan.lmcache->chunk_tokens);
}

std::string offload_launch_flags(const OffloadPlan& plan, const std::string& disk_dir) {
  if (!plan.disk) {
    // vLLM turns offloading on only with a size, which it passes on to the native backend alone.
    return fmt::format(" --kv-offloading-size {} --kv-offloading-backend {}",
                       static_cast<double>(plan.cpu_bytes.value) / static_cast<double>(std::uint64_t{1} << 30),
                       plan.lmcache ? "lmcache" : "native");
  }
  // --kv-offloading-size cannot name a secondary tier (config/vllm.py:_post_init_kv_transfer_config
  // fills cpu_bytes_to_use only), so the whole connector config is spelled out.
  nlohmann::ordered_json config;
  config["kv_connector"] = "OffloadingConnector";
  config["kv_role"] = "kv_both";
  config["kv_connector_extra_config"] = {
      {"spec_name", "TieringOffloadingSpec"},
      {"cpu_bytes_to_use", plan.cpu_bytes.value},
      {"secondary_tiers", nlohmann::ordered_json::array({{{"type", "fs"}, {"root_dir", disk_dir}}})}};
  std::string quoted;
  for (const char c : config.dump()) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return " --kv-transfer-config '" + quoted + "'";
}

}  // namespace kvplan::report
