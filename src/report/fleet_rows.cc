#include "report/fleet_rows.h"

#include <algorithm>
#include <cctype>
#include <vector>

#include <fmt/format.h>

#include "report/format.h"

namespace kvplan::report {
namespace {

// "TP 1 x DP 8 + EP 8" -> "tp1_dp8_ep8", a JSON key.
std::string layout_key(const std::string& layout) {
  std::string key = "fleet_";
  for (char c : layout) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (c == 'x' || c == '+') {
      if (key.back() != '_') key += '_';
    }
  }
  return key;
}

std::string deployment_rule(const FleetOption& option, const FleetView& view) {
  const Parallelism& d = option.deployment;
  std::string held = d.dp > 1 ? fmt::format("{} requests per DP rank x DP {} = {} per {}-GPU deployment",
                                            option.requests_per_rank, d.dp, option.requests_per_deployment, d.gpus())
                              : fmt::format("{} requests per {}-GPU deployment", option.requests_per_deployment, d.gpus());
  std::string why;
  if (d.dcp > 1) why = fmt::format("; each rank caches 1/{} of every request's tokens", d.dcp);
  if (option.dp_attention) {
    why = fmt::format("; each of the {} ranks caches only its own requests (SGLang --attn-dp-size {})", d.tp, d.tp);
  }
  if (d.expert_dp > 1) {
    why = fmt::format("; each DP rank caches only its own requests, the routed experts split over {} ranks",
                      d.expert_ranks());
  }
  return fmt::format("{}, {} KV per request per rank{}; ceil({} / {}) = {} deployment{} x {} GPUs", held,
                     format_bytes(option.kv_per_request_per_rank, view.units), why, view.concurrency,
                     option.requests_per_deployment, option.deployments, option.deployments == 1 ? "" : "s", d.gpus());
}

}  // namespace

void add_fleet_rows(Document& document, const FleetSearch& search, const FleetView& view) {
  std::vector<FleetOption> shown = search.options;
  std::stable_sort(shown.begin(), shown.end(),
                   [](const FleetOption& a, const FleetOption& b) { return a.gpus() < b.gpus(); });
  for (const FleetOption& option : shown) {
    const bool best = search.best && option.layout == search.best->layout;
    if (!view.explain && !best && option.deployment.gpus() != view.fleet_gpus) continue;
    document.rows.push_back({Cell::of(layout_key(option.layout)), Cell::of(std::string(" ")),
                             Cell::of(fmt::format("{}{}: {} a deployment, {} per request per rank", option.layout,
                                                  best ? " (fewest)" : "", option.requests_per_deployment,
                                                  format_bytes(option.kv_per_request_per_rank, view.units))),
                             Cell::of(format_count(option.gpus()) + " GPUs", option.gpus()), Cell::of(std::string("GPUs")),
                             Cell::of(deployment_rule(option, view))});
  }
  if (search.best) {
    const FleetOption& best = *search.best;
    document.notes.push_back(fmt::format(
        "smallest fleet for {} concurrent requests: {} x {} as {} deployment{} of {} ({} requests each, {} in all)",
        view.concurrency, best.gpus(), view.gpu_name, best.deployments, best.deployments == 1 ? "" : "s", best.layout,
        best.requests_per_deployment, best.holds));
  } else {
    document.notes.push_back(fmt::format("no fleet of {} with TP <= 8, PP <= 8 and at most 100000 deployments holds {} "
                                         "requests of {} tokens",
                                         view.gpu_name, view.concurrency, view.max_model_len));
  }
  if (view.explain) {
    for (const std::string& rejected : search.rejected) document.notes.push_back("fleet layout refused: " + rejected);
  } else if (search.options.size() > 1) {
    document.notes.push_back("--explain lists every layout the fleet search tried, and why the others were refused");
  }
}

}  // namespace kvplan::report
