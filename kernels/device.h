// The one device-helper layer of every kernel family (decode, prefill, MLA) and of their host models.
//
// Host and device: KVPLAN_HOST_DEVICE (tiling code that nvcc and g++ both compile, so a kernel and
// its host model cannot drift apart) and kLog2e (every softmax runs in base 2: exp2 is one MUFU.EX2).
// nvcc only: the five PTX instructions the tensor-core kernels use, each wrapped once — cp.async
// (16-byte global -> shared copies), ldmatrix (8x8 b16 tiles from shared memory into mma fragments),
// mma.sync m16n8k16 with fp32 accumulation — plus the launch check that turns a failed launch into an
// internal error. Plain inline PTX, not CuTe atoms: the kernels need these few instructions and no
// layout algebra, and CUTLASS's headers would be a dependency of the whole build for five wrappers.
// Every instruction here exists from sm_80 on, so every arch of the fatbin compiles the same code.
#pragma once

#if defined(__CUDACC__)
#define KVPLAN_HOST_DEVICE __host__ __device__
#else
#define KVPLAN_HOST_DEVICE
#endif

namespace kvplan::kernels {

inline constexpr float kLog2e = 1.4426950408889634f;  // exp(x) = exp2(x * log2(e))

}  // namespace kvplan::kernels

#if defined(__CUDACC__)
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace kvplan::kernels {

// A failed CUDA call is a bug or a broken device, not bad input: it escapes as an internal error.
inline void cuda_check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(status));
}
// After a <<<...>>> launch: a bad configuration (too much shared memory, too many threads) shows here.
inline void check_launch(const char* what) { cuda_check(cudaGetLastError(), what); }

__device__ __forceinline__ std::uint32_t smem_address(const void* pointer) {
  return static_cast<std::uint32_t>(__cvta_generic_to_shared(pointer));
}

// 16 bytes global -> shared, bypassing L1 and registers; with `valid` false nothing is read and the
// 16 bytes are zero-filled (rows past a sequence's end).
__device__ __forceinline__ void cp_async_16(std::uint32_t to, const void* from, bool valid) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(to), "l"(from), "r"(valid ? 16 : 0));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
// Waits until at most kPending committed groups are still in flight. The "memory" clobber keeps the
// compiler from moving shared-memory reads of the landed tile above the wait.
template <int kPending>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(kPending) : "memory");
}

__device__ __forceinline__ void ldmatrix_x4(std::uint32_t (&r)[4], std::uint32_t address) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(address));
}
// The transposing form: a row-major [k, n] tile in shared memory becomes the col-major B fragment.
__device__ __forceinline__ void ldmatrix_x4_trans(std::uint32_t (&r)[4], std::uint32_t address) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(address));
}
__device__ __forceinline__ void ldmatrix_x2(std::uint32_t (&r)[2], std::uint32_t address) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0, %1}, [%2];\n" : "=r"(r[0]), "=r"(r[1]) : "r"(address));
}

// d += a * b on the tensor cores: a is 16x16 (row), b 16x8 (col), d 16x8 in fp32; T is the 16-bit
// input type (__nv_bfloat16 or __half).
template <typename T>
__device__ __forceinline__ void mma_16816(float (&d)[4], const std::uint32_t (&a)[4], std::uint32_t b0, std::uint32_t b1) {
  if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  } else {
    static_assert(std::is_same_v<T, __half>, "mma_16816: bf16 or fp16 inputs");
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  }
}

}  // namespace kvplan::kernels
#endif
