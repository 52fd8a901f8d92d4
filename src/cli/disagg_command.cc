// `kvplan disagg`: disaggregated prefill/decode. The KV one request moves from the prefill pool to
// the decode pool, the time it takes, and the prefill:decode GPU ratio, at one ISL and over a
// sweep of ISLs.
#include <ostream>

#include "cli/checkpoint_model.h"
#include "cli/context.h"
#include "core/disagg_sweep.h"
#include "core/error.h"
#include "core/weights.h"
#include "report/disagg_document.h"
#include "report/model_label.h"

namespace kvplan::cli {
namespace {

struct DisaggOptions {
  ModelOption model;
  std::string isl;
  std::string osl;
  std::string prefill;
  std::string decode;
  std::string link = "ib-400g";
  std::string kv_dtype = "bf16";
  std::string weights_dtype = "auto";
  std::string isl_sweep;
  bool explain = false;
  OutputOptions output;
};

// The ISLs of the table: --isl-sweep or the default sweep, with the requested ISL among them.
std::vector<std::uint64_t> sweep_isls(const DisaggOptions& options, std::uint64_t isl, std::uint64_t osl,
                                      const ModelShape& shape) {
  std::vector<std::uint64_t> isls{isl};
  if (options.isl_sweep.empty()) {
    for (std::uint64_t tokens : default_disagg_isls(osl, shape)) isls.push_back(tokens);
  } else {
    for (const std::string& item : split_list(options.isl_sweep, "--isl-sweep")) {
      isls.push_back(parse_tokens(item, "--isl-sweep").value);
    }
  }
  return isls;
}

void run_disagg(Context& context, const DisaggOptions& options) {
  const report::Format format = options.output.parsed_format();
  const UnitSystem units = options.output.parsed_units();
  if (options.isl.empty() || options.osl.empty()) throw Error("--isl and --osl are required: prompt and output tokens per request");
  if (options.prefill.empty() || options.decode.empty()) {
    throw Error("--prefill and --decode are required: GPU:N[:tpT], e.g. --prefill h200:8 --decode h200:8:tp8");
  }
  const std::uint64_t isl = parse_tokens(options.isl, "--isl").value;
  const std::uint64_t osl = parse_tokens(options.osl, "--osl").value;
  const Link link = parse_link(options.link, LinkUse::network);
  const KvDtype kv_dtype = parse_kv_dtype(options.kv_dtype);
  const SweepFleet prefill = parse_fleet(options.prefill, context, "--prefill");
  const SweepFleet decode = parse_fleet(options.decode, context, "--decode");
  SelectedModel model = select_model(context, options.model);
  drop_checkpoint_unless_auto(model.shape, options.weights_dtype);
  const ModelShape& shape = model.shape;
  if (shape.max_position_embeddings != 0 && isl + osl > shape.max_position_embeddings) {
    throw Error("--isl " + options.isl + " + --osl " + options.osl + " is more than " + model.label.name + "'s " +
                std::to_string(shape.max_position_embeddings) + " tokens (max_position_embeddings)");
  }
  const DisaggSetup setup{&prefill, &decode, link, kv_dtype, resolve_weights_dtype(options.weights_dtype, shape)};
  const DisaggPlan chosen = plan_disagg_at(shape, isl, osl, setup);
  const DisaggSweep sweep = sweep_disagg(shape, sweep_isls(options, isl, osl, shape), osl, setup);
  const report::DisaggContext document_context{model.label.name, prefill.label, decode.label, options.explain, units};
  report::Document document = report::disagg_document(document_context, chosen, sweep.plans, sweep.skipped);
  report::add_model_notes(document, setup.weights, shape);
  report::write_document(document, format, context.out);
}

}  // namespace

void add_disagg_command(CLI::App& app, Context& context, std::vector<Command>& commands) {
  auto options = std::make_shared<DisaggOptions>();
  CLI::App* command = app.add_subcommand(
      "disagg", "Disaggregated prefill/decode: KV bytes moved per request, transfer time, prefill:decode GPU ratio");
  command->footer(
      "\nA prefill instance computes the prompt's KV; each decode rank reads its share over the network, as vLLM's\n"
      "NIXL connector and SGLang's disaggregation do. Whole prefill blocks are read. K/V heads regroup when the\n"
      "two TPs differ (a decode rank reads its heads from one prefill rank, or gathers them from several); with\n"
      "more decode ranks than K/V heads, heads are replicated and each copy is read. MLA keeps the whole latent on\n"
      "every rank, so every decode rank reads a full copy: the wire carries decode-TP copies. Each rank has its\n"
      "own NIC; the transfer time is the slower end's bytes over the link's datasheet line rate.\n"
      "The prefill time is a bound (FLOPs at the bf16 dense peak), the decode concurrency is 'kvplan fit' at\n"
      "ctx = ISL + OSL (vLLM's rules), the decode step its bandwidth bound (weights + KV per step / HBM). The\n"
      "P:D ratio is the prefill GPUs that keep one decode GPU busy: decode requests/s per GPU over prefill\n"
      "requests/s per GPU. The table repeats it over ISLs. Fleets are GPU:N[:tpT] (default TP = N); a TP below N\n"
      "makes N / T instances. docs/engines.md (\"Disaggregated prefill/decode\") cites every rule.\n"
      "\nLinks (datasheet, per direction): nvlink 450 GB/s, ib-400g 50 GB/s (400 Gb/s), roce-200g 25 GB/s, or <N>GBps.\n"
      "\nExamples:\n"
      "  kvplan disagg --model deepseek-v3 --isl 8k --osl 1k --prefill h200:8 --decode h200:8:tp8 --link ib-400g\n"
      "  kvplan disagg --model llama-3.1-70b --isl 4k --osl 512 --prefill h100-sxm:2 --decode h100-sxm:8 --explain\n"
      "  kvplan disagg --model llama-3.1-70b --isl 4k --osl 512 --prefill h100-sxm:8 --decode h100-sxm:8:tp2 "
      "--isl-sweep 1k,4k,16k --format csv");
  add_model_option(*command, options->model);
  command->add_option("--isl", options->isl, "Prompt tokens per request (e.g. 8k)");
  command->add_option("--osl", options->osl, "Output tokens per request (e.g. 1k)");
  command->add_option("--prefill", options->prefill, "Prefill pool GPU:N[:tpT], e.g. h200:8 (TP 8) or h200:8:tp4 (2 instances)");
  command->add_option("--decode", options->decode, "Decode pool GPU:N[:tpT], e.g. h200:8:tp8");
  command->add_option("--link", options->link, "nvlink, ib-400g, roce-200g or <N>GBps (per rank, per direction)")
      ->capture_default_str();
  command->add_option("--kv-dtype", options->kv_dtype, "Cache dtype on both sides, as for 'kvplan fit'")->capture_default_str();
  command->add_option("--weights-dtype", options->weights_dtype, "As for 'kvplan fit'")->capture_default_str();
  command->add_option("--isl-sweep", options->isl_sweep,
                      "ISLs of the table, comma-separated (default: 1k, 2k, 4k, ... up to the model's context less OSL)");
  command->add_flag("--explain", options->explain, "Show each formula with its values, at --isl");
  add_output_options(*command, options->output);
  commands.push_back({command, [&context, options] { run_disagg(context, *options); }});
}

}  // namespace kvplan::cli
