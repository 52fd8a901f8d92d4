#include "report/disagg_section.h"

#include <fmt/format.h>

#include "core/disagg_sweep.h"
#include "core/error.h"
#include "report/charts/charts.h"
#include "report/format.h"

namespace kvplan::report {
namespace {

std::string seconds(double s) { return s < 1 ? fmt::format("{:.2f} ms", s * 1e3) : fmt::format("{:.2f} s", s); }

nlohmann::ordered_json plan_json(const std::string& model, const DisaggPlan& p) {
  return {{"model", model},
          {"isl_tokens", p.isl},
          {"osl_tokens", p.osl},
          {"kv_per_decode_rank_bytes", p.transfer.per_receiving_rank.value},
          {"kv_per_prefill_rank_bytes", p.transfer.per_sending_rank.value},
          {"kv_on_wire_bytes", p.transfer.on_wire.value},
          {"transfer_s", p.transfer_s},
          {"prefill_s", p.prefill.seconds},
          {"decode_concurrency", p.decode_concurrency},
          {"decode_step_s", p.decode.step_seconds},
          {"prefill_gpus_per_decode_gpu", p.prefill_gpus_per_decode_gpu}};
}

}  // namespace

std::string disagg_section(const std::vector<ReportModel>& models, const ReportDisagg& disagg, KvDtype kv_dtype,
                           UnitSystem units, ReportFiles& files, nlohmann::ordered_json& json) {
  std::string text = "## Disaggregated prefill/decode\n\n";
  text += fmt::format(
      "Prefill pool {}, decode pool {}, {} output tokens per request, KV over {} ({:.0f} GB/s per direction), {} "
      "cache: each row is what `kvplan disagg --isl ISL --osl {} --prefill {} --decode {} --link {} --kv-dtype {}` "
      "prints for that model. Prefill and decode times are bounds (datasheet peaks), so the P:D ratio is the "
      "balance of two bounds; decode concurrency is `kvplan fit` at ctx = ISL + OSL.\n\n",
      disagg.prefill.label, disagg.decode.label, disagg.osl, disagg.link.name, disagg.link.bytes_per_s / 1e9,
      to_string(kv_dtype), disagg.osl, disagg.prefill.label, disagg.decode.label, disagg.link.name, to_string(kv_dtype));
  text += "| model | ISL | KV per decode rank | KV on the wire | transfer | prefill >= | decode conc. | P:D GPUs |\n"
          "| :--- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n";
  std::vector<std::string> left_out;
  std::vector<charts::LineSeries> lines;
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  for (const ReportModel& model : models) {
    const ModelShape& shape = *model.shape;
    const std::vector<std::uint64_t> isls = default_disagg_isls(disagg.osl, shape);
    DisaggSweep sweep;
    try {
      const DisaggSetup setup{&disagg.prefill, &disagg.decode, disagg.link, kv_dtype, resolve_weights_dtype("auto", shape),
                              "--disagg-prefill", "--disagg-decode"};
      // A model the pools refuse at the shortest ISL (its layers, its weights) is left out once.
      if (!isls.empty()) plan_disagg_at(shape, isls.front(), disagg.osl, setup);
      sweep = sweep_disagg(shape, isls, disagg.osl, setup);
    } catch (const Error& error) {
      left_out.push_back(model.label.name + ": " + error.what());
      continue;
    }
    charts::LineSeries line{model.label.name, {}, {}};
    for (const DisaggPlan& p : sweep.plans) {
      text += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {:.2f} |\n", model.label.name, format_count(p.isl),
                          format_bytes(p.transfer.per_receiving_rank, units), format_bytes(p.transfer.on_wire, units),
                          seconds(p.transfer_s), seconds(p.prefill.seconds), p.decode_concurrency,
                          p.prefill_gpus_per_decode_gpu);
      rows.push_back(plan_json(model.label.name, p));
      if (p.prefill_gpus_per_decode_gpu > 0) {
        line.x.push_back(static_cast<double>(p.isl));
        line.y.push_back(p.prefill_gpus_per_decode_gpu);
      }
    }
    for (const std::string& note : sweep.skipped) left_out.push_back(model.label.name + ": " + note);
    if (!line.x.empty()) lines.push_back(std::move(line));
  }
  if (!left_out.empty()) {
    text += "\n";
    for (const std::string& note : left_out) text += "- left out: " + note + "\n";
  }
  const std::string title = fmt::format("Prefill GPUs per decode GPU, {} -> {}, OSL {}", disagg.prefill.label,
                                        disagg.decode.label, disagg.osl);
  files.files.push_back({"disagg_pd_ratio.svg", charts::pd_ratio_vs_isl(title, lines)});
  text += "\n![" + title + "](disagg_pd_ratio.svg)\n\n";
  json["disagg"] = {{"prefill", disagg.prefill.label},
                    {"decode", disagg.decode.label},
                    {"link", disagg.link.name},
                    {"osl_tokens", disagg.osl},
                    {"kv_dtype", std::string(to_string(kv_dtype))},
                    {"rows", rows}};
  return text;
}

}  // namespace kvplan::report
