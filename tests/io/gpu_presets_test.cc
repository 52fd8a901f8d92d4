// The embedded GPU presets against their sources: memory totals from real CUDA/torch printouts (or
// the datasheet figure where none was found, as the preset says), datasheet bandwidth and dense
// TFLOP/s. Expected values are copied from those sources, not from running kvplan.
#include <doctest/doctest.h>

#include <cstdint>

#include "core/gpu_spec.h"
#include "io/preset_registry.h"

using namespace kvplan;

namespace {

const io::PresetRegistry& registry() {
  static const io::PresetRegistry instance;
  return instance;
}

}  // namespace

TEST_CASE("GPU presets: memory as CUDA reports it") {
  const double GiB = 1024.0 * 1024 * 1024;
  // vLLM logs total_gpu_memory (79.19GiB) on an H100 SXM and 139.8 GiB on an H200.
  CHECK(static_cast<double>(registry().gpu("h100-sxm").spec.memory_total.value) / GiB == doctest::Approx(79.19).epsilon(0.0001));
  CHECK(static_cast<double>(registry().gpu("h200").spec.memory_total.value) / GiB == doctest::Approx(139.8).epsilon(0.0005));
  // Datasheet: H100 SXM 3.35 TB/s, 989.4 dense bf16 TFLOP/s; A100 has no fp8 tensor cores.
  CHECK(registry().gpu("h100-sxm").spec.hbm_bandwidth_bytes_per_s == 3.35e12);
  CHECK(registry().gpu("h100-sxm").spec.bf16_dense_flops_per_s == doctest::Approx(989.4e12));
  CHECK_FALSE(registry().gpu("a100-80gb").spec.fp8_dense_flops_per_s.has_value());
  for (const char* name : {"a100-40gb", "a100-80gb", "h100-sxm", "h100-pcie", "h100-nvl", "h20", "h800", "h200", "b200",
                           "gb200", "b300", "l40s", "l4", "mi300x", "mi325x", "mi355x", "rtx-4090", "rtx-5090",
                           "rtx-pro-6000", "a10g"}) {
    CAPTURE(name);
    CHECK(registry().gpu(name).info.name == name);
  }
  CHECK(registry().gpus().size() == 20);
}

TEST_CASE("new GPU presets: totals from real printouts, derived from a sibling where none was found") {
  auto total = [](const char* name) { return registry().gpu(name).spec.memory_total.value; };
  const std::uint64_t MiB = 1024 * 1024;
  const std::uint64_t GB = 1000ULL * 1000 * 1000;
  // deviceQuery prints the byte count: H100 NVL 95235 MBytes (99861594112 bytes), L4 22478 MBytes
  // (23570219008 bytes), RTX 5090 32101 MBytes (33660534784 bytes).
  CHECK(total("h100-nvl") == 99861594112ULL);
  CHECK(total("l4") == 23570219008ULL);
  CHECK(total("rtx-5090") == 33660534784ULL);
  // torch prints whole MiB: H20 total_memory=97285MB; the RTX PRO 6000 log line says vram=97250MB.
  CHECK(total("h20") == 97285 * MiB);
  CHECK(total("rtx-pro-6000") == 97250 * MiB);
  // A10G: torch's total_memory=22587MB (whole MiB, so the bytes lie in [22587, 22588) MiB).
  CHECK(total("a10g") == 22587 * MiB);
  // No printout found. H800: the H100 SXM board (same nvidia-smi total, 81559 MiB), so its CUDA
  // total. GB200: nvidia-smi's 189471 MiB less the 728 MiB CUDA reports below nvidia-smi on a B200.
  // MI325X / MI355X: 256 / 288 GiB less 16 MiB, as ROCm reports MI300X's 192 GiB less 16 MiB.
  // B300: the datasheet's 288 GB (268.2 GiB), within 0.5 GiB of nvidia-smi's 275040 MiB.
  const std::uint64_t GiB = 1024 * MiB;
  CHECK(total("h800") == total("h100-sxm"));
  CHECK(total("gb200") == (189471 - 728) * MiB);
  CHECK(total("mi300x") == 192 * GiB - 16 * MiB);
  CHECK(total("mi325x") == 256 * GiB - 16 * MiB);
  CHECK(total("mi355x") == 288 * GiB - 16 * MiB);
  CHECK(total("b300") == 288 * GB);
}

TEST_CASE("new GPU presets: dense tensor throughput is the sparse datasheet figure halved") {
  auto bf16 = [](const char* name) { return registry().gpu(name).spec.bf16_dense_flops_per_s; };
  auto fp8 = [](const char* name) { return *registry().gpu(name).spec.fp8_dense_flops_per_s; };
  // H100 NVL: 1,671* BF16 and 3,341* FP8 TFLOPS with sparsity.
  CHECK(bf16("h100-nvl") == doctest::Approx(1671e12 / 2));
  CHECK(fp8("h100-nvl") == doctest::Approx(3341e12 / 2));
  // GB200 per GPU: 5 PF* BF16, 10 PF* FP8. HGX B300: 36 PF* BF16 and 72 PF* FP8 over 8 GPUs.
  CHECK(bf16("gb200") == doctest::Approx(5000e12 / 2));
  CHECK(fp8("gb200") == doctest::Approx(10000e12 / 2));
  CHECK(bf16("b300") == doctest::Approx(36000e12 / 8 / 2));
  CHECK(fp8("b300") == doctest::Approx(72000e12 / 8 / 2));
  // L4: 242* BF16, 485* FP8.
  CHECK(bf16("l4") == doctest::Approx(242e12 / 2));
  CHECK(fp8("l4") == doctest::Approx(485e12 / 2));
  // MI355X: AMD states dense peaks; FP8 = 256 CUs x 8192 FLOP/clock x 2.4 GHz, BF16 half of it.
  CHECK(fp8("mi355x") == doctest::Approx(256.0 * 8192 * 2.4e9).epsilon(0.0001));
  CHECK(bf16("mi355x") == doctest::Approx(256.0 * 8192 * 2.4e9 / 2).epsilon(0.0001));
  // Bandwidth: H100 NVL 3.9 TB/s, H20 4.0 TB/s, GB200 and B300 8 TB/s, RTX 5090 28 Gbps x 512 bit.
  CHECK(registry().gpu("h100-nvl").spec.hbm_bandwidth_bytes_per_s == 3.9e12);
  CHECK(registry().gpu("h20").spec.hbm_bandwidth_bytes_per_s == 4.0e12);
  CHECK(registry().gpu("gb200").spec.hbm_bandwidth_bytes_per_s == 8e12);
  CHECK(registry().gpu("b300").spec.hbm_bandwidth_bytes_per_s == 8e12);
  CHECK(registry().gpu("rtx-5090").spec.hbm_bandwidth_bytes_per_s == 28e9 * 512 / 8);
}

TEST_CASE("new GPU presets pick the architecture whose vLLM backend choice they share") {
  // SM 12.0 (GeForce and RTX PRO Blackwell) gets vLLM 0.33's SM 8.x attention priorities and
  // TRITON_MLA, not the SM 10.x backends; gfx950 gets the same ROCm priorities as gfx942.
  CHECK(registry().gpu("rtx-5090").spec.architecture == GpuArchitecture::ada);
  CHECK(registry().gpu("rtx-pro-6000").spec.architecture == GpuArchitecture::ada);
  CHECK(registry().gpu("mi355x").spec.architecture == GpuArchitecture::cdna3);
  CHECK(registry().gpu("gb200").spec.architecture == GpuArchitecture::blackwell);
  CHECK(registry().gpu("b300").spec.architecture == GpuArchitecture::blackwell);
  CHECK(registry().gpu("h20").spec.architecture == GpuArchitecture::hopper);
}

TEST_CASE("GPU presets: nvidia-smi's total is above CUDA's where a preset states it") {
  // nvidia-smi counts memory the driver keeps from CUDA: 81559 MiB against 81090 on an H100.
  CHECK(registry().gpu("h100-sxm").spec.nvidia_smi_total_mib == 81559u);
  CHECK(registry().gpu("h200").spec.nvidia_smi_total_mib == 143771u);
  CHECK(registry().gpu("gb200").spec.nvidia_smi_total_mib == 189471u);
  for (const io::GpuPreset* preset : registry().gpus()) {
    CAPTURE(preset->info.name);
    const GpuSpec& spec = preset->spec;
    if (spec.architecture == GpuArchitecture::cdna3) {
      CHECK_FALSE(spec.nvidia_smi_total_mib.has_value());  // ROCm: SGLang reads rocminfo
      continue;
    }
    if (!spec.nvidia_smi_total_mib) continue;
    CHECK(*spec.nvidia_smi_total_mib * 1024 * 1024 > spec.memory_total.value);
    CHECK_FALSE(preset->nvidia_smi_source.empty());
  }
}
