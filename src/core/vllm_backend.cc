#include "core/vllm_backend.h"

#include <array>
#include <numeric>
#include <vector>

#include "core/error.h"

namespace kvplan {
namespace {

enum class BackendFamily { standard, mla, sparse_mla };

// Compute-capability families a backend runs on (supports_compute_capability).
enum : unsigned { kSm8x = 1, kSm90 = 2, kSm100 = 4, kRocm = 8, kAnyCuda = kSm8x | kSm90 | kSm100 };

struct BackendRow {
  std::string_view name;
  BackendFamily family;
  unsigned devices;
  unsigned fp8_devices;   // where "fp8"/"fp8_e4m3" is a supported cache dtype (FlashAttention: FA3/FA4 only)
  bool takes_fp8_ds_mla;  // the sparse MLA backends' 656-byte layout
  bool takes_nvfp4;       // FlashInfer's NVFP4 cache (trtllm-gen on SM 10.x, fa2 elsewhere)
  bool takes_fp32;        // torch.float32 among its supported_dtypes: an fp32 model's "auto" cache
  std::uint32_t kernel_block;  // smallest supported kernel block size; any multiple of it is accepted
  bool dcp;               // its impl's supports_dcp (AttentionBackend.supports_dcp; the AttentionImpl default is False)
};

// Each backend class's validate_configuration inputs in vLLM 0.33 (v1/attention/backends/...).
constexpr std::array<BackendRow, 14> kBackends{{
    {"FLASH_ATTN", BackendFamily::standard, kAnyCuda, kSm90 | kSm100, false, false, false, 16, true},
    {"FLASHINFER", BackendFamily::standard, kAnyCuda, kAnyCuda, false, true, false, 16, true},
    {"TRITON_ATTN", BackendFamily::standard, kAnyCuda | kRocm, kAnyCuda | kRocm, false, false, true, 16, false},
    {"ROCM_ATTN", BackendFamily::standard, kRocm, kRocm, false, false, true, 16, false},
    {"FLASH_ATTN_MLA", BackendFamily::mla, kSm90, 0, false, false, false, 16, true},
    {"FLASHMLA", BackendFamily::mla, kSm90 | kSm100, kSm90 | kSm100, false, false, false, 64, true},
    {"FLASHINFER_MLA", BackendFamily::mla, kSm100, kSm100, false, false, false, 32, true},
    {"CUTLASS_MLA", BackendFamily::mla, kSm100, kSm100, false, false, false, 128, true},
    {"TRITON_MLA", BackendFamily::mla, kAnyCuda | kRocm, kAnyCuda | kRocm, false, false, false, 16, true},
    {"FLASH_ATTN_MLA_SPARSE", BackendFamily::sparse_mla, kSm90, 0, false, false, false, 64, false},
    {"FLASHMLA_SPARSE", BackendFamily::sparse_mla, kSm90 | kSm100, kSm90 | kSm100, true, false, false, 64, true},
    {"FLASHINFER_MLA_SPARSE", BackendFamily::sparse_mla, kSm100, kSm100, false, false, false, 32, true},
    {"FLASH_ATTN_MLA_SPARSE_FA4", BackendFamily::sparse_mla, kSm100, 0, false, false, false, 64, true},
    {"FLASHINFER_MLA_SPARSE_SM90", BackendFamily::sparse_mla, kSm90, kSm90, false, false, false, 64, false},
}};

// DeepSeek-V3.2's indexer backend (DeepseekV32IndexerBackend) takes blocks of exactly 64 tokens on
// CUDA, so a sparse model's block is the least common multiple of 64 and the MLA backend's block.
constexpr std::uint32_t kIndexerBlock = 64;

const BackendRow* find_backend(std::string_view name) {
  for (const BackendRow& row : kBackends) {
    if (row.name == name) return &row;
  }
  return nullptr;
}

unsigned device_family(GpuArchitecture architecture) {
  switch (architecture) {
    case GpuArchitecture::ampere:
    case GpuArchitecture::ada: return kSm8x;
    case GpuArchitecture::hopper: return kSm90;
    case GpuArchitecture::blackwell: return kSm100;
    case GpuArchitecture::cdna3: return kRocm;
    case GpuArchitecture::other: return 0;
  }
  return 0;
}

std::string_view device_text(unsigned device) {
  switch (device) {
    case kSm8x: return "Ampere/Ada (SM 8.x)";
    case kSm90: return "Hopper (SM 9.0)";
    case kSm100: return "Blackwell (SM 10.x)";
    case kRocm: return "ROCm";
  }
  return "this GPU";
}

BackendFamily family_of(const VllmBackendQuery& query) {
  if (!query.mla) return BackendFamily::standard;
  return query.sparse_mla ? BackendFamily::sparse_mla : BackendFamily::mla;
}

// The release's priority list for this device and attention kind (platforms/cuda.py
// _get_backend_priorities, platforms/rocm.py with AITER off, its default).
std::vector<std::string_view> priorities(const VllmRules& rules, unsigned device, BackendFamily family,
                                         const VllmBackendQuery& query) {
  if (family == BackendFamily::sparse_mla) {
    // The dense backends ahead of these refuse sparse models ("sparse not supported").
    if (device != kSm100) {
      return {"FLASH_ATTN_MLA_SPARSE", "FLASHMLA_SPARSE", "FLASHINFER_MLA_SPARSE_SM90"};
    }
    if (is_quantized(query.kv_dtype)) return {"FLASHINFER_MLA_SPARSE", "FLASHMLA_SPARSE"};
    if (query.heads_per_rank <= 16) return {"FLASH_ATTN_MLA_SPARSE_FA4", "FLASHINFER_MLA_SPARSE", "FLASHMLA_SPARSE"};
    return {"FLASHMLA_SPARSE", "FLASHINFER_MLA_SPARSE"};
  }
  if (device == kRocm) {
    return family == BackendFamily::mla ? std::vector<std::string_view>{"TRITON_MLA"}
                                        : std::vector<std::string_view>{"ROCM_ATTN", "TRITON_ATTN"};
  }
  if (family == BackendFamily::standard) {
    return device == kSm100 ? std::vector<std::string_view>{"FLASHINFER", "FLASH_ATTN", "TRITON_ATTN"}
                            : std::vector<std::string_view>{"FLASH_ATTN", "FLASHINFER", "TRITON_ATTN"};
  }
  if (rules.mla_blocks == VllmMlaBlockRule::flashmla_or_cutlass) {
    return device == kSm100 ? std::vector<std::string_view>{"CUTLASS_MLA", "TRITON_MLA"}
                            : std::vector<std::string_view>{"FLASHMLA", "TRITON_MLA"};
  }
  return device == kSm100
             ? std::vector<std::string_view>{"FLASHINFER_MLA", "CUTLASS_MLA", "FLASH_ATTN_MLA", "FLASHMLA", "TRITON_MLA"}
             : std::vector<std::string_view>{"FLASH_ATTN_MLA", "FLASHMLA", "FLASHINFER_MLA", "TRITON_MLA"};
}

// Why `row` cannot serve the model's attention on this device with this cache dtype, or "".
std::string kind_rejection(const BackendRow& row, unsigned device, BackendFamily family, KvDtype dtype) {
  if (row.family != family) {
    switch (row.family) {
      case BackendFamily::standard: return "it is not an MLA backend";
      case BackendFamily::mla: return family == BackendFamily::standard ? "it serves MLA models only"
                                                                          : "it is a dense MLA backend";
      case BackendFamily::sparse_mla: return "it serves sparse MLA models (DeepSeek-V3.2) only";
    }
  }
  if ((row.devices & device) == 0) return "it does not run on " + std::string(device_text(device));
  switch (dtype) {
    case KvDtype::bf16:
    case KvDtype::fp16: return "";
    case KvDtype::fp8_e4m3:
      return (row.fp8_devices & device) != 0 ? "" : "it takes no fp8 cache on " + std::string(device_text(device));
    case KvDtype::fp8_ds_mla: return row.takes_fp8_ds_mla ? "" : "it takes no fp8_ds_mla cache";
    case KvDtype::nvfp4: return row.takes_nvfp4 ? "" : "it takes no nvfp4 cache";
    // An fp32 cache is an fp32 model's "auto" cache: the backend must take fp32 models
    // (validate_configuration checks supported_dtypes: FLASH_ATTN and FLASHINFER take fp16 and bf16
    // only, TRITON_ATTN and ROCM_ATTN fp32 too).
    case KvDtype::fp32: return row.takes_fp32 ? "" : "it takes no fp32 model (supported_dtypes: fp16, bf16)";
    default: return "vLLM has no '" + std::string(to_string(dtype)) + "' cache for it";
  }
}

// Why `row` cannot serve the query, or "" when it can.
std::string rejection(const BackendRow& row, unsigned device, BackendFamily family, KvDtype dtype, bool dcp) {
  std::string why_not = kind_rejection(row, device, family, dtype);
  if (why_not.empty() && dcp && !row.dcp) why_not = "DCP not supported";  // validate_configuration's own words
  return why_not;
}

std::uint32_t preferred_block_size(const BackendRow& row, std::optional<std::uint32_t> user_block_size) {
  // get_preferred_block_size: the default 16 when the kernels take it, else their smallest size;
  // with a sparse model's indexer beside it, the least common multiple of both backends' sizes.
  // A user's --block-size is kept when it is a multiple of a kernel size (hybrid blocks).
  const std::uint32_t kernel = row.family == BackendFamily::sparse_mla ? std::lcm(row.kernel_block, kIndexerBlock)
                                                                        : row.kernel_block;
  if (user_block_size) {
    if (*user_block_size % kernel != 0) {
      throw Error("--block-size " + std::to_string(*user_block_size) + ": vLLM's " + std::string(row.name) +
                  " backend" + (row.family == BackendFamily::sparse_mla ? " and the sparse indexer need" : " needs") +
                  " a multiple of " + std::to_string(kernel) + " tokens");
    }
    return *user_block_size;
  }
  return 16 % kernel == 0 ? 16 : kernel;
}

// FLASHMLA_SPARSE stores any fp8 request in its own fp8_ds_mla layout
// (_canonicalize_sparse_mla_kv_cache_dtype); the other backends store what was asked.
KvDtype stored_dtype(const BackendRow& row, KvDtype requested) {
  if (row.family == BackendFamily::sparse_mla && row.takes_fp8_ds_mla && requested == KvDtype::fp8_e4m3) {
    return KvDtype::fp8_ds_mla;
  }
  return requested;
}

// Backends that validate_configuration accepts with DCP but whose implementation refuses it when
// it starts: FlashMLA sparse decodes DCP only from an fp8_ds_mla cache (FlashMLASparseImpl), and
// FlashInfer's DCP prefill wrapper cannot read NVFP4 scales where NVFP4 runs on fa2 (SM 8.x/9.0).
void check_dcp_implementation(const BackendRow& row, unsigned device, KvDtype stored, const std::string& release) {
  if (row.name == "FLASHMLA_SPARSE" && !is_quantized(stored)) {
    throw Error("--dcp: " + release + "'s FLASHMLA_SPARSE decodes with DCP only from an fp8_ds_mla cache "
                "('the bf16 sparse path is not supported under DCP'); use --kv-dtype fp8");
  }
  if (row.name == "FLASHINFER" && stored == KvDtype::nvfp4 && device != kSm100) {
    throw Error("--dcp: " + release + "'s FlashInfer DCP prefill cannot read NVFP4 block scales off Blackwell "
                "(SM 10.x); use another --kv-dtype");
  }
}

VllmBackend pick(const BackendRow& row, const VllmBackendQuery& query, unsigned device, const std::string& release,
                 std::string why) {
  const KvDtype stored = stored_dtype(row, query.kv_dtype);
  if (query.dcp) check_dcp_implementation(row, device, stored, release);
  return {std::string(row.name), preferred_block_size(row, query.user_block_size), row.kernel_block, stored,
          std::move(why)};
}

}  // namespace

VllmBackend choose_vllm_backend(const VllmRules& rules, const VllmBackendQuery& query) {
  const unsigned device = device_family(query.architecture);
  const BackendFamily family = family_of(query);
  const std::string release = "vLLM " + std::string(rules.version);
  const KvDtype dtype = query.kv_dtype;
  if (device == 0) {
    throw Error("vLLM's attention backend cannot be chosen for a GPU preset without an 'architecture' kvplan knows; "
                "set architecture in the GPU preset, or pass --block-size");
  }
  if (query.requested) {
    const BackendRow* row = find_backend(*query.requested);
    if (row == nullptr) {
      throw Error("--attention-backend: unknown backend '" + *query.requested + "'; kvplan knows " + known_vllm_backends());
    }
    std::string why_not = rejection(*row, device, family, dtype, query.dcp);
    if (!why_not.empty()) {
      throw Error("--attention-backend " + *query.requested + " cannot serve this model on " +
                  std::string(device_text(device)) + " with cache dtype " + std::string(to_string(query.kv_dtype)) +
                  ": " + why_not + " (" + release + " refuses it at start-up)");
    }
    return pick(*row, query, device, release, "--attention-backend " + std::string(row->name));
  }
  std::string skipped;
  for (std::string_view name : priorities(rules, device, family, query)) {
    const BackendRow& row = *find_backend(name);
    std::string why_not = rejection(row, device, family, dtype, query.dcp);
    if (why_not.empty()) {
      std::string why = "first valid backend in " + release + "'s priorities for " +
                        (family == BackendFamily::standard ? std::string("attention")
                         : family == BackendFamily::mla    ? std::string("MLA")
                                                           : std::string("sparse MLA")) +
                        " on " +
                        std::string(device_text(device)) + ", cache dtype " + std::string(to_string(query.kv_dtype));
      if (!skipped.empty()) why += "; skipped " + skipped;
      if (stored_dtype(row, dtype) != dtype) why += "; it stores fp8 as fp8_ds_mla (656 B per token)";
      return pick(row, query, device, release, why);
    }
    skipped += (skipped.empty() ? "" : "; ") + std::string(name) + ": " + why_not;
  }
  if (dtype == KvDtype::fp8_ds_mla && family == BackendFamily::mla) {
    throw Error("--kv-dtype fp8_ds_mla: " + release +
                " has no MLA backend that takes fp8_ds_mla for a dense MLA model (only the sparse backends of "
                "DeepSeek-V3.2 store it); use --kv-dtype fp8 (576 B per token per layer with FlashMLA)");
  }
  throw Error(release + " has no attention backend for this model on " + std::string(device_text(device)) +
              " with cache dtype " + std::string(to_string(query.kv_dtype)) + " (" + skipped + ")");
}

VllmBackend choose_vllm_mm_prefix_backend(const VllmRules& rules, const VllmBackendQuery& query) {
  const std::string release = "vLLM " + std::string(rules.version);
  if (query.requested) {
    throw Error("--attention-backend " + *query.requested + ": kvplan models a model with bidirectional image "
                "attention (use_bidirectional_attention: vision) with " + release + "'s default composite "
                "backends only; leave --attention-backend out");
  }
  if (query.kv_dtype != KvDtype::bf16 && query.kv_dtype != KvDtype::fp16 && query.kv_dtype != KvDtype::fp8_e4m3) {
    throw Error("--kv-dtype " + std::string(to_string(query.kv_dtype)) + ": " + release +
                "'s image-mask composite backends take bf16, fp16 or fp8 caches");
  }
  std::string name;
  std::uint32_t kernel = 16;
  if (query.architecture == GpuArchitecture::hopper) {
    name = "TRITON_FLASH_ATTN";
  } else if (query.architecture == GpuArchitecture::blackwell) {
    name = "TRITON_FLASHINFER";
    kernel = 64;
  } else {
    throw Error(release + " serves a model with bidirectional image attention (use_bidirectional_attention: vision) "
                "with composite backends kvplan models on Hopper (TRITON_FLASH_ATTN) and Blackwell sm_100 "
                "(TRITON_FLASHINFER) only; plan it on an H100/H200/B200-class GPU");
  }
  if (query.user_block_size && *query.user_block_size % kernel != 0) {
    throw Error("--block-size " + std::to_string(*query.user_block_size) + ": vLLM's " + name +
                " backend needs a multiple of " + std::to_string(kernel) + " tokens");
  }
  const std::uint32_t block = query.user_block_size.value_or(kernel);
  return {name, block, kernel, query.kv_dtype,
          release + " puts the image-mask composite " + name + " first for a model whose images attend both ways "
                    "(use_bidirectional_attention: vision); its kernels take blocks of " +
              (kernel == 16 ? std::string("multiples of 16 tokens") : std::string("64 tokens"))};
}

VllmBackend choose_vllm_diffkv_backend(const VllmRules& rules, const VllmBackendQuery& query) {
  const std::string release = "vLLM " + std::string(rules.version);
  const bool fa = query.architecture == GpuArchitecture::hopper || query.architecture == GpuArchitecture::blackwell;
  if (!fa && query.architecture != GpuArchitecture::ampere && query.architecture != GpuArchitecture::ada) {
    throw Error(release + " serves keys and values of different widths with its DiffKV backends; kvplan models them "
                "on NVIDIA GPUs (Ampere, Ada, Hopper, Blackwell) only");
  }
  std::string name = fa ? "FLASH_ATTN_DIFFKV" : "TRITON_ATTN_DIFFKV";
  std::string why = fa ? "FlashAttention 3/4 serves keys and values of different widths on this GPU "
                         "(FlashAttentionDiffKVBackend.is_supported_on_current_device)"
                       : "FlashAttention 2 cannot serve keys and values of different widths, so the Triton kernels do";
  if (query.requested) {
    if (*query.requested != "FLASH_ATTN_DIFFKV" && *query.requested != "TRITON_ATTN_DIFFKV") {
      throw Error("--attention-backend " + *query.requested + ": " + release + " gives layers whose values are narrower "
                  "than their keys a DiffKV backend whatever else is asked; use FLASH_ATTN_DIFFKV or TRITON_ATTN_DIFFKV, "
                  "or leave --attention-backend out");
    }
    if (*query.requested == "FLASH_ATTN_DIFFKV" && !fa) {
      throw Error("--attention-backend FLASH_ATTN_DIFFKV needs FlashAttention 3 or 4 (Hopper or Blackwell); this GPU "
                  "has FlashAttention 2 only: use TRITON_ATTN_DIFFKV");
    }
    name = *query.requested;
    why = "--attention-backend " + name;
  }
  switch (query.kv_dtype) {
    case KvDtype::bf16:
    case KvDtype::fp16: break;
    case KvDtype::fp8_e4m3:
      // FlashAttentionImpl.__init__ checks fp8 with the key width for both halves: at 192 on
      // Blackwell that is FA2, which takes no fp8 cache, and the worker raises NotImplementedError.
      if (name == "FLASH_ATTN_DIFFKV" && query.architecture == GpuArchitecture::blackwell) {
        throw Error("--kv-dtype fp8: " + release + "'s FlashAttentionImpl checks an fp8 cache as if values were as "
                    "wide as keys, which sends it to FA2 on Blackwell, and FA2 takes no fp8 cache (the worker fails "
                    "to start); use --kv-dtype bf16");
      }
      if (name == "FLASH_ATTN_DIFFKV") {
        // get_flash_attn_version moves layers with sinks and unequal widths from FA3 to FA4 on Hopper,
        // and flash_attn_supports_kv_cache_dtype approves FA4's fp8 on Hopper at head 512 only; the
        // worker checks FA3's instead, so it starts, but whether FA4's fp8 path runs is not verified.
        why += "; fp8: a layer with attention sinks runs FA4 on Hopper, whose fp8 cache vLLM approves at head 512 only "
               "(the worker starts; whether it runs at this width is not verified)";
      }
      break;
    default:
      throw Error("--kv-dtype " + std::string(to_string(query.kv_dtype)) + ": " + release + "'s " + name +
                  " takes bf16 or fp8 caches");
  }
  if (query.user_block_size && *query.user_block_size % 16 != 0) {
    throw Error("--block-size " + std::to_string(*query.user_block_size) + ": vLLM's " + name +
                " backend needs a multiple of 16 tokens");
  }
  return {name, query.user_block_size.value_or(16), 16, query.kv_dtype,
          why + "; its kernels take blocks of multiples of 16 tokens (mimo_v2.py:MiMoV2Attention)"};
}

std::string known_vllm_backends() {
  std::string text;
  for (const BackendRow& row : kBackends) text += (text.empty() ? "" : ", ") + std::string(row.name);
  return text;
}

}  // namespace kvplan
