#include "core/sglang_rules.h"

#include <array>
#include <charconv>
#include <tuple>

#include "core/error.h"
#include "core/speculative.h"

namespace kvplan {
namespace {

// Newest first; the first row is what `--engine sglang` means. docs/engines-sglang.md ("14. Older
// releases") cites each value in the releases' own code.
constexpr std::array<SglangRules, 11> kReleases{{
    {.first = "0.5.23", .last = "0.5.23", .fraction = SglangFraction::reserve_formula, .mid_chunk = 4096,
     .mid_max_bs_small_tp = 48, .mid_max_bs_large_tp = 160, .prefill_graph = true, .prefill_graph_off_with_pp = true,
     .current = true},
    {.first = "0.5.20", .last = "0.5.22", .fraction = SglangFraction::reserve_formula, .mid_chunk = 4096,
     .mid_max_bs_small_tp = 48, .mid_max_bs_large_tp = 160, .prefill_graph = true, .prefill_graph_off_with_pp = true},
    {.first = "0.5.19", .last = "0.5.19", .fraction = SglangFraction::reserve_formula, .mid_max_bs_small_tp = 24,
     .prefill_graph = true, .prefill_graph_off_with_pp = true},
    {.first = "0.5.18", .last = "0.5.18", .fraction = SglangFraction::reserve_formula, .mid_max_bs_small_tp = 24,
     .prefill_graph = true},
    {.first = "0.5.17", .last = "0.5.17", .fraction = SglangFraction::reserve_formula, .mid_max_bs_small_tp = 24,
     .prefill_graph = true, .prefill_graph_off_with_mla = true},
    {.first = "0.5.15", .last = "0.5.16", .fraction = SglangFraction::reserve_formula, .mid_max_bs_small_tp = 24,
     .prefill_graph = true, .prefill_graph_off_with_dp_attention = true, .prefill_graph_off_with_mla = true},
    {.first = "0.5.13", .last = "0.5.14", .fraction = SglangFraction::reserve_formula, .mid_max_bs_small_tp = 24,
     .prefill_graph = true, .prefill_graph_off_with_pp = true, .prefill_graph_off_with_dp_attention = true},
    {.first = "0.5.10", .last = "0.5.12", .fraction = SglangFraction::reserve_formula, .mid_max_bs_small_tp = 24,
     .prefill_graph = true, .prefill_graph_off_with_pp = true, .prefill_graph_off_with_dp_attention = true,
     .log_dtype = false},
    {.first = "0.5.5", .last = "0.5.9", .fraction = SglangFraction::reserve_formula, .mid_max_bs_small_tp = 24,
     .log_dtype = false},
    {.first = "0.5.3", .last = "0.5.4", .fraction = SglangFraction::reserve_formula, .log_dtype = false},
    {.first = "0.4.7.post1", .last = "0.5.2", .fraction = SglangFraction::reserve_by_gpu, .log_dtype = false},
}};

// (major, minor, patch, post): "0.4.7.post1" -> (0, 4, 7, 1). A release candidate counts as the
// release it leads to ("0.5.2rc2" -> 0.5.2). Empty when the text is not a release number.
using Release = std::tuple<int, int, int, int>;
std::optional<Release> parse_release(std::string_view text) {
  int parts[4] = {0, 0, 0, 0};
  const char* at = text.data();
  const char* end = text.data() + text.size();
  for (int i = 0; i < 3; ++i) {
    const auto [next, error] = std::from_chars(at, end, parts[i]);
    if (error != std::errc() || next == at) return std::nullopt;
    at = next;
    if (i < 2) {
      if (at == end || *at != '.') return std::nullopt;
      ++at;
    }
  }
  const std::string_view rest(at, static_cast<std::size_t>(end - at));
  if (rest.empty()) return Release{parts[0], parts[1], parts[2], 0};
  const std::string_view number = rest.starts_with(".post") ? rest.substr(5) : rest.starts_with("rc") ? rest.substr(2) : "";
  int suffix = 0;
  if (number.empty() || std::from_chars(number.data(), number.data() + number.size(), suffix).ptr != number.data() + number.size()) {
    return std::nullopt;
  }
  return Release{parts[0], parts[1], parts[2], rest.starts_with(".post") ? suffix : 0};
}

Release release_of(std::string_view text) { return *parse_release(text); }

bool before(std::string_view version, std::string_view release) {
  return !version.empty() && release_of(version) < release_of(release);
}

}  // namespace

const SglangRules& sglang_rules(std::string_view version) {
  if (version.empty()) return kReleases.front();
  const std::optional<Release> release = parse_release(version);
  if (release) {
    for (const SglangRules& rules : kReleases) {
      // A post-release of a row's last release keeps its rules (0.5.4.post3 is 0.5.4's row).
      const Release last = release_of(rules.last);
      const bool up_to_last = std::make_tuple(std::get<0>(*release), std::get<1>(*release), std::get<2>(*release)) <=
                              std::make_tuple(std::get<0>(last), std::get<1>(last), std::get<2>(last));
      if (release_of(rules.first) <= *release && up_to_last) return rules;
    }
  }
  throw Error("--engine sglang@" + std::string(version) + ": kvplan knows the rules of SGLang " +
              known_sglang_versions() + "; name a release such as sglang@0.5.10 (docs/engines-sglang.md lists what "
              "changed when)");
}

std::string known_sglang_versions() {
  return std::string(kReleases.front().last) + " (default), " + std::string(kReleases.back().first) + " to " +
         std::string(kReleases[1].last);
}

void check_sglang_release(const SglangRules& rules, std::string_view version, const ModelShape& shape,
                          const GpuSpec& gpu, const FitRequest& request) {
  if (rules.current) return;
  const std::string who = "--engine sglang@" + std::string(version) + ": kvplan plans SGLang releases before " +
                          std::string(kReleases.front().first) + " for plain full-attention pools only, and ";
  auto refuse = [&](const std::string& what) {
    throw Error(who + what + "; use --engine sglang (" + std::string(kReleases.front().first) + ")");
  };
  if (gpu.architecture != GpuArchitecture::hopper && gpu.architecture != GpuArchitecture::ampere &&
      gpu.architecture != GpuArchitecture::ada) {
    refuse("has read their attention backends and page sizes on NVIDIA Ampere, Ada and Hopper GPUs only, not " +
           gpu.device_name);
  }
  if (request.include_mtp || request.speculative.method != SpeculativeMethod::none) {
    refuse("not their speculative decoding (a reserve term and a draft pool of its own before 0.5.14)");
  }
  if (shape.state || shape.layer_count(LayerAttention::state) > 0) refuse("not their state pools");
  if (shape.sliding_layer_count() > 0) refuse("not their sliding-window layers");
  if (shape.layer_count(LayerAttention::chunked) > 0) refuse("not their chunked-attention layers");
  if (shape.multimodal) refuse("not their multimodal defaults (image-encoder reserve, prefill graph)");
  if (request.parallel.dcp > 1) refuse("not --dcp-size");
  if (request.variant.kind == VariantKind::mla && request.parallel.pp > 1 && before(version, "0.5.1")) {
    throw Error("--engine sglang@" + std::string(version) + ": SGLang before 0.5.1 asserts pp_size == 1 for an MLA "
                "model (model_runner.py); use --pp 1 or a later release");
  }
}

}  // namespace kvplan
