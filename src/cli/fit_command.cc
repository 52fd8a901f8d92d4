// `kvplan fit`: how many requests of a given length a GPU fleet holds, by the serving engine's
// own start-up accounting.
#include <cmath>
#include <optional>
#include <ostream>

#include "cli/checkpoint_model.h"
#include "cli/context.h"
#include "cli/speculative_option.h"
#include "cli/offload_options.h"
#include "cli/parallel_options.h"
#include "core/capacity.h"
#include "core/state_bytes.h"
#include "core/error.h"
#include "core/fleet.h"
#include "core/prefix_sharing.h"
#include "core/vllm_backend.h"
#include "core/sglang_rules.h"
#include "core/vllm_rules.h"
#include "core/weights.h"
#include "report/fit_document.h"
#include "report/launch_command.h"
#include "report/model_label.h"
#include "report/hybrid_off_rows.h"
#include "report/offload_rows.h"

namespace kvplan::cli {
namespace {

// Whether vLLM's hybrid allocator being off changes the plan: full layers beside sliding or chunked ones.
bool promotes_local_layers(const ModelShape& shape) {
  return shape.layer_count(LayerAttention::full) > 0 &&
         shape.layer_count(LayerAttention::sliding) + shape.layer_count(LayerAttention::chunked) > 0;
}

struct FitOptions {
  ModelOption model;
  std::string gpu;
  ParallelOptions parallel;
  bool dp_attention = false;
  std::string engine = "vllm";
  std::string variant = "native";
  std::string weights_dtype = "auto";
  std::string kv_dtype = "bf16";
  std::string kv_scales = "per-tensor";
  std::string ctx;
  std::string mem_util;
  std::string block_size;
  std::string max_num_batched_tokens;
  std::string reserve;
  std::string kv_cache_memory;
  std::string attention_backend;
  std::string entrypoint = "serve";
  bool no_async_scheduling = false;
  bool no_prefix_caching = false;
  bool no_hybrid_allocator = false;
  std::string mamba_ssm_cache_dtype;
  std::string concurrency;
  std::string shared_prefix;
  std::string prefixes;
  std::string gpu_price;
  std::string emit;
  bool mtp = false;
  SpeculativeOptions speculative;
  bool explain = false;
  OffloadOptions offload;
  OutputOptions output;
};

double parse_positive_number(const std::string& text, std::string_view flag) {
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || !std::isfinite(value) || value <= 0) {
    throw Error(std::string(flag) + ": expected a positive number, got '" + text + "'");
  }
  return value;
}

// --shared-prefix P [--prefixes K]; checked against --ctx once the context is known (share_prefix).
std::optional<SharedPrefix> parse_shared_prefix(const FitOptions& options) {
  if (options.shared_prefix.empty()) {
    if (!options.prefixes.empty()) throw Error("--prefixes counts the prefixes of --shared-prefix; give --shared-prefix too");
    return std::nullopt;
  }
  SharedPrefix prefix;
  prefix.tokens = parse_tokens(options.shared_prefix, "--shared-prefix").value;
  if (!options.prefixes.empty()) prefix.prefixes = parse_count(options.prefixes, "--prefixes");
  return prefix;
}

void run_fit(Context& context, const FitOptions& options) {
  report::Format format = options.output.parsed_format();
  UnitSystem units = options.output.parsed_units();
  if (options.gpu.empty()) throw Error("--gpu is required: name a GPU preset such as h100-sxm ('kvplan gpus' lists them)");
  FitRequest request;
  request.parallel = resolve_parallelism(options.parallel);
  const EngineRelease release = parse_engine_release(options.engine);
  request.options.engine = release.engine;
  request.options.engine_version = release.version;
  if (release.engine != Engine::vllm && (!options.attention_backend.empty() || options.no_async_scheduling ||
                                         options.entrypoint != "serve" || options.no_prefix_caching ||
                                         options.no_hybrid_allocator)) {
    throw Error("--attention-backend, --entrypoint, --no-async-scheduling, --no-enable-prefix-caching and "
                "--disable-hybrid-kv-cache-manager are vLLM's options; add --engine vllm");
  }
  // SGLang's --mamba-ssm-dtype takes the same values (float32, bfloat16, float16).
  if (release.engine == Engine::trtllm && !options.mamba_ssm_cache_dtype.empty()) {
    throw Error("--mamba-ssm-cache-dtype is vLLM's and SGLang's (--mamba-ssm-dtype) option; add --engine vllm or sglang");
  }
  if (!options.attention_backend.empty()) request.options.attention_backend = options.attention_backend;
  if (options.entrypoint != "serve" && options.entrypoint != "offline") {
    throw Error("--entrypoint: expected serve (vllm serve) or offline (the LLM class), got '" + options.entrypoint + "'");
  }
  request.options.offline = options.entrypoint == "offline";
  request.options.async_scheduling = !options.no_async_scheduling;
  request.options.prefix_caching = !options.no_prefix_caching;
  request.options.hybrid_allocator = !options.no_hybrid_allocator;
  request.options.mamba_ssm_cache_dtype = parse_mamba_ssm_cache_dtype(options.mamba_ssm_cache_dtype);
  request.options.dp_attention = options.dp_attention;
  request.kv_dtype = parse_kv_dtype(options.kv_dtype);
  request.kv_scales = parse_kv_scales(options.kv_scales);
  request.include_mtp = options.mtp;
  if (!options.mem_util.empty()) {
    double util = parse_positive_number(options.mem_util, "--mem-util");
    if (util > 1) throw Error("--mem-util: a fraction of GPU memory in (0, 1], got " + options.mem_util);
    request.options.mem_util = util;
  }
  if (!options.block_size.empty()) request.options.block_size = parse_small_count(options.block_size, "--block-size");
  if (!options.max_num_batched_tokens.empty()) {
    request.options.max_num_batched_tokens = parse_tokens(options.max_num_batched_tokens, "--max-num-batched-tokens").value;
  }
  if (!options.reserve.empty()) request.options.reserve = parse_bytes(options.reserve, "--reserve");
  if (!options.kv_cache_memory.empty()) {
    // One value for every GPU, or one per PP stage ("30GiB,28.5GiB"), as each stage's log shows it.
    std::vector<Bytes> per_stage;
    std::string_view rest = options.kv_cache_memory;
    while (true) {
      const std::size_t comma = rest.find(',');
      Bytes memory = parse_bytes(std::string(rest.substr(0, comma)), "--kv-cache-memory");
      if (memory.value == 0) throw Error("--kv-cache-memory must be more than 0 bytes");
      per_stage.push_back(memory);
      if (comma == std::string_view::npos) break;
      rest = rest.substr(comma + 1);
    }
    request.options.kv_cache_memory = per_stage.front();
    if (per_stage.size() > 1) {
      if (release.engine != Engine::vllm) throw Error("--kv-cache-memory: one value per PP stage is for --engine vllm");
      if (per_stage.size() != request.parallel.pp) {
        throw Error("--kv-cache-memory: " + std::to_string(per_stage.size()) + " values for " +
                    std::to_string(request.parallel.pp) + " PP stages; give one value, or one per stage");
      }
      if (!options.emit.empty()) {
        throw Error("--kv-cache-memory: vLLM's --kv-cache-memory-bytes takes one value for every worker, so --emit "
                    "needs one value too");
      }
      request.options.kv_cache_memory_per_stage = per_stage;
    }
  }
  std::optional<double> price;
  if (!options.gpu_price.empty()) price = parse_positive_number(options.gpu_price, "--gpu-price");
  if (price && *price > 1e6) throw Error("--gpu-price " + options.gpu_price + ": at most 1000000 USD per GPU-hour");
  std::uint64_t concurrency = options.concurrency.empty() ? 0 : parse_count(options.concurrency, "--concurrency");
  std::optional<SharedPrefix> shared_prefix = parse_shared_prefix(options);
  if (shared_prefix && concurrency > 0) {
    throw Error("--concurrency: the fleet search counts requests without prefix sharing; drop --shared-prefix or "
                "--concurrency");
  }
  // vLLM's built-in LMCache connector (LMCACHE_USE_UPSTREAM_MP=1) runs with the hybrid allocator off,
  // so that combination is a real one.
  const bool native_offload = !options.offload.tiers.empty() && options.offload.backend != "lmcache";
  if ((shared_prefix || native_offload) && options.no_hybrid_allocator) {
    throw Error(std::string(shared_prefix ? "--shared-prefix" : "--offload") +
                ": kvplan plans it with vLLM's hybrid allocator on; drop --disable-hybrid-kv-cache-manager");
  }
  if (options.parallel.enable_eplb && concurrency > 0) {
    throw Error("--concurrency: the fleet search weighs layouts without EPLB; drop --enable-eplb or --concurrency");
  }
  if (shared_prefix && request.parallel.dcp > 1) {
    // Under DCP vLLM hashes and shares blocks of block_size x DCP tokens (resolve_kv_cache_block_sizes),
    // which kvplan's prefix plan does not follow yet.
    throw Error("--shared-prefix: kvplan does not plan prefix sharing with --dcp yet; drop one of them");
  }
  if (!options.emit.empty() && options.emit != to_string(release.engine)) {
    throw Error("--emit " + options.emit + " needs --engine " + options.emit +
                ", so that the plan follows that engine's rules (--emit takes vllm or sglang)");
  }
  std::vector<VariantRequest> variant_requests = parse_variants(options.variant);
  if (variant_requests.size() != 1) {
    throw Error("--variant: fit plans one variant; 'kvplan sweep --variants all' compares several");
  }

  SelectedModel model = select_model(context, options.model);
  drop_checkpoint_unless_auto(model.shape, options.weights_dtype);
  apply_expert_parallel(options.parallel, model, request);
  const io::GpuPreset& gpu = context.registry().gpu(options.gpu);
  request.max_model_len = options.ctx.empty() ? Tokens{model.shape.max_position_embeddings}
                                              : parse_tokens(options.ctx, "--ctx");
  if (request.max_model_len.value == 0) {
    throw Error("--ctx is required: " + model.label.name + " does not state max_position_embeddings");
  }
  if (options.mtp && model.shape.num_nextn_predict_layers == 0) {
    throw Error("--mtp: " + model.label.name + " has no MTP layers (num_nextn_predict_layers is 0 or absent)");
  }
  // Speculative decoding (vLLM --speculative-config): mtp caches the MTP layers as --mtp does.
  request.speculative = resolve_speculative(options.speculative, model.shape, release.engine);
  if (request.speculative.method == SpeculativeMethod::mtp) request.include_mtp = true;
  ResolvedVariant variant = resolve_variants(variant_requests, model.shape).front();
  request.variant = variant.variant;
  WeightsDtype weights = resolve_weights_dtype(options.weights_dtype, model.shape);
  set_request_weights(request, weights);

  FitResult result = fit(model.shape, gpu.spec, request);
  std::optional<PrefixSharing> sharing;
  if (shared_prefix) sharing = share_prefix(*shared_prefix, model.shape, request, result);
  const std::optional<OffloadPlan> offload = plan_offload_option(options.offload, model.shape, gpu.spec, request, result);
  if (!options.emit.empty() && offload && offload->disk && options.offload.disk_dir.empty()) {
    throw Error("--emit vllm with a disk tier needs --disk-dir PATH, the file-system tier's root_dir");
  }
  const std::string offload_flags = offload ? report::offload_launch_flags(*offload, options.offload.disk_dir) : "";
  if (!options.emit.empty()) {
    if (offload && offload->lmcache) context.out << report::offload_server_command(*offload) << '\n';
    std::string path = model.label.hf_id.empty() ? model.label.source : model.label.hf_id;
    if (!model.label.hf_id.empty() || path.size() < 12 || path.substr(path.size() - 12) != "/config.json") {
      context.out << report::launch_command(path, model.shape, request, result) << offload_flags << '\n';
    } else {
      context.out << report::launch_command(path.substr(0, path.size() - 12), model.shape, request, result) << offload_flags << '\n';
    }
    return;
  }
  DecodeBound decode = decode_bound(model.shape, gpu.spec, request, result, price);
  FleetSearch fleet;
  if (concurrency > 0) fleet = smallest_fleet(model.shape, gpu.spec, request, concurrency);
  report::FitContext fit_context{model.label, gpu.info.name, variant.native, options.explain, units,
                                 sharing ? &*sharing : nullptr};
  report::Document document = report::fit_document(fit_context, model.shape, gpu.spec, request, result, decode,
                                                   concurrency > 0 ? &fleet : nullptr, concurrency);
  if (offload) report::add_offload_rows(document, *offload, units);
  if (options.no_hybrid_allocator && promotes_local_layers(model.shape)) {
    FitRequest on = request;
    on.options.hybrid_allocator = true;
    on.explanations = false;
    report::add_hybrid_off_rows(document, result, fit(model.shape, gpu.spec, on));
  }
  if (options.ctx.empty()) {
    document.notes.insert(document.notes.begin(), "--ctx not given: max_model_len = max_position_embeddings (" +
                                                      std::to_string(request.max_model_len.value) + "), vLLM's default");
  }
  report::add_model_notes(document, weights, model.shape);
  report::write_document(document, format, context.out);
}

}  // namespace

void add_fit_command(CLI::App& app, Context& context, std::vector<Command>& commands) {
  auto options = std::make_shared<FitOptions>();
  CLI::App* command = app.add_subcommand(
      "fit", "How many requests fit on a GPU fleet, by the serving engine's own KV-cache accounting");
  command->footer(
      "\nThe budget per GPU is the engine's: vLLM takes total memory x gpu_memory_utilization, less weights,\n"
      "activation peak and non-torch memory (estimates; --reserve or --kv-cache-memory set them exactly).\n"
      "K/V heads per rank are max(1, H_kv / TP): with fewer heads than ranks they are replicated. MLA caches\n"
      "its latent on every TP rank. The attention backend vLLM picks sets the block size; blocks, groups,\n"
      "sliding windows (with the tokens in flight) and the 'GPU KV cache size' line follow vLLM's code for\n"
      "the release given by --engine vllm@X (default: the newest kvplan knows). With PP every stage has its\n"
      "own budget and the smallest block count binds. --engine sglang@X follows SGLang release X's\n"
      "mem_fraction_static and pool (docs/engines-sglang.md). docs/engines.md cites every rule. With --model org/name\n"
      "or a checkpoint folder the weights are its tensors' bytes per GPU, from the safetensors headers\n"
      "(docs/checkpoints.md).\n"
      "\nExamples:\n"
      "  kvplan fit --model llama-3-70b --gpu h100-sxm --gpus 8 --tp 8 --kv-dtype fp8 --ctx 32k\n"
      "  kvplan fit --model deepseek-v3 --gpu h200 --gpus 8 --ctx 128k --kv-dtype fp8 --explain\n"
      "  kvplan fit --model deepseek-v3 --gpu h200 --gpus 8 --dcp 8 --ctx 32k --explain\n"
      "  kvplan fit --model mistral-7b-v0.1 --gpu h100-sxm --ctx 32k --kv-cache-memory 10GiB --engine vllm@0.19\n"
      "  kvplan fit --model llama-3.1-70b --gpu h100-sxm --tp 2 --pp 2 --kv-cache-memory 30GiB,28.5GiB\n"
      "  kvplan fit --model qwen2.5-72b --gpu h100-sxm --tp 4 --ctx 32k --concurrency 64 --gpu-price 2.5\n"
      "  kvplan fit --model llama-3.1-8b --gpu h100-sxm --ctx 128k --emit vllm\n"
      "  kvplan fit --model llama-3.1-8b --gpu h100-sxm --ctx 32k --engine sglang@0.5.10 --explain\n"
      "  kvplan fit --model llama-3.1-70b --gpu h100-sxm --tp 4 --ctx 32k --speculative eagle3:DRAFT_DIR "
      "--num-speculative-tokens 4 --explain\n"
      "  kvplan fit --model llama-3.1-70b --gpu h100-sxm --gpus 4 --ctx 32k --shared-prefix 4k\n"
      "  kvplan fit --model Qwen/Qwen3-30B-A3B --revision main --gpu h100-sxm --gpus 2 --enable-expert-parallel");
  add_model_option(*command, options->model);
  command->add_option("--gpu", options->gpu, "GPU preset ('kvplan gpus' lists them)");
  add_parallel_options(*command, options->parallel);
  command->add_flag("--dp-attention", options->dp_attention, "SGLang: attention data-parallel over the TP ranks (--attn-dp-size TP), each rank its own KV pool");
  command->add_option("--engine", options->engine,
                      "Accounting rules: vllm, sglang or trtllm; vllm@X follows vLLM release X (" +
                          known_vllm_versions() + "), sglang@X (" + known_sglang_versions() + ")")
      ->capture_default_str();
  command->add_option("--attention-backend", options->attention_backend,
                      "vLLM's attention backend by its name (" + known_vllm_backends() +
                          "); default: the one vLLM picks, which sets the block size");
  command->add_option("--entrypoint", options->entrypoint,
                      "vLLM entry point for the batch defaults: serve (vllm serve) or offline (the LLM class)")
      ->capture_default_str();
  command->add_flag("--no-async-scheduling", options->no_async_scheduling,
                    "vLLM: async scheduling off (one batch in flight per PP stage instead of one more)");
  command->add_flag("--no-enable-prefix-caching", options->no_prefix_caching,
                    "vLLM: prefix caching off; for state layers (Mamba, Gated DeltaNet) mamba_cache_mode none, one "
                    "state block per request instead of 3");
  command->add_flag("--disable-hybrid-kv-cache-manager", options->no_hybrid_allocator,
                    "vLLM: hybrid allocator off, as with a KV connector that does not support it; sliding and "
                    "chunked layers then keep every token like full attention (fit shows the capacity it costs)");
  add_mamba_ssm_cache_dtype_option(*command, options->mamba_ssm_cache_dtype);
  command->add_option("--variant", options->variant, "native, or one counterfactual: mha, mqa, gqa[:G], mla[:d_c[:d_R]]")
      ->capture_default_str();
  command->add_option("--weights-dtype", options->weights_dtype,
                      "auto (the checkpoint's), fp32, bf16, fp16, fp8, int8, int4, nvfp4")
      ->capture_default_str();
  command->add_option("--kv-dtype", options->kv_dtype, "Cache dtype, as for 'kvplan size'")->capture_default_str();
  command->add_option("--kv-scales", options->kv_scales, "per-tensor or per-token-head")->capture_default_str();
  command->add_option("--ctx", options->ctx, "Tokens per request, vLLM's max_model_len (default: max_position_embeddings)");
  command->add_option("--mem-util", options->mem_util,
                      "vLLM gpu_memory_utilization (default 0.92 since vLLM 0.20, 0.90 before), SGLang "
                      "mem_fraction_static (default: its GPU-size rule), TRT-LLM free_gpu_memory_fraction (0.9)");
  command->add_option("--block-size", options->block_size,
                      "Tokens per KV block (vLLM: the attention backend's, 16 for most, MLA 16 FLASH_ATTN_MLA / 64 "
                      "FLASHMLA / 32 FLASHINFER_MLA; TRT-LLM 32; SGLang 1)");
  command->add_option("--max-num-batched-tokens", options->max_num_batched_tokens,
                      "Tokens per scheduler step (vLLM 0.33 serve: 16384 on >= 160 GiB GPUs, 8192 on >= 70 GiB GPUs "
                      "other than A100, else 2048)");
  command->add_option("--reserve", options->reserve, "Activation peak + non-torch memory per GPU, e.g. 4GiB (replaces the estimate)");
  command->add_option("--kv-cache-memory", options->kv_cache_memory,
                      "KV cache memory per GPU, e.g. 51.63GiB (vLLM's kv_cache_memory_bytes: bypasses the budget); "
                      "with PP one per stage: 30GiB,28.5GiB");
  command->add_option("--concurrency", options->concurrency, "Also find the smallest fleet that holds this many requests");
  command->add_option("--shared-prefix", options->shared_prefix,
                      "Tokens of a prefix every request starts with (a system prompt), e.g. 4k: prints the blocks it "
                      "shares and the concurrency with sharing beside the one without (vllm, sglang)");
  command->add_option("--prefixes", options->prefixes, "Distinct shared prefixes, each held once (default 1)");
  command->add_option("--gpu-price", options->gpu_price, "USD per GPU-hour, for the cost bound");
  command->add_option("--emit", options->emit, "Print the engine's launch command for the plan instead: vllm or sglang");
  command->add_flag("--mtp", options->mtp, "Also cache the model's MTP layers (speculative decoding with MTP)");
  command->add_option("--speculative", options->speculative.method,
                      "Speculative decoding (vLLM, or SGLang with --engine sglang): eagle3:PATH or eagle:PATH (a "
                      "draft folder with its config.json: its layers join the KV cache), mtp (as --mtp) or ngram (no "
                      "KV); SGLang then runs at most 48 requests by default");
  command->add_option("--num-speculative-tokens", options->speculative.num_speculative_tokens,
                      "Tokens drafted per step, vLLM's num_speculative_tokens (1-64; default for mtp: one per MTP "
                      "layer; optional for SGLang, which picks its own steps)");
  add_offload_options(*command, options->offload);
  command->add_flag("--explain", options->explain, "Show the rule and values behind every line");
  add_output_options(*command, options->output);
  commands.push_back({command, [&context, options] { run_fit(context, *options); }});
}

}  // namespace kvplan::cli
