#include "kernels/cublas.cuh"

#include <dlfcn.h>

#include <stdexcept>
#include <string>

#include "core/error.h"

namespace kvplan::kernels {

void cublas_check(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS) throw std::runtime_error(std::string(what) + ": cuBLAS status " + std::to_string(status));
}

const Cublas& cublas() {
  static const Cublas loaded = [] {
    const std::string name = "libcublas.so." + std::to_string(CUBLAS_VER_MAJOR);
    void* library = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!library) library = dlopen((std::string(KVPLAN_CUDA_LIBRARY_DIR) + "/" + name).c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!library) {
      throw Error("cannot load " + name + " (" + dlerror() + "); add the CUDA toolkit's lib64 to LD_LIBRARY_PATH",
                  ExitCode::cannot_run);
    }
    Cublas api;
    api.create = reinterpret_cast<decltype(api.create)>(dlsym(library, "cublasCreate_v2"));
    api.destroy = reinterpret_cast<decltype(api.destroy)>(dlsym(library, "cublasDestroy_v2"));
    api.set_stream = reinterpret_cast<decltype(api.set_stream)>(dlsym(library, "cublasSetStream_v2"));
    api.gemm = reinterpret_cast<decltype(api.gemm)>(dlsym(library, "cublasGemmEx"));
    api.gemm_strided_batched =
        reinterpret_cast<decltype(api.gemm_strided_batched)>(dlsym(library, "cublasGemmStridedBatchedEx"));
    if (!api.create || !api.destroy || !api.set_stream || !api.gemm || !api.gemm_strided_batched) {
      throw std::runtime_error(name + " lacks cublasCreate_v2/SetStream_v2/GemmEx/GemmStridedBatchedEx");
    }
    return api;
  }();
  return loaded;
}

cublasHandle_t cublas_handle(void* stream) {
  static const cublasHandle_t handle = [] {
    cublasHandle_t created = nullptr;
    cublas_check(cublas().create(&created), "cublasCreate");
    return created;
  }();
  cublas_check(cublas().set_stream(handle, static_cast<cudaStream_t>(stream)), "cublasSetStream");
  return handle;
}

}  // namespace kvplan::kernels
