// `kvplan size`: the KV cache of one model for each variant and one cache dtype.
#include <ostream>

#include "cli/context.h"
#include "core/state_bytes.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/kv_size.h"
#include "core/variant.h"
#include "core/compressed_mla.h"
#include "report/compressed_size_document.h"
#include "report/size_document.h"

namespace kvplan::cli {
namespace {

struct SizeOptions {
  ModelOption model;
  std::string ctx;
  std::string batch = "1";
  std::string variant = "all";
  std::string kv_dtype = "bf16";
  std::string kv_scales = "per-tensor";
  bool mtp = false;
  std::string mamba_ssm_cache_dtype;
  bool explain = false;
  OutputOptions output;
};

// DeepSeek-V4: a table of its caches; the variants do not apply to a shared compressed latent.
void run_compressed_size(Context& context, const SizeOptions& options, const SelectedModel& model,
                         const SizeRequest& request) {
  if (options.variant != "all" && options.variant != "native") {
    throw Error("--variant " + options.variant + ": " + model.label.name +
                " caches one compressed latent shared by all heads (DeepSeek-V4), so there are no attention variants "
                "to compare; leave --variant out");
  }
  if (request.scales != KvScales::per_tensor) {
    throw Error("--kv-scales " + options.kv_scales + ": DeepSeek-V4's latent layouts carry their own scales");
  }
  report::CompressedSizeQuery query{request.ctx.value, request.batch, request.dtype,
                                    request.include_mtp ? model.shape.num_nextn_predict_layers : 0};
  const CompressedSize size =
      compressed_size(*model.shape.compressed_mla, query.dtype, query.ctx, query.batch, query.mtp_layers);
  report::Format format = options.output.parsed_format();
  UnitSystem units = options.output.parsed_units();
  report::Document document = report::compressed_size_document(model.label, model.shape, query, size, units);
  if (options.ctx.empty()) {
    document.notes.insert(document.notes.begin(), "--ctx not given: using the model's max_position_embeddings (" +
                                                      std::to_string(query.ctx) + "), as vLLM does for --max-model-len");
  }
  report::write_document(document, format, context.out);
  if (options.explain) {
    bool machine = format == report::Format::csv || format == report::Format::json;
    report::write_compressed_size_explanation(model.shape, query, size, units, machine ? context.err : context.out);
  }
}

void run_size(Context& context, const SizeOptions& options) {
  report::Format format = options.output.parsed_format();
  UnitSystem units = options.output.parsed_units();
  SizeRequest request;
  request.batch = parse_count(options.batch, "--batch");
  request.dtype = parse_kv_dtype(options.kv_dtype);
  request.scales = parse_kv_scales(options.kv_scales);
  request.include_mtp = options.mtp;
  request.mamba_ssm_cache_dtype = parse_mamba_ssm_cache_dtype(options.mamba_ssm_cache_dtype);
  std::vector<VariantRequest> variant_requests = parse_variants(options.variant);
  if (!options.ctx.empty()) request.ctx = parse_tokens(options.ctx, "--ctx");

  SelectedModel model = select_model(context, options.model);
  if (options.ctx.empty()) {
    if (model.shape.max_position_embeddings == 0) {
      throw Error("--ctx is required: " + model.label.name + " does not state max_position_embeddings");
    }
    request.ctx = Tokens{model.shape.max_position_embeddings};
  }
  if (options.mtp && model.shape.num_nextn_predict_layers == 0) {
    throw Error("--mtp: " + model.label.name + " has no MTP layers (num_nextn_predict_layers is 0 or absent)");
  }
  if (model.shape.compressed_mla) {
    run_compressed_size(context, options, model, request);
    return;
  }
  std::vector<std::string> skipped;
  std::vector<ResolvedVariant> variants = resolve_variants(variant_requests, model.shape, &skipped);
  SizeReport size = compute_kv_size(model.shape, variants, request);
  size.notes.insert(size.notes.end(), skipped.begin(), skipped.end());

  report::Document document = report::size_document(model.label, model.shape, size, units);
  if (options.ctx.empty()) {
    document.notes.insert(document.notes.begin(),
                          "--ctx not given: using the model's max_position_embeddings (" +
                              std::to_string(request.ctx.value) + "), as vLLM does for --max-model-len");
  }
  report::write_document(document, format, context.out);
  if (options.explain) {
    // Explanations are for people: keep machine-readable stdout clean.
    bool machine = format == report::Format::csv || format == report::Format::json;
    report::write_size_explanation(model.label, model.shape, size, units, machine ? context.err : context.out);
  }
}

}  // namespace

void add_size_command(CLI::App& app, Context& context, std::vector<Command>& commands) {
  auto options = std::make_shared<SizeOptions>();
  CLI::App* command = app.add_subcommand(
      "size", "KV cache per token, per layer, per sequence and per batch, for each attention variant");
  command->footer(
      "\nVariants are counterfactuals on the same model (same layers, query heads and head dim):\n"
      "  MHA 2*n_h*d_h, MQA 2*d_h, GQA:G 2*G*d_h, MLA d_c+d_R scalars per token per layer.\n"
      "\nExamples:\n"
      "  kvplan size --model deepseek-v2 --ctx 128k\n"
      "  kvplan size --model llama-3-70b --ctx 32k --batch 64 --variant native --kv-dtype fp8\n"
      "  kvplan size --model deepseek-v3 --ctx 128k --variant mla --kv-dtype fp8_ds_mla --mtp --explain\n"
      "  kvplan size --model gemma-2-27b --ctx 8k --format csv");
  add_model_option(*command, options->model);
  command->add_option("--ctx", options->ctx,
                      "Tokens per sequence: 4096, 32k (x1024), 1M (x2^20); default: the model's "
                      "max_position_embeddings");
  command->add_option("--batch", options->batch, "Concurrent sequences")->capture_default_str();
  command->add_option("--variant", options->variant,
                      "native, mha, mqa, gqa[:G], mla[:d_c[:d_R]], all, or a comma-separated list")
      ->capture_default_str();
  command->add_option("--kv-dtype", options->kv_dtype,
                      "Cache dtype: bf16, fp16, fp32, fp8 (= fp8_e4m3), fp8_e5m2, int8, fp8_ds_mla "
                      "(MLA only, 656 B/token/layer), nvfp4")
      ->capture_default_str();
  command->add_option("--kv-scales", options->kv_scales,
                      "per-tensor (not counted) or per-token-head (+4 B fp32 per cached K/V vector)")
      ->capture_default_str();
  command->add_flag("--mtp", options->mtp, "Also count the model's MTP layers (num_nextn_predict_layers)");
  add_mamba_ssm_cache_dtype_option(*command, options->mamba_ssm_cache_dtype);
  command->add_flag("--explain", options->explain, "Print the derivation of every number");
  add_output_options(*command, options->output);
  commands.push_back({command, [&context, options] { run_size(context, *options); }});
}

}  // namespace kvplan::cli
