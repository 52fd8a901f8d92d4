// vLLM's sharding of a checkpoint's tensors, by hand: the expected bytes per GPU are written out
// from the tensor shapes and the rule of each layer type (docs/checkpoints.md).
#include <doctest/doctest.h>

#include <memory>

#include "core/checkpoint_shards.h"
#include "core/error.h"
#include "hub/hub_fixtures.h"

using namespace kvplan;
using kvplan::testing::TestTensor;

namespace {

ModelShape with_checkpoint(ModelShape shape, const std::vector<TestTensor>& tensors, std::string quant_method = "") {
  auto checkpoint = std::make_shared<Checkpoint>();
  checkpoint->origin = "a test";
  checkpoint->quant_method = std::move(quant_method);
  for (const TestTensor& tensor : tensors) {
    std::uint64_t elements = 1;
    for (std::uint64_t dim : tensor.shape) elements *= dim;
    checkpoint->tensors.push_back({tensor.name, tensor.dtype, tensor.shape, elements, kvplan::testing::tensor_bytes(tensor)});
  }
  shape.checkpoint = std::move(checkpoint);
  return shape;
}

ModelShape llama_3_1_8b() {
  ModelShape shape;
  shape.num_hidden_layers = 32;
  shape.num_attention_heads = 32;
  shape.num_key_value_heads = 8;
  std::vector<TestTensor> tensors;
  for (const auto& shard : kvplan::testing::llama_3_1_8b_shards()) tensors.insert(tensors.end(), shard.begin(), shard.end());
  return with_checkpoint(shape, tensors);
}

std::uint64_t stage_bytes(const ModelShape& shape, Parallelism parallel, std::uint32_t stage = 0) {
  return checkpoint_stage_weights(shape, parallel, stage).bytes;
}

constexpr std::uint64_t kEmbedding = 128256ull * 4096 * 2;  // 128256 is already a multiple of 64
constexpr std::uint64_t kQ = 4096ull * 4096 * 2, kKv = 1024ull * 4096 * 2, kMlp = 14336ull * 4096 * 2, kNorm = 4096 * 2;

}  // namespace

TEST_CASE("Llama-3.1-8B per GPU: TP splits projections and vocabulary, norms stay whole") {
  const ModelShape shape = llama_3_1_8b();
  const std::uint64_t layer = 2 * kQ + 2 * kKv + 3 * kMlp + 2 * kNorm;
  CHECK(stage_bytes(shape, {1, 1, 1}) == 2 * kEmbedding + 32 * layer + kNorm);
  CHECK(stage_bytes(shape, {2, 1, 1}) == 2 * kEmbedding / 2 + 32 * ((2 * kQ + 2 * kKv + 3 * kMlp) / 2 + 2 * kNorm) + kNorm);
  // TP 16 over 8 K/V heads: each rank keeps one whole K and V head (128 of the 1024 rows).
  CHECK(stage_bytes(shape, {16, 1, 1}) ==
        2 * kEmbedding / 16 + 32 * ((2 * kQ + 3 * kMlp) / 16 + 2 * kKv / 8 + 2 * kNorm) + kNorm);
  const RankWeights tp16 = checkpoint_stage_weights(shape, {16, 1, 1}, 0);
  CHECK(tp16.by_role.at("k/v projections") == 32 * 2 * kKv / 8);
  CHECK(tp16.by_role.at("replicated") == (32 * 2 + 1) * kNorm);
  CHECK(tp16.by_dtype.size() == 1);
  CHECK(tp16.by_dtype.at("bf16") == tp16.bytes);
}

TEST_CASE("Llama-3.1-8B over PP 2: the embedding and layers 0-15 first, layers 16-31, the norm and the LM head last") {
  const ModelShape shape = llama_3_1_8b();
  const std::uint64_t layer = 2 * kQ + 2 * kKv + 3 * kMlp + 2 * kNorm;
  CHECK(stage_bytes(shape, {1, 2, 1}, 0) == kEmbedding + 16 * layer);
  CHECK(stage_bytes(shape, {1, 2, 1}, 1) == 16 * layer + kNorm + kEmbedding);
  CHECK(checkpoint_widest_stage(shape, {1, 2, 1}) == 1);
  CHECK(checkpoint_weights_per_rank(shape, {1, 2, 1}).value == 16 * layer + kNorm + kEmbedding);
}

TEST_CASE("vocabulary-parallel layers pad the vocabulary to a multiple of 64 before dividing it") {
  ModelShape shape;
  shape.num_hidden_layers = 1;
  shape.num_key_value_heads = 1;
  // 1000 rows -> 1024, a quarter each at TP 4: 256 rows x 256 x 2 B.
  const ModelShape model = with_checkpoint(shape, {{"model.embed_tokens.weight", "BF16", {1000, 256}}});
  CHECK(stage_bytes(model, {4, 1, 1}) == 256 * 256 * 2);
  CHECK(stage_bytes(model, {1, 1, 1}) == 1024 * 256 * 2);
}

TEST_CASE("a tied LM head: the last PP stage holds its own copy of the embedding") {
  ModelShape shape;
  shape.num_hidden_layers = 2;
  shape.num_key_value_heads = 1;
  shape.tie_word_embeddings = true;
  const ModelShape model = with_checkpoint(shape, {{"model.embed_tokens.weight", "BF16", {64, 8}},
                                                   {"model.layers.0.mlp.down_proj.weight", "BF16", {8, 16}},
                                                   {"model.layers.1.mlp.down_proj.weight", "BF16", {8, 16}},
                                                   {"model.norm.weight", "BF16", {8}}});
  CHECK(stage_bytes(model, {1, 1, 1}) == 64 * 8 * 2 + 2 * 8 * 16 * 2 + 8 * 2);
  CHECK(stage_bytes(model, {1, 2, 1}, 0) == 64 * 8 * 2 + 8 * 16 * 2);
  CHECK(stage_bytes(model, {1, 2, 1}, 1) == 64 * 8 * 2 + 8 * 16 * 2 + 8 * 2);
}

TEST_CASE("MoE experts split over TP, or over TP x DP where vLLM spans MoE layers across DP, and the router is replicated") {
  ModelShape shape;
  shape.num_hidden_layers = 1;
  shape.num_key_value_heads = 1;
  std::vector<TestTensor> tensors{{"model.layers.0.mlp.gate.weight", "BF16", {8, 64}}};
  for (int expert = 0; expert < 8; ++expert) {
    const std::string prefix = "model.layers.0.mlp.experts." + std::to_string(expert) + ".";
    tensors.push_back({prefix + "gate_proj.weight", "BF16", {32, 64}});
    tensors.push_back({prefix + "up_proj.weight", "BF16", {32, 64}});
    tensors.push_back({prefix + "down_proj.weight", "BF16", {64, 32}});
  }
  const ModelShape model = with_checkpoint(shape, tensors);
  const std::uint64_t router = 8 * 64 * 2, experts = 8 * 3 * 32 * 64 * 2;
  // Independent DP replicas (expert_dp 1: SGLang, TensorRT-LLM, dense models): each TP group holds half.
  CHECK(stage_bytes(model, {2, 1, 2}) == router + experts / 2);
  // vLLM's DP spans each MoE layer (expert_dp = dp): a slice of every expert over TP x DP = 4 ranks, or
  // with --enable-expert-parallel 2 whole experts on each, the same bytes per rank.
  Parallelism vllm_dp{2, 1, 2};
  vllm_dp.expert_dp = 2;
  CHECK(stage_bytes(model, vllm_dp) == router + experts / 4);
  Parallelism expert_parallel = vllm_dp;
  expert_parallel.expert_parallel = true;
  CHECK(stage_bytes(model, expert_parallel) == router + experts / 4);
  CHECK(checkpoint_stage_weights(model, expert_parallel, 0).by_role.at("experts") == experts / 4);
}

TEST_CASE("AWQ and GPTQ store packed weights input-first: TP splits their other dimension") {
  ModelShape shape;
  shape.num_hidden_layers = 1;
  shape.num_key_value_heads = 4;
  // q_proj.qweight [in 3, out/8 8] int32: column-parallel keeps 8/2 columns of all 3 rows.
  const std::vector<TestTensor> tensors{{"model.layers.0.self_attn.q_proj.qweight", "I32", {3, 8}}};
  CHECK(stage_bytes(with_checkpoint(shape, tensors, "awq"), {2, 1, 1}) == 3 * 4 * 4);
  // Unquantized [out 3, in 8]: ceil(3 / 2) = 2 rows of 8.
  CHECK(stage_bytes(with_checkpoint(shape, tensors), {2, 1, 1}) == 2 * 8 * 4);
}

TEST_CASE("MTP layers and rotary tables are in the files but not in memory") {
  ModelShape shape;
  shape.num_hidden_layers = 1;
  shape.num_key_value_heads = 1;
  const ModelShape model = with_checkpoint(shape, {{"model.layers.0.mlp.down_proj.weight", "BF16", {8, 16}},
                                                   {"model.layers.1.eh_proj.weight", "BF16", {8, 16}},
                                                   {"model.layers.0.self_attn.rotary_emb.inv_freq", "F32", {4}}});
  const RankWeights weights = checkpoint_stage_weights(model, {1, 1, 1}, 0);
  CHECK(weights.bytes == 8 * 16 * 2);
  CHECK(weights.not_loaded_tensors == 2);
  CHECK(weights.not_loaded_bytes == 8 * 16 * 2 + 4 * 4);
}

TEST_CASE("tensor roles by name: DeepSeek's MLA and MoE, gpt-oss's fused experts, a vision tower") {
  ModelShape shape;
  shape.num_hidden_layers = 61;
  auto role = [&](const std::string& name) { return place_tensor(name, shape).role; };
  CHECK(role("model.layers.3.self_attn.q_a_proj.weight") == TensorRole::replicated);
  CHECK(role("model.layers.3.self_attn.kv_a_proj_with_mqa.weight_scale_inv") == TensorRole::replicated);
  CHECK(role("model.layers.3.self_attn.q_b_proj.weight") == TensorRole::column);
  CHECK(role("model.layers.3.self_attn.kv_b_proj.weight") == TensorRole::column);
  CHECK(role("model.layers.3.mlp.gate.weight") == TensorRole::replicated);
  CHECK(role("model.layers.3.mlp.gate.e_score_correction_bias") == TensorRole::replicated);
  CHECK(role("model.layers.3.mlp.shared_experts.down_proj.weight") == TensorRole::row);
  CHECK(role("model.layers.3.mlp.experts.17.up_proj.weight") == TensorRole::expert);
  CHECK(role("model.layers.61.mlp.experts.17.up_proj.weight") == TensorRole::not_loaded);
  CHECK(role("model.layers.0.mlp.experts.gate_up_proj_blocks") == TensorRole::expert);
  CHECK(role("lm_head.weight") == TensorRole::lm_head);
  const TensorPlacement vision = place_tensor("vision_tower.vision_model.encoder.layers.0.self_attn.k_proj.weight", shape);
  CHECK(vision.role == TensorRole::column);
  CHECK_FALSE(vision.in_layer);
  const TensorPlacement norm = place_tensor("model.norm.weight", shape);
  CHECK(norm.role == TensorRole::replicated);
  CHECK(norm.last_stage);
}

TEST_CASE("the checkpoint's dtypes by bytes, and its mean bytes per stored value") {
  ModelShape shape;
  const ModelShape model = with_checkpoint(shape, {{"a.weight", "F8_E4M3", {100, 10}}, {"a.weight_scale", "F32", {1}},
                                                   {"model.embed_tokens.weight", "BF16", {10, 10}}});
  const WeightsDtype dtype = checkpoint_weights_dtype(*model.checkpoint);
  CHECK(dtype.name == "fp8_e4m3+bf16+fp32");
  CHECK(dtype.bytes_per_param == doctest::Approx((1000.0 + 4 + 200) / (1000 + 1 + 100)));
}

namespace {

// Bytes on rank 0 of the tensors whose names contain any of `parts`.
std::uint64_t bytes_of(const ModelShape& shape, std::uint32_t tp, std::initializer_list<const char*> parts) {
  ModelShape subset = shape;
  auto checkpoint = std::make_shared<Checkpoint>(*shape.checkpoint);
  std::erase_if(checkpoint->tensors, [&](const CheckpointTensor& tensor) {
    for (const char* part : parts) {
      if (tensor.name.find(part) != std::string::npos) return false;
    }
    return true;
  });
  subset.checkpoint = std::move(checkpoint);
  return checkpoint_stage_weights(subset, {tp, 1, 1}, 0).bytes;
}

}  // namespace

// The expected values are vLLM 0.33's own layer classes at that TP size, rank 0:
//   python scripts/vllm_shard_oracle.py TP HIDDEN HEADS KV_HEADS HEAD_DIM INTERMEDIATE VOCAB
TEST_CASE("per-rank bytes equal vLLM's own layers: Llama-3.1-8B at TP 2 and 16") {
  ModelShape shape = llama_3_1_8b();
  // scripts/vllm_shard_oracle.py 2 4096 32 8 128 14336 128256
  CHECK(bytes_of(shape, 2, {"embed_tokens"}) == 525336576);
  CHECK(bytes_of(shape, 2, {"lm_head"}) == 525336576);
  CHECK(bytes_of(shape, 2, {"layers.0.self_attn.q_proj", "layers.0.self_attn.k_proj", "layers.0.self_attn.v_proj"}) ==
        25165824);
  CHECK(bytes_of(shape, 2, {"layers.0.self_attn.o_proj"}) == 16777216);
  CHECK(bytes_of(shape, 2, {"layers.0.mlp.gate_proj", "layers.0.mlp.up_proj"}) == 117440512);
  CHECK(bytes_of(shape, 2, {"layers.0.mlp.down_proj"}) == 58720256);
  // scripts/vllm_shard_oracle.py 16 4096 32 8 128 14336 128256: K/V kept whole per head.
  CHECK(bytes_of(shape, 16, {"embed_tokens"}) == 65667072);
  CHECK(bytes_of(shape, 16, {"layers.0.self_attn.q_proj", "layers.0.self_attn.k_proj", "layers.0.self_attn.v_proj"}) ==
        4194304);
  CHECK(bytes_of(shape, 16, {"layers.0.self_attn.o_proj"}) == 2097152);
  CHECK(bytes_of(shape, 16, {"layers.0.mlp.gate_proj", "layers.0.mlp.up_proj"}) == 14680064);
  CHECK(bytes_of(shape, 16, {"layers.0.mlp.down_proj"}) == 7340032);
}

TEST_CASE("per-rank bytes equal vLLM's own layers: a padded vocabulary and 2 K/V heads at TP 4") {
  ModelShape shape;
  shape.num_hidden_layers = 1;
  shape.num_key_value_heads = 2;
  const ModelShape model = with_checkpoint(shape, {{"model.embed_tokens.weight", "BF16", {1000, 256}},
                                                   {"lm_head.weight", "BF16", {1000, 256}},
                                                   {"model.layers.0.self_attn.q_proj.weight", "BF16", {256, 256}},
                                                   {"model.layers.0.self_attn.k_proj.weight", "BF16", {128, 256}},
                                                   {"model.layers.0.self_attn.v_proj.weight", "BF16", {128, 256}},
                                                   {"model.layers.0.self_attn.o_proj.weight", "BF16", {256, 256}},
                                                   {"model.layers.0.mlp.gate_proj.weight", "BF16", {512, 256}},
                                                   {"model.layers.0.mlp.up_proj.weight", "BF16", {512, 256}},
                                                   {"model.layers.0.mlp.down_proj.weight", "BF16", {256, 512}}});
  // scripts/vllm_shard_oracle.py 4 256 4 2 64 512 1000
  CHECK(bytes_of(model, 4, {"embed_tokens"}) == 131072);
  CHECK(bytes_of(model, 4, {"lm_head"}) == 131072);
  CHECK(bytes_of(model, 4, {"q_proj", "k_proj", "v_proj"}) == 98304);
  CHECK(bytes_of(model, 4, {"o_proj"}) == 32768);
  CHECK(bytes_of(model, 4, {"gate_proj", "up_proj"}) == 131072);
  CHECK(bytes_of(model, 4, {"down_proj"}) == 65536);
  // vLLM refuses TP 3 here (divide(1024, 3) asserts): so does kvplan, rather than round.
  CHECK_THROWS_WITH_AS(bytes_of(model, 3, {"embed_tokens"}),
                       "vLLM splits model.embed_tokens.weight (1024 padded rows or columns) evenly over 3 TP ranks, and "
                       "1024 is not a multiple of 3; choose another --tp",
                       Error);
}

TEST_CASE("an FP8 checkpoint: fp8 projections with their fp32 scales, bf16 embedding and LM head") {
  // As FP8-dynamic checkpoints store them: per-output-channel weight_scale [out, 1], which splits
  // with a column-parallel weight and stays whole beside a row-parallel one (its outputs are not
  // split), and per-tensor scalars.
  ModelShape shape;
  shape.num_hidden_layers = 1;
  shape.num_key_value_heads = 2;
  const ModelShape model = with_checkpoint(shape, {{"model.embed_tokens.weight", "BF16", {1024, 64}},
                                                   {"model.layers.0.self_attn.q_proj.weight", "F8_E4M3", {128, 64}},
                                                   {"model.layers.0.self_attn.q_proj.weight_scale", "F32", {128, 1}},
                                                   {"model.layers.0.self_attn.o_proj.weight", "F8_E4M3", {64, 128}},
                                                   {"model.layers.0.self_attn.o_proj.weight_scale", "F32", {64, 1}},
                                                   {"model.layers.0.self_attn.o_proj.input_scale", "F32", {}},
                                                   {"lm_head.weight", "BF16", {1024, 64}}},
                                           "compressed-tensors");
  const RankWeights weights = checkpoint_stage_weights(model, {2, 1, 1}, 0);
  CHECK(weights.by_dtype.at("bf16") == 2 * (1024 / 2) * 64 * 2);
  CHECK(weights.by_dtype.at("fp8_e4m3") == (128 / 2) * 64 + 64 * (128 / 2));
  CHECK(weights.by_dtype.at("fp32") == (128 / 2) * 4 + 64 * 4 + 4);
  CHECK(weights.bytes == 2 * (1024 / 2) * 64 * 2 + (128 / 2) * 64 + 64 * (128 / 2) + (128 / 2) * 4 + 64 * 4 + 4);
}
