#include "report/disagg_document.h"

#include <fmt/format.h>

#include "report/format.h"

namespace kvplan::report {
namespace {

std::string seconds(double s) { return s < 1 ? fmt::format("{:.2f} ms", s * 1e3) : fmt::format("{:.2f} s", s); }

Cell bytes_cell(Bytes bytes, UnitSystem units) { return Cell::of(format_bytes(bytes, units), bytes.value); }
Cell seconds_cell(double s) { return Cell::of(seconds(s), s); }
Cell number_cell(double value, const char* format) { return Cell::of(fmt::format(fmt::runtime(format), value), value); }

std::string tp_label(std::uint32_t tp, std::uint32_t instances) {
  return instances == 1 ? fmt::format("TP {}", tp) : fmt::format("{} x TP {}", instances, tp);
}

// Who holds what on the decode side, in words.
std::string layout_note(const KvTransfer& t) {
  if (t.mla) {
    return fmt::format("MLA: every decode rank holds the whole latent, so each of the {} decode ranks reads a full copy "
                       "({} copies on the wire, {} sending prefill rank{})",
                       t.decode_tp, t.decode_tp, t.sending_ranks, t.sending_ranks == 1 ? "" : "s");
  }
  if (t.heads_replicated) {
    return fmt::format("{} K/V heads on decode TP {}: heads are replicated, each on {} ranks, and every rank reads its own "
                       "copy",
                       t.kv_heads, t.decode_tp, t.decode_tp / t.kv_heads);
  }
  if (t.prefill_tp > t.decode_tp) {
    return fmt::format("{} K/V heads regroup from prefill TP {} to decode TP {}: each decode rank gathers its {} heads "
                       "from {} prefill ranks",
                       t.kv_heads, t.prefill_tp, t.decode_tp, t.decode_heads_per_rank, t.reads_per_decode_rank);
  }
  return fmt::format("{} K/V heads regroup from prefill TP {} to decode TP {}: each decode rank reads its {} head{} "
                     "from one prefill rank",
                     t.kv_heads, t.prefill_tp, t.decode_tp, t.decode_heads_per_rank,
                     t.decode_heads_per_rank == 1 ? "" : "s");
}

std::vector<std::string> explain_notes(const DisaggPlan& p) {
  const KvTransfer& t = p.transfer;
  return {
      fmt::format("blocks = ceil(ISL {} / prefill block {}) = {} (whole blocks are read)", p.isl, t.prefill_block, t.blocks),
      fmt::format("per decode rank = {} blocks x {} tokens x {} B per token per layer on the rank x {} layers = {} B",
                  t.blocks, t.prefill_block, t.rank_bytes_per_token_layer, t.layers, t.per_receiving_rank.value),
      fmt::format("on the wire = {} B x decode TP {} = {} B; one copy = {} B x {} distinct share{} = {} B; extra = {} B",
                  t.per_receiving_rank.value, t.decode_tp, t.on_wire.value, t.per_receiving_rank.value,
                  t.distinct_shares, t.distinct_shares == 1 ? "" : "s", t.one_copy.value, t.extra_on_wire.value),
      fmt::format("per sending prefill rank = {} B / {} sending rank{} = {} B", t.on_wire.value, t.sending_ranks,
                  t.sending_ranks == 1 ? "" : "s", t.per_sending_rank.value),
      fmt::format("transfer = max(receive {} B, send {} B) / {:.0f} GB/s = {:.6f} s; one link: 1 / {:.6f} = {:.2f} "
                  "requests/s",
                  t.per_receiving_rank.value, t.per_sending_rank.value, p.link.bytes_per_s / 1e9, p.transfer_s,
                  p.transfer_s, p.link_requests_per_s),
      fmt::format("prefill >= (2 x N {} (active {} - embedding and head {}) x {} + attention {:.6g} x {}^2) FLOPs / "
                  "({:.6g} FLOP/s bf16 dense x TP {}) = {:.6g} FLOPs / {:.6g} FLOP/s = {:.6f} s",
                  p.prefill.matmul_params, p.prefill.active_params, p.prefill.embedding_params, p.isl,
                  p.prefill.attention_flops_per_token2, p.isl, p.prefill.peak_flops_per_s / p.prefill.tp, p.prefill.tp,
                  p.prefill.flops, p.prefill.peak_flops_per_s, p.prefill.seconds),
      fmt::format("prefill requests/s per GPU = 1 / ({:.6f} s x {} GPUs) = {:.4f}", p.prefill.seconds,
                  p.prefill_gpus_per_instance, p.prefill_requests_per_s_per_gpu),
      fmt::format("decode step >= (weights {} B + KV {} B per rank) / HBM {:.4g} B/s = {:.6f} s with {} requests at "
                  "ctx {} (fit)",
                  p.decode.weights_per_step.value, p.decode.kv_per_step.value, p.decode_hbm_bytes_per_s,
                  p.decode.step_seconds, p.decode_concurrency, p.isl + p.osl),
      fmt::format("decode requests/s per instance = {} / (OSL {} x {:.6f} s) = {:.4f}; per GPU / {} = {:.4f}",
                  p.decode_concurrency, p.osl, p.decode.step_seconds, p.decode_requests_per_s_per_instance,
                  p.decode_gpus_per_instance, p.decode_requests_per_s_per_gpu),
      fmt::format("P:D = decode {:.4f} / prefill {:.4f} requests/s per GPU = {:.4f} prefill GPUs per decode GPU",
                  p.decode_requests_per_s_per_gpu, p.prefill_requests_per_s_per_gpu, p.prefill_gpus_per_decode_gpu),
  };
}

}  // namespace

Document disagg_document(const DisaggContext& context, const DisaggPlan& chosen, const std::vector<DisaggPlan>& sweep,
                         const std::vector<std::string>& skipped) {
  const DisaggPlan& p = chosen;
  const KvTransfer& t = p.transfer;
  const UnitSystem units = context.units;
  Document document;
  document.command = "disagg";
  document.title = fmt::format("{}: prefill {} ({}) -> decode {} ({}) over {}", context.model, context.prefill_fleet,
                               tp_label(t.prefill_tp, p.prefill_instances), context.decode_fleet,
                               tp_label(t.decode_tp, p.decode_instances), p.link.name);
  document.facts = {
      {"isl_tokens", "ISL / OSL", Cell::of(fmt::format("{} / {} tokens", format_thousands(p.isl), format_thousands(p.osl)), p.isl)},
      {"kv_per_decode_rank_bytes", "KV per request, each decode rank receives", bytes_cell(t.per_receiving_rank, units)},
      {"kv_per_prefill_rank_bytes", "KV per request, each sending prefill rank",
       Cell::of(fmt::format("{} ({} of {} prefill ranks send)", format_bytes(t.per_sending_rank, units), t.sending_ranks,
                            t.prefill_tp),
                t.per_sending_rank.value)},
      {"kv_on_wire_bytes", "KV per request on the wire",
       Cell::of(fmt::format("{} ({} more than one copy of {})", format_bytes(t.on_wire, units),
                            format_bytes(t.extra_on_wire, units), format_bytes(t.one_copy, units)),
                t.on_wire.value)},
      {"transfer_s", "transfer time per request",
       Cell::of(fmt::format("{} over {} ({:.0f} GB/s per direction)", seconds(p.transfer_s), p.link.name,
                            p.link.bytes_per_s / 1e9),
                p.transfer_s)},
      {"link_requests_per_s", "requests/s one link sustains", number_cell(p.link_requests_per_s, "{:.1f}")},
      {"prefill_s", "prefill time per request, bound", Cell::of(">= " + seconds(p.prefill.seconds), p.prefill.seconds)},
      {"decode_concurrency", "decode concurrency per instance",
       Cell::of(fmt::format("{} requests at ctx {} (fit)", p.decode_concurrency, format_thousands(p.isl + p.osl)),
                p.decode_concurrency)},
      {"decode_step_s", "decode step, bound", Cell::of(">= " + seconds(p.decode.step_seconds), p.decode.step_seconds)},
      {"decode_requests_per_s", "decode requests/s per instance, bound",
       number_cell(p.decode_requests_per_s_per_instance, "{:.2f}")},
      {"prefill_gpus_per_decode_gpu", "P:D GPU ratio",
       Cell::of(fmt::format("{:.2f} prefill GPUs per decode GPU", p.prefill_gpus_per_decode_gpu),
                p.prefill_gpus_per_decode_gpu)},
  };
  document.columns = {
      {"isl_tokens", "ISL", Align::right},
      {"kv_per_decode_rank_bytes", "KV per decode rank", Align::right},
      {"kv_per_prefill_rank_bytes", "KV per prefill rank", Align::right},
      {"kv_on_wire_bytes", "KV on the wire", Align::right},
      {"transfer_s", "transfer", Align::right},
      {"prefill_s", "prefill >=", Align::right},
      {"decode_concurrency", "decode conc.", Align::right},
      {"decode_step_s", "step >=", Align::right},
      {"decode_requests_per_s", "decode req/s", Align::right},
      {"prefill_gpus_per_decode_gpu", "P:D GPUs", Align::right},
      {"osl_tokens", "OSL", Align::right, true},
      {"kv_one_copy_bytes", "one copy", Align::right, true},
      {"kv_extra_on_wire_bytes", "extra on the wire", Align::right, true},
      {"link_requests_per_s", "link req/s", Align::right, true},
      {"prefill_requests_per_s_per_gpu", "prefill req/s per GPU", Align::right, true},
      {"decode_requests_per_s_per_gpu", "decode req/s per GPU", Align::right, true},
  };
  for (const DisaggPlan& row : sweep) {
    document.rows.push_back({Cell::of(format_count(row.isl), row.isl), bytes_cell(row.transfer.per_receiving_rank, units),
                             bytes_cell(row.transfer.per_sending_rank, units), bytes_cell(row.transfer.on_wire, units),
                             seconds_cell(row.transfer_s), seconds_cell(row.prefill.seconds),
                             Cell::of(row.decode_concurrency), seconds_cell(row.decode.step_seconds),
                             number_cell(row.decode_requests_per_s_per_instance, "{:.2f}"),
                             number_cell(row.prefill_gpus_per_decode_gpu, "{:.2f}"), Cell::of(row.osl),
                             Cell::of(row.transfer.one_copy.value), Cell::of(row.transfer.extra_on_wire.value),
                             number_cell(row.link_requests_per_s, "{:.2f}"),
                             number_cell(row.prefill_requests_per_s_per_gpu, "{:.4f}"),
                             number_cell(row.decode_requests_per_s_per_gpu, "{:.4f}")});
  }
  document.notes.push_back(layout_note(t));
  document.notes.push_back(fmt::format(
      "link: {}; each decode rank (and each prefill rank) has its own NIC, so ranks transfer in parallel and the slower "
      "end sets the time",
      p.link.source));
  document.notes.push_back("prefill and decode times are bounds (datasheet bf16 peak, datasheet HBM bandwidth): real ones "
                           "are longer; the P:D ratio balances prefill requests/s per GPU against decode requests/s per "
                           "GPU, each request holding a decode slot for OSL steps");
  for (const std::string& note : skipped) document.notes.push_back(note);
  if (context.explain) {
    for (std::string& note : explain_notes(p)) document.notes.push_back(std::move(note));
  }
  return document;
}

}  // namespace kvplan::report
