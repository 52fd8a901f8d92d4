// vLLM 0.33's file-system tier behind the CPU tier (fit --offload cpu:SIZE,disk:SIZE): one file
// per chunk of the CPU tier's aligned row, the tokens SIZE holds by the CPU tier's rule, and the
// reload of one request disk -> CPU -> GPU. Each expected number is arithmetic written out here;
// the file size (the fs tier's block size: 4194304 B for qwen3-32b at TP 2, 20480 B for the
// unaligned chunk of kv_offload_test.cc) was also read from
// vLLM 0.33.0's own TieringOffloadingSpec and FileSystemTierManager, run on CPU
// (tools/vllm-oracle/oracle_offload_disk.py).
#include <doctest/doctest.h>

#include "core/capacity.h"
#include "core/error.h"
#include "core/kv_offload.h"
#include "presets_fixture.h"

using namespace kvplan;
using namespace kvplan::testing;

namespace {

OffloadPlan plan_with_disk(Parallelism parallel, std::uint64_t cpu_bytes, std::uint64_t disk_bytes, const char* read) {
  FitRequest request = request_for(model("qwen3-32b"), 131072, parallel);
  request.options.kv_cache_memory = Bytes{40 * kGiB};
  request.weight_bytes_per_param = 1;  // fp8 weights: room for the fixed KV memory on one H100
  const FitResult result = fit(model("qwen3-32b"), gpu("h100-sxm"), request);
  OffloadRequest offload{Bytes{cpu_bytes}, parse_link("pcie5", LinkUse::host), Bytes{disk_bytes},
                         parse_bandwidth(read, "--disk-read")};
  return plan_offload(offload, model("qwen3-32b"), gpu("h100-sxm"), request, result);
}

}  // namespace

TEST_CASE("qwen3-32b, TP 1: 4 TiB of disk behind 512 GiB of CPU, read at 7 GB/s") {
  const OffloadPlan plan = plan_with_disk({}, 512 * kGiB, 4 * kTiB, "7GBps");
  REQUIRE(plan.disk);
  const DiskTierPlan& disk = *plan.disk;
  // One chunk: 16 tokens x 8 K/V heads x 128 x 2 (K and V) x 2 bytes x 64 layers = 4194304 B,
  // page-aligned; the file is that row.
  CHECK(disk.file_bytes.value == 4194304);
  // 4 x 2^40 / 2^22 = 2^20 = 1048576 files; 131072 / 16 = 8192 chunks per request:
  // 1048576 x 131072 // 8192 = 16777216 tokens, 8 x the CPU tier's 2097152 (8 x the bytes).
  CHECK(disk.disk_chunks == 1048576);
  CHECK(disk.disk_tokens == 16777216);
  CHECK(disk.disk_tokens == 8 * plan.cpu_tokens);
  // One request: 8192 files x 4194304 B = 32 GiB = 34359738368 B; / 7e9 B/s = 4.9085 s,
  // then 34359738368 / 64e9 = 0.5369 s over PCIe 5.
  CHECK(disk.request_bytes.value == 34359738368);
  CHECK(disk.disk_read_s == doctest::Approx(34359738368.0 / 7e9));
  CHECK(disk.host_reload_s == doctest::Approx(34359738368.0 / 64e9));
  CHECK(disk.disk_to_gpu_s == doctest::Approx(34359738368.0 / 7e9 + 34359738368.0 / 64e9));
}

TEST_CASE("TP 2, DP 2: the disk reads both ranks' slices - the replicas share one store") {
  Parallelism parallel;
  parallel.tp = 2;
  parallel.dp = 2;
  const OffloadPlan plan = plan_with_disk(parallel, 100 * kGiB, kTiB, "14GBps");
  REQUIRE(plan.disk);
  const DiskTierPlan& disk = *plan.disk;
  // 4 K/V heads per rank: 2097152 B per rank, x 2 ranks = 4194304 B per file.
  CHECK(disk.file_bytes.value == 4194304);
  // 2^40 / 2^22 = 262144 files x 131072 // 8192 = 4194304 tokens. Both replicas name their
  // files by model, layout and block hash, not engine_id: one store, not two, while the CPU tier
  // is one buffer per replica (x 2 in the fleet).
  CHECK(disk.disk_chunks == 262144);
  CHECK(disk.disk_tokens == 4194304);
  CHECK(plan.cpu_tokens_fleet == 2 * plan.cpu_tokens);
  // The disk read moves every rank's slice: 8192 x 4194304 B = 32 GiB at 14 GB/s; the CPU -> GPU
  // step moves 16 GiB per rank, each rank over its own 64 GB/s link.
  CHECK(disk.disk_read_s == doctest::Approx(34359738368.0 / 14e9));
  CHECK(disk.host_reload_s == doctest::Approx(17179869184.0 / 64e9));
}

TEST_CASE("a disk tier is parsed beside the CPU tier, and refused without one or too small") {
  const OffloadTiers tiers = parse_offload_tiers("cpu:64GiB,disk:2TiB");
  CHECK(tiers.cpu.value == 64 * kGiB);
  REQUIRE(tiers.disk);
  CHECK(tiers.disk->value == 2 * kTiB);
  CHECK(parse_offload_tiers("disk:1TiB,cpu:1GiB").disk->value == kTiB);
  CHECK_THROWS_AS(parse_offload_tiers("disk:1TiB"), Error);
  CHECK_THROWS_AS(parse_offload_tiers("cpu:1GiB,disk:0"), Error);
  CHECK_THROWS_AS(parse_offload_tiers("cpu:1GiB,disk:1TiB,disk:2TiB"), Error);
  CHECK(parse_bandwidth("7GBps", "--disk-read").bytes_per_s == doctest::Approx(7e9));
  CHECK_THROWS_AS(parse_bandwidth("pcie5", "--disk-read"), Error);
  CHECK_THROWS_AS(parse_bandwidth("0GBps", "--disk-read"), Error);
  // 1 MiB holds no 4 MiB chunk file.
  CHECK_THROWS_AS(plan_with_disk({}, 512 * kGiB, std::uint64_t{1} << 20, "7GBps"), Error);
}
