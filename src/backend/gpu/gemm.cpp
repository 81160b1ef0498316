// GemmRunner: dequantize-to-fp16 + cuBLAS GEMM (fp32 accumulation), or a mat-vec fallback.
#include "backend/gpu/gemm.h"
#include "backend/gpu/gpu_check.h"
#include "backend/gpu/ops.h"

#if defined(RF_HAVE_CUBLAS)
#include <cublas_v2.h>
#define RF_BLAS_CHECK(call)                                                                 \
    do {                                                                                    \
        const cublasStatus_t rf_blas_status_ = (call);                                      \
        if (rf_blas_status_ != CUBLAS_STATUS_SUCCESS) {                                     \
            std::fprintf(stderr, "rocmforge: cuBLAS error %d at %s:%d\n", static_cast<int>(rf_blas_status_), \
                         __FILE__, __LINE__);                                               \
            std::abort();                                                                   \
        }                                                                                   \
    } while (0)
#endif

namespace rf::gpu {

GemmRunner::GemmRunner(gpuStream_t stream) : stream_(stream) {
#if defined(RF_HAVE_CUBLAS)
    cublasHandle_t handle;
    RF_BLAS_CHECK(cublasCreate(&handle));
    RF_BLAS_CHECK(cublasSetStream(handle, stream_));
    // A workspace of our own, so no GEMM allocates one while it runs.
    RF_GPU_CHECK(gpuMalloc(&workspace_, kWorkspaceBytes));
    RF_BLAS_CHECK(cublasSetWorkspace(handle, workspace_, kWorkspaceBytes));
    blas_ = handle;
#endif
}

GemmRunner::~GemmRunner() {
#if defined(RF_HAVE_CUBLAS)
    if (blas_ != nullptr) cublasDestroy(static_cast<cublasHandle_t>(blas_));
#endif
    if (workspace_ != nullptr) (void)gpuFree(workspace_);
    if (w_f16_ != nullptr) (void)gpuFree(w_f16_);
    if (x_f16_ != nullptr) (void)gpuFree(x_f16_);
}

bool GemmRunner::has_blas() {
#if defined(RF_HAVE_CUBLAS)
    return true;
#else
    return false;
#endif
}

void GemmRunner::ensure(uint16_t*& buf, size_t& capacity, size_t elements) {
    if (elements <= capacity) return;
    if (buf != nullptr) RF_GPU_CHECK(gpuFree(buf));
    RF_GPU_CHECK(gpuMalloc(&buf, elements * sizeof(uint16_t)));
    capacity = elements;
}

void GemmRunner::run(const DeviceMatrix& w, const float* x, const QuantizedActs& acts, int n_tokens, float* y,
                     int warp_size) {
#if defined(RF_HAVE_CUBLAS)
    // F16 weights are already what the GEMM reads (rows of n_cols halves); others are widened.
    const uint16_t* w_f16 = reinterpret_cast<const uint16_t*>(w.qs);
    if (w.type != quant::GgmlType::kF16 || w.qs_row_bytes != static_cast<size_t>(w.n_cols) * 2) {
        ensure(w_f16_, w_f16_capacity_, static_cast<size_t>(w.n_rows * w.n_cols));
        dequantize_to_f16(w, w_f16_, stream_);
        w_f16 = w_f16_;
    }
    ensure(x_f16_, x_f16_capacity_, static_cast<size_t>(n_tokens) * static_cast<size_t>(w.n_cols));
    f32_to_f16(x, x_f16_, static_cast<int64_t>(n_tokens) * w.n_cols, stream_);
    // Column-major view: W^T (n_rows x n_cols) times X (n_cols x n_tokens) = Y (n_rows x n_tokens),
    // which is row-major y [n_tokens][n_rows].
    const float alpha = 1.0f, beta = 0.0f;
    RF_BLAS_CHECK(cublasGemmEx(static_cast<cublasHandle_t>(blas_), CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(w.n_rows),
                               n_tokens, static_cast<int>(w.n_cols), &alpha, w_f16, CUDA_R_16F,
                               static_cast<int>(w.n_cols), x_f16_, CUDA_R_16F, static_cast<int>(w.n_cols), &beta, y,
                               CUDA_R_32F, static_cast<int>(w.n_rows), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
#else
    // No BLAS: walk the batch in chunks of the largest mat-vec batch.
    for (int t0 = 0; t0 < n_tokens; t0 += kMaxMatvecTokens) {
        const int nt = std::min(kMaxMatvecTokens, n_tokens - t0);
        QuantizedActs chunk{acts.qs + static_cast<int64_t>(t0) * acts.n_cols_padded,
                            acts.ds + static_cast<int64_t>(t0) * (acts.n_cols_padded / 32), acts.n_cols_padded};
        matvec(w, chunk, x + static_cast<int64_t>(t0) * w.n_cols, nt, y + static_cast<int64_t>(t0) * w.n_rows,
               warp_size, stream_);
    }
#endif
    (void)acts;
    (void)warp_size;
}

}  // namespace rf::gpu
