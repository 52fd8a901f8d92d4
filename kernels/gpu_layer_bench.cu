// `kvplan bench --phase layer` on the device: one attention layer per variant (kernels/layer.h),
// checked stage by stage on sampled elements, then timed as a whole.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <random>
#include <string>

#include "core/error.h"
#include "kernels/cuda_util.cuh"
#include "kernels/layer.h"
#include "kernels/layer_kernels.cuh"
#include "kernels/numeric.h"
#include "kernels/prefill_device.cuh"

namespace kvplan::kernels {
namespace {

// A bf16 row-major matrix on the device, and its host copy after the checked run.
struct Matrix {
  Matrix(std::size_t row_count, std::size_t col_count, bool is_output)
      : rows(row_count), cols(col_count), output(is_output), device(std::make_unique<DeviceBuffer>(2 * rows * cols)) {}
  std::size_t rows, cols;
  bool output;  // written by the layer (poisoned before the checked run), not random input
  std::unique_ptr<DeviceBuffer> device;
  std::vector<std::uint16_t> host;

  void* data(std::size_t offset = 0) const { return device->as<std::uint16_t>() + offset; }
  void fetch() {
    host.resize(rows * cols);
    cuda_check(cudaMemcpy(host.data(), device->get(), device->bytes(), cudaMemcpyDeviceToHost), "fetch");
  }
  double at(std::size_t r, std::size_t c) const { return bf16_to_float(host[r * cols + c]); }
};

// RoPE applied to heads of a GEMM's output: columns base + h * head_stride + offset + [0, rot).
struct Rope {
  std::size_t base, heads, head_stride, offset, rot;
};

// C = A[:, :k] B^T / sqrt(k), then RoPE on `ropes`.
struct Gemm {
  Matrix *a, *b, *c;
  std::size_t k;
  std::vector<Rope> ropes;
};

struct Layer {
  std::vector<std::unique_ptr<Matrix>> matrices;
  std::vector<Gemm> gemms;
  std::vector<std::function<void(cudaStream_t)>> steps;  // in order: GEMMs, RoPE, attention, ...
  std::unique_ptr<DevicePrefill> attention;              // owns seq_starts, caches; its q/k/v unused
  PrefillParams params;                                  // attention on views of the layer's matrices
  Matrix* assembled_k = nullptr;                         // MLA
  Matrix *kv = nullptr, *latent = nullptr;

  Matrix* matrix(std::size_t rows, std::size_t cols, std::uint64_t random_seed = 0) {
    matrices.push_back(std::make_unique<Matrix>(rows, cols, random_seed == 0));
    if (random_seed) fill_random_device(matrices.back()->data(), rows * cols, KvType::bf16, random_seed);
    return matrices.back().get();
  }
  void gemm(Matrix* a, Matrix* b, Matrix* c, std::size_t k, std::vector<Rope> ropes = {}) {
    gemms.push_back({a, b, c, k, ropes});
    steps.push_back([=](cudaStream_t s) {
      gemm_bf16_abt(static_cast<int>(a->rows), static_cast<int>(b->rows), static_cast<int>(k), 1.0f / std::sqrt(static_cast<float>(k)),
                    a->data(), static_cast<long long>(a->cols), b->data(), static_cast<long long>(b->cols), c->data(),
                    static_cast<long long>(c->cols), s);
    });
  }
  void rope(Matrix* m, const Rope& r, const PrefillParams& p) {
    RopeParams rp{m->data(r.base), p.seq_starts, p.batch, p.max_seq_len, static_cast<long long>(m->cols),
                  static_cast<long long>(r.head_stride), static_cast<int>(r.heads), static_cast<int>(r.offset), static_cast<int>(r.rot)};
    steps.push_back([rp](cudaStream_t s) { launch_rope(rp, s); });
  }
  void run(cudaStream_t stream) {
    for (auto& step : steps) step(stream);
  }
};

std::unique_ptr<Layer> build(const GpuInfo& gpu, const LayerBenchShape& s, std::uint64_t seed) {
  auto layer = std::make_unique<Layer>();
  Layer& l = *layer;
  const PrefillShape& a = s.attention;
  l.attention = std::make_unique<DevicePrefill>(gpu, a, seed);
  PrefillParams p = l.attention->params();
  const std::size_t t = static_cast<std::size_t>(a.tokens()), d = static_cast<std::size_t>(s.hidden_size);
  const std::size_t h = static_cast<std::size_t>(a.n_q_heads), dqk = static_cast<std::size_t>(a.head_dim_qk);
  const std::size_t dv = static_cast<std::size_t>(a.head_dim_v);
  Matrix* x = l.matrix(t, d, seed + 10);
  Matrix* o = l.matrix(t, h * dv);
  Matrix* w_o = l.matrix(d, h * dv, seed + 11);
  Matrix* y = l.matrix(t, d);
  if (!s.mla) {
    const std::size_t hkv = static_cast<std::size_t>(a.n_kv_heads), width = (h + 2 * hkv) * dqk;
    Matrix* w_qkv = l.matrix(width, d, seed + 12);
    Matrix* qkv = l.matrix(t, width);
    const Rope q_rope{0, h, dqk, 0, dqk}, k_rope{h * dqk, hkv, dqk, 0, dqk};
    l.gemm(x, w_qkv, qkv, d, {q_rope, k_rope});
    l.rope(qkv, q_rope, p);
    l.rope(qkv, k_rope, p);
    p.q = qkv->data();
    p.k = qkv->data(h * dqk);
    p.v = qkv->data((h + hkv) * dqk);
    p.q_token_stride = p.k_token_stride = p.v_token_stride = static_cast<long long>(width);
  } else {
    const std::size_t rope = static_cast<std::size_t>(s.rope_dim), nope = dqk - rope;
    const std::size_t width = static_cast<std::size_t>(a.latent_width), rank = width - rope;
    Matrix* q = l.matrix(t, h * dqk);
    const Rope q_rope{0, h, dqk, nope, rope}, k_rope{0, 1, width, rank, rope};
    if (s.q_lora_rank > 0) {
      const std::size_t r = static_cast<std::size_t>(s.q_lora_rank);
      Matrix* cq = l.matrix(t, r);
      l.gemm(x, l.matrix(r, d, seed + 13), cq, d);
      l.gemm(cq, l.matrix(h * dqk, r, seed + 14), q, r, {q_rope});
    } else {
      l.gemm(x, l.matrix(h * dqk, d, seed + 14), q, d, {q_rope});
    }
    l.latent = l.matrix(t, width);
    l.gemm(x, l.matrix(width, d, seed + 15), l.latent, d, {k_rope});
    l.rope(q, q_rope, p);
    l.rope(l.latent, k_rope, p);
    LatentCacheParams cache = l.attention->latent_params();
    cache.latent = l.latent->data();
    l.steps.push_back([cache](cudaStream_t st) { launch_latent_cache_write(cache, st); });
    l.kv = l.matrix(t, h * (nope + dv));
    l.gemm(l.latent, l.matrix(h * (nope + dv), rank, seed + 16), l.kv, rank);
    l.assembled_k = l.matrix(t, h * dqk);
    AssembleKParams k{l.kv->data(), l.latent->data(), l.assembled_k->data(), static_cast<int>(t), static_cast<int>(h),
                      static_cast<int>(nope), static_cast<int>(rope), static_cast<int>(width),
                      static_cast<long long>(h * (nope + dv)), static_cast<long long>(nope + dv)};
    l.steps.push_back([k](cudaStream_t st) { launch_assemble_k(k, st); });
    p.q = q->data();
    p.k = l.assembled_k->data();
    p.v = l.kv->data(nope);
    p.v_token_stride = static_cast<long long>(h * (nope + dv));
    p.v_head_stride = static_cast<long long>(nope + dv);
  }
  p.out = o->data();
  l.params = p;
  l.steps.push_back([p](cudaStream_t st) { launch_prefill(p, st); });
  l.gemm(o, w_o, y, h * dv);
  return layer;
}

// Sampled elements of one GEMM (and its RoPE) against double arithmetic on its copied-back inputs.
void check_gemm(const Gemm& g, const std::vector<std::int32_t>& starts, std::mt19937& rng, std::vector<double>& got,
                std::vector<double>& want) {
  auto dot = [&](std::size_t r, std::size_t j) {
    double sum = 0;
    for (std::size_t i = 0; i < g.k; ++i) sum += g.a->at(r, i) * g.b->at(j, i);
    return sum / std::sqrt(static_cast<double>(g.k));
  };
  for (int sample = 0; sample < 256; ++sample) {
    const std::size_t r = rng() % g.c->rows, j = rng() % g.c->cols;
    double value = dot(r, j);
    for (const Rope& rope : g.ropes) {
      if (j < rope.base || j >= rope.base + rope.heads * rope.head_stride) continue;
      const std::size_t w = (j - rope.base) % rope.head_stride;
      if (w < rope.offset || w >= rope.offset + rope.rot) continue;
      const std::size_t half = rope.rot / 2, i = (w - rope.offset) % half;
      const bool first = w - rope.offset < half;
      const std::size_t partner = first ? j + half : j - half;
      const auto b = static_cast<std::size_t>(std::upper_bound(starts.begin(), starts.end(), static_cast<int>(r)) - starts.begin() - 1);
      const double angle = static_cast<double>(r - static_cast<std::size_t>(starts[b])) * std::pow(kRopeBase, -2.0 * i / rope.rot);
      const double other = dot(r, partner);
      value = first ? value * std::cos(angle) - other * std::sin(angle) : value * std::cos(angle) + other * std::sin(angle);
    }
    got.push_back(g.c->at(r, j));
    want.push_back(value);
  }
}

}  // namespace

PhaseBenchResult bench_layer(const GpuInfo& gpu, const LayerBenchShape& shape, int iters, std::uint64_t seed,
                             const Progress& progress) {
  std::size_t free_bytes = 0, total_bytes = 0;
  cuda_check(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo");
  if (layer_device_bytes(shape) + 2 * gpu.l2_bytes > free_bytes) {
    throw Error("this layer needs " + std::to_string(layer_device_bytes(shape) >> 20) + " MiB on the device and " +
                std::to_string(free_bytes >> 20) + " MiB are free; lower --batch or --ctx");
  }
  progress("filling the hidden states and weights on the device");
  std::unique_ptr<Layer> layer = build(gpu, shape, seed);
  PhaseBenchResult result;
  result.threshold = prefill_error_threshold(KvType::bf16);

  progress("checking every stage against double arithmetic on sampled elements");
  for (auto& m : layer->matrices) {
    if (m->output) cuda_check(cudaMemset(m->data(), 0xff, m->device->bytes()), "poison");  // NaN in bf16
  }
  layer->attention->poison();
  layer->run(nullptr);
  cuda_check(cudaDeviceSynchronize(), "layer");
  for (auto& m : layer->matrices) m->fetch();
  std::mt19937 rng(static_cast<std::uint32_t>(seed));
  const std::vector<std::int32_t>& starts = layer->attention->seq_starts();
  double worst = 0;
  auto stage = [&](std::vector<double>& got, std::vector<double>& want) {
    const double error = relative_l2_error(got, want);
    worst = std::isnan(error) || std::isnan(worst) ? NAN : std::max(worst, error);
    result.checked_rows += static_cast<int>(got.size());
  };
  for (const Gemm& g : layer->gemms) {
    std::vector<double> got, want;
    check_gemm(g, starts, rng, got, want);
    stage(got, want);
  }
  {
    // Attention on the layer's own q/k/v (copied back), first and last sequence, first and last head.
    PrefillParams host = layer->params;
    for (auto& m : layer->matrices) {
      const void* begin = m->data();
      const void* end = m->device->as<std::uint16_t>() + m->rows * m->cols;
      auto mapped = [&](const void* device) -> const void* {
        if (device < begin || device >= end) return nullptr;
        return m->host.data() + (static_cast<const std::uint16_t*>(device) - static_cast<const std::uint16_t*>(begin));
      };
      if (const void* q = mapped(layer->params.q)) host.q = q;
      if (const void* k = mapped(layer->params.k)) host.k = k;
      if (const void* v = mapped(layer->params.v)) host.v = v;
      if (const void* o = mapped(layer->params.out)) host.out = const_cast<void*>(o);
    }
    host.seq_starts = starts.data();
    host.k_cache = host.v_cache = nullptr;
    host.block_table = nullptr;
    std::vector<PrefillRow> rows;
    const int batch = host.batch;
    for (int b : {0, batch - 1}) {
      for (int t : checked_tokens(starts[static_cast<std::size_t>(b) + 1] - starts[static_cast<std::size_t>(b)])) {
        for (int h : {0, host.n_q_heads - 1}) rows.push_back({b, t, h});
      }
    }
    std::vector<double> want = prefill_reference(host, rows), got;
    for (const PrefillRow& r : rows) {
      const std::size_t at = static_cast<std::size_t>((starts[static_cast<std::size_t>(r.batch_index)] + r.token) * host.out_token_stride +
                                                      r.q_head * host.out_head_stride);
      for (int i = 0; i < host.head_dim_v; ++i) got.push_back(bf16_to_float(static_cast<const std::uint16_t*>(host.out)[at + i]));
    }
    stage(got, want);
  }
  if (layer->assembled_k != nullptr) {  // MLA's keys: an exact copy of k_nope and the shared k_R
    std::vector<double> got, want;
    const Matrix& k = *layer->assembled_k;
    const std::size_t heads = static_cast<std::size_t>(shape.attention.n_q_heads), rope = static_cast<std::size_t>(shape.rope_dim);
    const std::size_t dqk = k.cols / heads, nope = dqk - rope, kv_head = layer->kv->cols / heads;
    for (int sample = 0; sample < 256; ++sample) {
      const std::size_t r = rng() % k.rows, j = rng() % k.cols, h = j / dqk, w = j % dqk;
      got.push_back(k.at(r, j));
      want.push_back(w < nope ? layer->kv->at(r, h * kv_head + w) : layer->latent->at(r, layer->latent->cols - rope + (w - nope)));
    }
    stage(got, want);
  }
  result.rel_l2_error = worst;
  result.correct = worst < result.threshold;  // false for NaN too
  if (!result.correct) return result;

  progress("timing " + std::to_string(iters) + " runs of the whole layer");
  EventTimer timer(gpu.l2_bytes);
  for (int i = 0; i < 3; ++i) layer->run(nullptr);
  for (int i = 0; i < iters; ++i) result.times_s.push_back(timer.seconds([&] { layer->run(nullptr); }));
  result.median_s = median(result.times_s);
  return result;
}

}  // namespace kvplan::kernels
