// `kvplan models`, `kvplan gpus`, `kvplan show`: what the presets hold and where it comes from.
#include <fmt/format.h>

#include <ostream>

#include "cli/context.h"
#include "core/state_bytes.h"
#include "core/error.h"
#include "core/kv_bytes.h"
#include "core/variant.h"
#include "report/format.h"

namespace kvplan::cli {
namespace {

using report::Align;
using report::Cell;
using report::Document;

std::string join(const std::vector<std::string>& items) {
  std::string text;
  for (const std::string& item : items) text += (text.empty() ? "" : ", ") + item;
  return text;
}

Cell optional_count(const std::optional<std::uint64_t>& value) {
  if (!value) return Cell::of("-", Cell::Raw{});
  return Cell::of(fmt::format("{:.1f}B", static_cast<double>(*value) / 1e9), *value);
}

Document models_document(const io::PresetRegistry& registry) {
  Document document;
  document.command = "models";
  document.title = "Model presets (KV bytes are the native attention in bf16, a sparse model's indexer key included "
                   "where every layer has one, a sliding layer's where full layers differ; state layers keep a "
                   "per-sequence state instead: "
                   "'kvplan show --model NAME' for details)";
  document.columns = {
      {"name", "name", Align::left},
      {"hf_id", "Hugging Face id", Align::left},
      {"attention", "attention", Align::left},
      {"num_hidden_layers", "layers"},
      {"num_attention_heads", "heads"},
      {"num_key_value_heads", "KV heads"},
      {"head_dim", "head dim"},
      {"bf16_bytes_per_token_per_layer", "KV B/token/layer"},
      {"max_position_embeddings", "max ctx"},
      {"params_total", "params"},
      {"source", "source", Align::left, true},
  };
  for (const io::ModelPreset* preset : registry.models()) {
    const ModelShape& shape = preset->shape;
    Variant native = native_variant(shape);
    // A sparse model's indexer key is in every layer's bytes when every layer caches one.
    std::uint64_t bytes = bytes_per_token_per_layer(native, KvDtype::bf16, KvScales::per_tensor).total() +
                          (shape.indexer && shape.indexer->on_every_layer() ? shape.indexer->bytes_per_token() : 0);
    Cell bytes_cell = Cell::of(std::to_string(bytes) + " B", bytes);
    if (shape.compressed_mla) {
      // Its caches are per window, per compressed group and per request, not per token per layer.
      bytes_cell = Cell::of("-", Cell::Raw{});
    } else if (shape.full_layer_kv) {
      const std::uint64_t full =
          bytes_per_token_per_layer(full_layer_variant(native, true, shape), KvDtype::bf16, KvScales::per_tensor).total();
      bytes_cell = Cell::of(std::to_string(bytes) + " B (full " + std::to_string(full) + " B)", bytes);
    }
    document.rows.push_back({
        Cell::of(preset->info.name),
        Cell::of(preset->hf_id),
        Cell::of(shape.compressed_mla ? std::string("compressed") : native.name()),
        Cell::of(std::uint64_t{shape.num_hidden_layers}),
        Cell::of(std::uint64_t{shape.num_attention_heads}),
        Cell::of(std::uint64_t{shape.num_key_value_heads}),
        Cell::of(std::uint64_t{shape.head_dim}),
        bytes_cell,
        Cell::of(shape.max_position_embeddings),
        optional_count(shape.params_total),
        Cell::of(preset->info.source),
    });
  }
  return document;
}

Document gpus_document(const io::PresetRegistry& registry, UnitSystem units) {
  Document document;
  document.command = "gpus";
  document.title = "GPU presets (memory as CUDA reports it; bandwidth and TFLOP/s from datasheets, dense)";
  document.columns = {
      {"name", "name", Align::left},
      {"display", "device", Align::left},
      {"memory_bytes", "memory (CUDA)"},
      {"hbm_bandwidth_bytes_per_s", "HBM TB/s"},
      {"bf16_dense_tflops", "bf16 TFLOP/s"},
      {"fp8_dense_tflops", "fp8 TFLOP/s"},
      {"source", "source", Align::left, true},
  };
  for (const io::GpuPreset* preset : registry.gpus()) {
    const GpuSpec& spec = preset->spec;
    Cell fp8 = spec.fp8_dense_flops_per_s
                   ? Cell::of(fmt::format("{:.1f}", *spec.fp8_dense_flops_per_s / 1e12), *spec.fp8_dense_flops_per_s / 1e12)
                   : Cell::of("-", Cell::Raw{});
    document.rows.push_back({
        Cell::of(preset->info.name),
        Cell::of(preset->display),
        Cell::of(report::format_bytes(spec.memory_total, units), spec.memory_total.value),
        Cell::of(fmt::format("{:.2f}", spec.hbm_bandwidth_bytes_per_s / 1e12), spec.hbm_bandwidth_bytes_per_s),
        Cell::of(fmt::format("{:.1f}", spec.bf16_dense_flops_per_s / 1e12), spec.bf16_dense_flops_per_s / 1e12),
        fp8,
        Cell::of(preset->info.source),
    });
  }
  return document;
}

Document show_model_document(const io::ModelPreset& preset) {
  const ModelShape& shape = preset.shape;
  Document document;
  document.command = "show";
  document.title = "Model preset " + preset.info.name;
  document.facts = {
      {"name", "name", Cell::of(preset.info.name)},
      {"hf_id", "Hugging Face id", Cell::of(preset.hf_id)},
      {"aliases", "also answers to", Cell::of(join(preset.info.aliases))},
      {"source", "source", Cell::of(preset.info.source)},
      {"verified_from", "checked against", Cell::of(preset.verified_from)},
      {"file", "preset file", Cell::of(preset.info.file)},
  };
  document.columns = {{"field", "field", Align::left}, {"value", "value", Align::left}, {"meaning", "meaning", Align::left}};
  auto row = [&](std::string field, Cell value, std::string meaning) {
    document.rows.push_back({Cell::of(std::move(field)), std::move(value), Cell::of(std::move(meaning))});
  };
  auto count = [](std::uint64_t value) { return Cell::of(value); };
  row("model_type", Cell::of(shape.model_type), "architecture family (decides sliding-window conventions)");
  row("num_hidden_layers", count(shape.num_hidden_layers), "L: decoder layers, each with its own cache");
  row("num_attention_heads", count(shape.num_attention_heads), "n_h: query heads");
  row(shape.kv_fields_prefix + "num_key_value_heads", count(shape.num_key_value_heads), "H_kv: cached K/V heads (GQA groups)");
  row(shape.kv_fields_prefix + "head_dim", count(shape.head_dim),
      shape.mla ? "d_h for counterfactuals = v_head_dim (MLA)"
                : shape.head_dim_explicit ? "d_h: explicit in config.json" : "d_h = hidden_size / num_attention_heads");
  if (shape.mla) {
    row("kv_lora_rank", count(shape.mla->kv_lora_rank), "d_c: cached latent per token per layer");
    row("qk_rope_head_dim", count(shape.mla->qk_rope_head_dim), "d_R: cached decoupled RoPE key");
    row("qk_nope_head_dim", count(shape.mla->qk_nope_head_dim), "per-head key part rebuilt from the latent");
    row("v_head_dim", count(shape.mla->v_head_dim), "per-head value rebuilt from the latent");
    row("q_lora_rank", shape.mla->q_lora_rank ? count(*shape.mla->q_lora_rank) : Cell::of("null", Cell::Raw{}),
        "query compression rank");
  }
  if (shape.indexer) {
    row("index_head_dim", count(shape.indexer->index_head_dim),
        "sparse MLA: the indexer caches one key of this many fp8 values + fp32 scales per token per layer (" +
            std::to_string(shape.indexer->bytes_per_token()) + " B)");
    row("index_topk", count(shape.indexer->index_topk), "tokens each query attends to");
    if (!shape.indexer->on_every_layer()) {
      row("layers with an indexer", count(shape.indexer->key_layers(shape.num_hidden_layers, 0)),
          "index_topk_freq / index_topk_pattern: the other layers reuse an earlier layer's top-k and cache no key "
          "(every MTP layer has one)");
    }
  }
  if (shape.v_head_dim != 0) {
    row(shape.kv_fields_prefix + "v_head_dim", count(shape.v_head_dim), "d_v: the cached V heads' width, narrower than K's");
  }
  if (const auto& full = shape.full_layer_kv) {
    row(full->heads_field, count(full->num_key_value_heads), "the full layers' cached K/V heads");
    row(full->head_dim_field, count(full->head_dim), "the full layers' head dim");
    if (full->v_head_dim != 0) row(full->v_head_dim_field, count(full->v_head_dim), "the full layers' V head dim");
  }
  if (const auto& compressed = shape.compressed_mla) {
    std::uint64_t csa = 0, hca = 0;
    for (std::uint32_t ratio : compressed->compress_ratio) {
      csa += ratio == 4;
      hca += ratio == 128;
    }
    row("sliding_window", count(compressed->sliding_window), shape.sliding_rule);
    row("CSA layers", count(csa), "one compressed latent per 4 tokens, an indexer key per latent, compressor states");
    row("HCA layers", count(hca), "one compressed latent per 128 tokens, a compressor state");
    row("qk_rope_head_dim", count(compressed->rope_head_dim), "the latent's RoPE part (bf16 in fp8_ds_mla)");
    row("index_head_dim", count(compressed->index_head_dim), "the indexer key's fp8 values (+ fp32 scales)");
  } else {
    row("sliding_window", shape.sliding_window ? count(*shape.sliding_window) : Cell::of("none", Cell::Raw{}),
        shape.sliding_rule);
  }
  if (shape.state) {
    const StateDims& state = *shape.state;
    const StateFieldNames names = state_field_names(state.mixer);
    row("state layers", count(shape.layer_count(LayerAttention::state)),
        std::string(names.mixer) + " layers: a per-sequence state, no per-token cache");
    if (state.mixer == StateMixer::mamba1) {
      row("mamba_expand x hidden_size", count(state.channels), "the conv and SSM channels");
      row(names.state_size, count(state.state_size), "");
    } else {
      row(names.num_heads, count(state.num_heads), "state heads");
      row(names.head_dim, count(state.head_dim), "");
      if (state.mixer != StateMixer::kda) {
        row(names.n_groups, count(state.n_groups), "");
        row(names.state_size, count(state.state_size), "");
      }
    }
    row(names.conv_kernel, count(state.conv_kernel), "the conv state keeps kernel - 1 inputs");
    const StateBytes bytes = state_bytes_per_rank(state, shape.torch_dtype, 1);
    row("state bytes per sequence", count(bytes.total()), "per state layer at TP 1: " + state_formula(state, bytes));
  }
  row("num_nextn_predict_layers", count(shape.num_nextn_predict_layers), "MTP layers (counted with --mtp)");
  row("max_position_embeddings", count(shape.max_position_embeddings), "longest context the model supports");
  row("hidden_size", count(shape.hidden_size), "");
  row("intermediate_size", count(shape.intermediate_size), "");
  row("vocab_size", count(shape.vocab_size), "");
  if (shape.moe) {
    row("experts", count(shape.moe->num_experts), "routed experts");
    row("num_experts_per_tok", count(shape.moe->num_experts_per_tok), "routed experts active per token");
    row("n_shared_experts", count(shape.moe->num_shared_experts), "always-active experts");
  }
  row("torch_dtype", Cell::of(shape.torch_dtype), "checkpoint dtype as config.json states it");
  row("quantization", Cell::of(shape.weight_quantization.empty() ? "none" : shape.weight_quantization),
      "quantization_config.quant_method");
  row("params_total", optional_count(shape.params_total), "parameters (" + preset.params_source + ")");
  row("params_active", optional_count(shape.params_active), "parameters active per token");
  document.notes = shape.assumptions;
  if (!preset.info.notes.empty()) document.notes.push_back(preset.info.notes);
  return document;
}

Document show_gpu_document(const io::GpuPreset& preset, UnitSystem units) {
  const GpuSpec& spec = preset.spec;
  Document document;
  document.command = "show";
  document.title = "GPU preset " + preset.info.name;
  document.facts = {
      {"name", "name", Cell::of(preset.info.name)},
      {"display", "device", Cell::of(preset.display)},
      {"aliases", "also answers to", Cell::of(join(preset.info.aliases))},
      {"source", "source", Cell::of(preset.info.source)},
      {"file", "preset file", Cell::of(preset.info.file)},
  };
  document.columns = {{"field", "field", Align::left}, {"value", "value", Align::left}, {"meaning", "meaning", Align::left}};
  auto row = [&](std::string field, Cell value, std::string meaning) {
    document.rows.push_back({Cell::of(std::move(field)), std::move(value), Cell::of(std::move(meaning))});
  };
  row("memory.marketing", Cell::of(preset.marketing_memory), "as sold");
  row("memory.cuda_total_bytes", Cell::of(report::format_bytes_both(spec.memory_total, units), spec.memory_total.value),
      "total as CUDA reports it: " + preset.memory_source);
  row("memory.nvidia_smi_total_mib",
      spec.nvidia_smi_total_mib ? Cell::of(fmt::format("{} MiB", *spec.nvidia_smi_total_mib), *spec.nvidia_smi_total_mib)
                                : Cell::of("unknown", Cell::Raw{}),
      spec.nvidia_smi_total_mib ? "nvidia-smi's total, which SGLang sizes its defaults from: " + preset.nvidia_smi_source
                                : "not recorded; SGLang's defaults then use the CUDA total in whole MiB");
  row("hbm_bandwidth_bytes_per_s", Cell::of(fmt::format("{:.2f} TB/s", spec.hbm_bandwidth_bytes_per_s / 1e12),
                                            spec.hbm_bandwidth_bytes_per_s),
      "datasheet peak");
  row("bf16_dense_tflops", Cell::of(fmt::format("{:.1f}", spec.bf16_dense_flops_per_s / 1e12), spec.bf16_dense_flops_per_s / 1e12),
      "dense tensor-core peak");
  row("fp8_dense_tflops",
      spec.fp8_dense_flops_per_s ? Cell::of(fmt::format("{:.1f}", *spec.fp8_dense_flops_per_s / 1e12), *spec.fp8_dense_flops_per_s / 1e12)
                                 : Cell::of("none", Cell::Raw{}),
      "dense tensor-core peak");
  if (!preset.info.notes.empty()) document.notes.push_back(preset.info.notes);
  return document;
}

struct ShowOptions {
  ModelOption model;
  std::string gpu;
  OutputOptions output;
};

void run_show(Context& context, const ShowOptions& options) {
  report::Format format = options.output.parsed_format();
  UnitSystem units = options.output.parsed_units();
  if (options.model.name.empty() == options.gpu.empty()) {
    throw Error("show: give exactly one of --model NAME or --gpu NAME");
  }
  if (!options.gpu.empty()) {
    report::write_document(show_gpu_document(context.registry().gpu(options.gpu), units), format, context.out);
    return;
  }
  const io::ModelPreset& preset = context.registry().model(options.model.name);
  for (const std::string& warning : preset.info.warnings) context.err << "kvplan: warning: " << warning << '\n';
  report::write_document(show_model_document(preset), format, context.out);
}

}  // namespace

void add_preset_commands(CLI::App& app, Context& context, std::vector<Command>& commands) {
  auto models = std::make_shared<OutputOptions>();
  CLI::App* models_command = app.add_subcommand("models", "List the model presets with their sources");
  add_output_options(*models_command, *models);
  commands.push_back({models_command, [&context, models] {
                        report::Format format = models->parsed_format();
                        report::write_document(models_document(context.registry()), format, context.out);
                      }});

  auto gpus = std::make_shared<OutputOptions>();
  CLI::App* gpus_command = app.add_subcommand("gpus", "List the GPU presets with their sources");
  add_output_options(*gpus_command, *gpus);
  commands.push_back({gpus_command, [&context, gpus] {
                        report::Format format = gpus->parsed_format();
                        report::write_document(gpus_document(context.registry(), gpus->parsed_units()), format,
                                               context.out);
                      }});

  auto show = std::make_shared<ShowOptions>();
  CLI::App* show_command = app.add_subcommand("show", "Show one preset: every field, what it means, where it comes from");
  show_command->footer("\nExamples:\n  kvplan show --model deepseek-v3\n  kvplan show --gpu h100-sxm");
  add_model_option(*show_command, show->model);
  show_command->add_option("--gpu", show->gpu, "GPU preset ('kvplan gpus' lists them)");
  add_output_options(*show_command, show->output);
  commands.push_back({show_command, [&context, show] { run_show(context, *show); }});
}

}  // namespace kvplan::cli
