// Matrix x matrix for prefill-sized batches: the packed weight is dequantized to fp16 and
// multiplied by a vendor BLAS (cuBLAS) when available, else by repeated small-batch mat-vecs.
#pragma once

#include <cstdint>

#include "backend/gpu/matvec.h"

namespace rf::gpu {

// Reusable device scratch and library handle of one stream.
class GemmRunner {
public:
    explicit GemmRunner(gpuStream_t stream);
    ~GemmRunner();
    GemmRunner(const GemmRunner&) = delete;
    GemmRunner& operator=(const GemmRunner&) = delete;

    // y [n_tokens][n_rows] = x [n_tokens][n_cols] @ W^T. `acts` must hold quantize_acts(x)
    // for the fallback path. Grows its scratch on first use of a larger shape.
    void run(const DeviceMatrix& w, const float* x, const QuantizedActs& acts, int n_tokens, float* y, int warp_size);
    static bool has_blas();

private:
    void ensure(uint16_t*& buf, size_t& capacity, size_t elements);
    static constexpr size_t kWorkspaceBytes = size_t{32} << 20;
    gpuStream_t stream_;
    [[maybe_unused]] void* blas_ = nullptr;
    [[maybe_unused]] void* workspace_ = nullptr;
    uint16_t* w_f16_ = nullptr;
    [[maybe_unused]] size_t w_f16_capacity_ = 0;
    uint16_t* x_f16_ = nullptr;
    [[maybe_unused]] size_t x_f16_capacity_ = 0;
};

}  // namespace rf::gpu
