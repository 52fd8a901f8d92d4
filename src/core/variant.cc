#include "core/variant.h"

#include <charconv>
#include <string>

#include "core/error.h"

namespace kvplan {
namespace {

constexpr std::uint32_t kDefaultKvLoraRank = 512;    // DeepSeek-V2/V3, Kimi-K2
constexpr std::uint32_t kDefaultQkRopeHeadDim = 64;  // likewise
constexpr std::uint32_t kDefaultGqaGroups = 8;       // Llama-3, Qwen2.5-72B, Mistral

std::uint32_t parse_dim(std::string_view text, std::string_view item) {
  std::uint32_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0) {
    throw Error("--variant: '" + std::string(item) + "' needs positive whole numbers after ':'; got '" +
                std::string(text) + "'");
  }
  return value;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

std::vector<VariantRequest> parse_one(std::string_view item) {
  using Kind = VariantRequest::Kind;
  std::vector<std::string_view> parts = split(item, ':');
  std::string_view head = parts[0];
  auto no_args = [&](Kind kind) {
    if (parts.size() > 1) {
      throw Error("--variant: '" + std::string(head) + "' takes no ':' arguments; got '" +
                  std::string(item) + "'");
    }
    return std::vector<VariantRequest>{{kind}};
  };
  if (head == "all") {
    no_args(Kind::mha);
    std::vector<VariantRequest> all = {{Kind::mha}, {Kind::gqa}, {Kind::mqa}, {Kind::mla}};
    for (VariantRequest& request : all) request.from_all = true;
    return all;
  }
  if (head == "native") return no_args(Kind::native);
  if (head == "mha") return no_args(Kind::mha);
  if (head == "mqa") return no_args(Kind::mqa);
  if (head == "gqa") {
    if (parts.size() > 2) throw Error("--variant: gqa takes one number, gqa:G; got '" + std::string(item) + "'");
    VariantRequest request{Kind::gqa};
    if (parts.size() == 2) request.groups = parse_dim(parts[1], item);
    return {request};
  }
  if (head == "mla") {
    if (parts.size() > 3) throw Error("--variant: mla takes at most mla:d_c:d_R; got '" + std::string(item) + "'");
    VariantRequest request{Kind::mla};
    if (parts.size() >= 2) request.kv_lora_rank = parse_dim(parts[1], item);
    if (parts.size() == 3) request.qk_rope_head_dim = parse_dim(parts[2], item);
    return {request};
  }
  throw Error("--variant: unknown variant '" + std::string(item) +
              "'; expected native, mha, mqa, gqa[:G], mla[:d_c[:d_R]] or all");
}

std::string divisors_of(std::uint32_t n) {
  std::string list;
  for (std::uint32_t d = 1; d <= n; ++d) {
    if (n % d == 0) list += (list.empty() ? "" : ", ") + std::to_string(d);
  }
  return list;
}

// GQA's group count when none is asked for: 8 (Llama-3's), else the largest divisor of the heads
// up to 8 that is a real grouping (1 < G < n_h); 0 when there is none (n_h prime or <= 2).
std::uint32_t default_groups(std::uint32_t n_h) {
  for (std::uint32_t g = kDefaultGqaGroups; g > 1; --g) {
    if (n_h % g == 0 && g < n_h) return g;
  }
  return 0;
}

// A K/V-head variant at the model's own head widths: d_h for K and, where values are narrower
// (MiMo-V2-Flash), d_v for V.
Variant per_head(VariantKind kind, std::uint32_t kv_heads, const ModelShape& shape) {
  return Variant{kind, kv_heads, shape.head_dim, 0, 0, shape.v_head_dim};
}

ResolvedVariant resolve_one(const VariantRequest& request, const ModelShape& shape) {
  using Kind = VariantRequest::Kind;
  const std::uint32_t n_h = shape.num_attention_heads;
  const std::uint32_t d_h = shape.head_dim;
  std::string d_h_rule =
      shape.mla ? "d_h = v_head_dim = " + std::to_string(d_h)
                : "d_h = " + std::to_string(d_h) +
                      (shape.head_dim_explicit ? " (config " + shape.kv_fields_prefix + "head_dim)" : " (hidden_size / heads)");
  if (shape.v_head_dim != 0) {
    d_h_rule += ", d_v = " + shape.kv_fields_prefix + "v_head_dim = " + std::to_string(shape.v_head_dim);
  }
  switch (request.kind) {
    case Kind::native:
      return {native_variant(shape), true, "the model's own attention"};
    case Kind::mha:
      return {per_head(VariantKind::mha, n_h, shape), false,
              "one K/V head per query head: n_h = " + std::to_string(n_h) + ", " + d_h_rule};
    case Kind::mqa:
      return {per_head(VariantKind::mqa, 1, shape), false,
              "one K/V head shared by all " + std::to_string(n_h) + " query heads, " + d_h_rule};
    case Kind::gqa: {
      std::uint32_t groups = request.groups;
      std::string why = "G = " + std::to_string(groups) + " as requested";
      if (groups == 0) {
        bool model_is_gqa = !shape.mla && shape.num_key_value_heads > 1 &&
                            shape.num_key_value_heads < n_h;
        if (model_is_gqa) {
          groups = shape.num_key_value_heads;
          why = "G = num_key_value_heads = " + std::to_string(groups) + " (the model's own)";
        } else if (std::uint32_t g = default_groups(n_h)) {
          groups = g;
          why = "G = " + std::to_string(g) +
                (g == kDefaultGqaGroups ? ", the common choice (Llama-3, Qwen2.5-72B)"
                                        : ", the largest divisor of n_h = " + std::to_string(n_h) + " up to 8") +
                "; pick another with gqa:G";
        } else {
          throw Error("--variant gqa: choose the number of K/V groups with gqa:G; G must divide "
                      "num_attention_heads (" + std::to_string(n_h) + "): " + divisors_of(n_h));
        }
      }
      if (n_h % groups != 0) {
        throw Error("--variant gqa:" + std::to_string(groups) + ": G must divide num_attention_heads (" +
                    std::to_string(n_h) + "); valid G: " + divisors_of(n_h));
      }
      return {per_head(VariantKind::gqa, groups, shape), false, why + ", " + d_h_rule};
    }
    case Kind::mla: {
      std::uint32_t d_c = request.kv_lora_rank;
      std::uint32_t d_r = request.qk_rope_head_dim;
      std::string why;
      if (d_c == 0 && shape.mla) {
        d_c = shape.mla->kv_lora_rank;
        why = "d_c = kv_lora_rank = " + std::to_string(d_c) + " (the model's own)";
      } else if (d_c == 0) {
        d_c = kDefaultKvLoraRank;
        why = "d_c = 512 (DeepSeek-V2/V3's latent; set another with mla:d_c)";
      } else {
        why = "d_c = " + std::to_string(d_c) + " as requested";
      }
      if (d_r == 0 && shape.mla) {
        d_r = shape.mla->qk_rope_head_dim;
        why += ", d_R = qk_rope_head_dim = " + std::to_string(d_r) + " (the model's own)";
      } else if (d_r == 0) {
        d_r = kDefaultQkRopeHeadDim;
        why += ", d_R = 64 (DeepSeek's decoupled RoPE key; set another with mla:d_c:d_R)";
      } else {
        why += ", d_R = " + std::to_string(d_r) + " as requested";
      }
      std::uint64_t mla_scalars = std::uint64_t{d_c} + d_r;
      std::uint64_t mha_scalars = std::uint64_t{n_h} * (std::uint64_t{d_h} + (shape.v_head_dim ? shape.v_head_dim : d_h));
      if (mla_scalars >= mha_scalars) {
        throw Error("--variant mla:" + std::to_string(d_c) + ":" + std::to_string(d_r) +
                    ": a latent of d_c + d_R = " + std::to_string(mla_scalars) +
                    " scalars is not smaller than MHA's " +
                    (shape.v_head_dim ? "n_h * (d_h + d_v)" : "2 * n_h * d_h") + " = " +
                    std::to_string(mha_scalars) + " for this model; choose d_c + d_R < " +
                    std::to_string(mha_scalars));
      }
      bool is_native = shape.mla && shape.mla->kv_lora_rank == d_c &&
                       shape.mla->qk_rope_head_dim == d_r;
      return {Variant{VariantKind::mla, 0, 0, d_c, d_r}, is_native, why};
    }
  }
  throw Error("unhandled variant", ExitCode::internal);
}

}  // namespace

std::string Variant::name() const {
  switch (kind) {
    case VariantKind::mha: return "mha";
    case VariantKind::mqa: return "mqa";
    case VariantKind::gqa: return "gqa:" + std::to_string(kv_heads);
    case VariantKind::mla:
      return "mla:" + std::to_string(kv_lora_rank) + ":" + std::to_string(qk_rope_head_dim);
  }
  return "?";
}

std::vector<VariantRequest> parse_variants(std::string_view text) {
  if (text.empty()) throw Error("--variant: empty; expected native, mha, mqa, gqa[:G], mla[:d_c[:d_R]] or all");
  std::vector<VariantRequest> requests;
  for (std::string_view item : split(text, ',')) {
    if (item.empty()) throw Error("--variant: empty item in '" + std::string(text) + "'");
    for (const VariantRequest& request : parse_one(item)) requests.push_back(request);
  }
  return requests;
}

Variant native_variant(const ModelShape& shape) {
  if (shape.mla) {
    return Variant{VariantKind::mla, 0, 0, shape.mla->kv_lora_rank, shape.mla->qk_rope_head_dim};
  }
  std::uint32_t kv_heads = shape.num_key_value_heads;
  VariantKind kind = kv_heads == shape.num_attention_heads ? VariantKind::mha
                     : kv_heads == 1                       ? VariantKind::mqa
                                                           : VariantKind::gqa;
  return per_head(kind, kv_heads, shape);
}

Variant full_layer_variant(const Variant& variant, bool native, const ModelShape& shape) {
  if (!shape.full_layer_kv || variant.kind == VariantKind::mla) return variant;
  Variant full = variant;
  full.head_dim = shape.full_layer_kv->head_dim;
  full.v_head_dim = shape.full_layer_kv->v_head_dim;
  if (native) {
    full.kv_heads = shape.full_layer_kv->num_key_value_heads;
    full.kind = full.kv_heads == shape.num_attention_heads ? VariantKind::mha
                : full.kv_heads == 1                       ? VariantKind::mqa
                                                           : VariantKind::gqa;
  }
  return full;
}

std::vector<ResolvedVariant> resolve_variants(const std::vector<VariantRequest>& requests,
                                              const ModelShape& shape, std::vector<std::string>* skipped) {
  const Variant native = native_variant(shape);
  std::vector<ResolvedVariant> resolved;
  for (const VariantRequest& request : requests) {
    ResolvedVariant one;
    try {
      one = resolve_one(request, shape);
    } catch (const Error& e) {
      if (!request.from_all) throw;
      if (skipped != nullptr) skipped->push_back(std::string("variant skipped: ") + e.what());
      continue;
    }
    one.native = one.native || (one.variant.name() == native.name());
    bool seen = false;
    for (const ResolvedVariant& earlier : resolved) seen |= earlier.variant.name() == one.variant.name();
    if (!seen) resolved.push_back(std::move(one));
  }
  return resolved;
}

}  // namespace kvplan

namespace kvplan {

std::vector<ResolvedVariant> resolve_variants_skipping(std::vector<VariantRequest> requests, const ModelShape& shape,
                                                       std::vector<std::string>& skipped) {
  for (VariantRequest& request : requests) request.from_all = true;
  return resolve_variants(requests, shape, &skipped);
}

}  // namespace kvplan
