#include "report/offload_rows.h"

#include <fmt/format.h>

#include "report/format.h"

namespace kvplan::report {
namespace {

void add_row(Document& document, std::string key, std::string item, Cell value, std::string unit, std::string rule) {
  document.rows.push_back({Cell::of(std::move(key)), Cell::of(std::string(" ")), Cell::of(std::move(item)),
                           std::move(value), Cell::of(std::move(unit)), Cell::of(std::move(rule))});
}

std::string seconds(double s) { return s < 1 ? fmt::format("{:.1f} ms", s * 1e3) : fmt::format("{:.2f} s", s); }

}  // namespace

void add_offload_rows(Document& document, const OffloadPlan& plan, UnitSystem units) {
  const OffloadPlan& p = plan;
  add_row(document, "offload_chunk_bytes", "CPU chunk (all ranks)", Cell::of(format_bytes(p.aligned_chunk_bytes, units), p.aligned_chunk_bytes.value),
          "bytes",
          fmt::format("CPUOffloadingSpec: round_up(page {} B x {} layers = {} B per block per rank, x {} rank{}, 4096) = {} B; "
                      "blocks_per_chunk 1, so a chunk is one GPU block of {} tokens",
                      p.page_bytes.value, p.layers, p.worker_bytes_per_block.value, p.world_size,
                      p.world_size == 1 ? "" : "s", p.aligned_chunk_bytes.value, p.block_size));
  add_row(document, "offload_cpu_chunks", "CPU chunks", Cell::of(p.cpu_chunks), "",
          fmt::format("floor(cpu_bytes_to_use {} B (--kv-offloading-size x 2^30, the total over the TP ranks) / {} B) = {}",
                      p.cpu_bytes.value, p.aligned_chunk_bytes.value, p.cpu_chunks));
  add_row(document, "offload_gpu_tokens", "tokens, GPU tier (per replica)", Cell::of(format_count(p.gpu_tokens) + " tokens", p.gpu_tokens),
          "tokens", "the GPU KV cache size above");
  add_row(document, "offload_cpu_tokens", "tokens, CPU tier (per replica)", Cell::of(format_count(p.cpu_tokens) + " tokens", p.cpu_tokens),
          "tokens",
          fmt::format("cpu/common.py:_kv_cache_size_tokens: {} chunks x {} // ceil({} / {}) = {} chunks per request = {}; "
                      "every rank holds its own slice of each token",
                      p.cpu_chunks, p.request_tokens, p.request_tokens, p.block_size, p.chunks_per_request, p.cpu_tokens));
  add_row(document, "offload_cpu_tokens_fleet", "tokens, CPU tier (fleet)", Cell::of(format_count(p.cpu_tokens_fleet) + " tokens", p.cpu_tokens_fleet),
          "tokens", fmt::format("{} x {} replica{}, each its own buffer", p.cpu_tokens, p.replicas, p.replicas == 1 ? "" : "s"));
  add_row(document, "offload_request_bytes_per_rank", "one request's KV per rank", Cell::of(format_bytes(p.request_bytes_per_rank, units), p.request_bytes_per_rank.value),
          "bytes", fmt::format("{} blocks x {} B = {} B", p.chunks_per_request, p.worker_bytes_per_block.value, p.request_bytes_per_rank.value));
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
}

std::string offload_launch_flags(const OffloadPlan& plan) {
  return fmt::format(" --kv-offloading-size {} --kv-offloading-backend native",
                     static_cast<double>(plan.cpu_bytes.value) / static_cast<double>(std::uint64_t{1} << 30));
}

}  // namespace kvplan::report
