// Mat-vec kernels: one warp per output row; each lane walks the row in 16-byte-aligned units,
// dotting each weight unit with the matching activations of all n_tokens tokens (integer dp4a
// for quantized types), then the warp reduces. One launch covers a set of matrices sharing the
// input (Q/K/V), and the epilogue can accumulate into the output or apply SwiGLU.
#include "backend/gpu/gpu_check.h"
#include "backend/gpu/gpu_device.cuh"
#include "backend/gpu/gpu_launch.cuh"
#include "backend/gpu/matvec.h"
#include "backend/gpu/matvec_units.cuh"

namespace rf::gpu {
namespace {

constexpr int kThreadsPerBlock = 128;
using namespace matvec_units;

// One warp per output row of the set (rows of its matrices one after the other); lanes stride
// over the row. The epilogue stores, accumulates, or (kSwiglu) also dots the row of w[1] and
// writes silu(w[0] . x) * (w[1] . x).
template <typename Dot, int NT, MatvecEpilogue E>
__global__ void __launch_bounds__(kThreadsPerBlock) matvec_kernel(MatvecSet set, MatvecInput in) {
    wait_for_predecessor();
    const int warps_per_block = kThreadsPerBlock / RF_WARP_SIZE;
    const int64_t set_row = static_cast<int64_t>(blockIdx.x) * warps_per_block + threadIdx.x / RF_WARP_SIZE;
    const int lane = threadIdx.x % RF_WARP_SIZE;
    if (set_row >= set.first_row[set.n]) return;
    // Selects rather than an indexed parameter read, which would copy the set to local memory.
    const int m = (set.n > 1 && set_row >= set.first_row[1]) + (set.n > 2 && set_row >= set.first_row[2]);
    const DeviceMatrix w = m == 0 ? set.w[0] : (m == 1 ? set.w[1] : set.w[2]);
    float* const y = m == 0 ? set.y[0] : (m == 1 ? set.y[1] : set.y[2]);
    const int64_t row = set_row - (m == 0 ? 0 : (m == 1 ? set.first_row[1] : set.first_row[2]));

    float acc[NT] = {};
    Dot::template run<NT>(w, row, in, lane, acc);
    float acc_up[NT] = {};
    if constexpr (E == MatvecEpilogue::kSwiglu) Dot::template run<NT>(set.w[1], row, in, lane, acc_up);
#pragma unroll
    for (int t = 0; t < NT; ++t) {
        const float total = warp_sum(acc[t]);
        float* dst = y + t * w.n_rows + row;
        if constexpr (E == MatvecEpilogue::kStore) {
            if (lane == 0) *dst = total;
        } else if constexpr (E == MatvecEpilogue::kAccumulate) {
            if (lane == 0) *dst += total;
        } else {
            const float up = warp_sum(acc_up[t]);
            if (lane == 0) *dst = total / (1.0f + expf(-total)) * up;
        }
    }
}

template <typename Dot, int NT>
void launch_epilogue(const MatvecSet& set, MatvecEpilogue e, const MatvecInput& in, dim3 grid, gpuStream_t stream) {
    switch (e) {
        case MatvecEpilogue::kStore:
            launch(matvec_kernel<Dot, NT, MatvecEpilogue::kStore>, grid, kThreadsPerBlock, 0,
                   stream, set, in);
            break;
        case MatvecEpilogue::kAccumulate:
            launch(matvec_kernel<Dot, NT, MatvecEpilogue::kAccumulate>, grid, kThreadsPerBlock, 0,
                   stream, set, in);
            break;
        case MatvecEpilogue::kSwiglu:
            launch(matvec_kernel<Dot, NT, MatvecEpilogue::kSwiglu>, grid, kThreadsPerBlock, 0,
                   stream, set, in);
            break;
    }
}

template <int NT>
void launch_for_tokens(const MatvecSet& set, MatvecEpilogue e, const MatvecInput& in, dim3 grid, gpuStream_t stream) {
    using quant::GgmlType;
    switch (set.w[0].type) {
        case GgmlType::kQ4_0: launch_epilogue<QuantRowDot<UnitQ4_0>, NT>(set, e, in, grid, stream); break;
        case GgmlType::kQ8_0: launch_epilogue<QuantRowDot<UnitQ8_0>, NT>(set, e, in, grid, stream); break;
        case GgmlType::kQ4_K: launch_epilogue<QuantRowDot<UnitQ4_K>, NT>(set, e, in, grid, stream); break;
        case GgmlType::kQ5_K: launch_epilogue<QuantRowDot<UnitQ5_K>, NT>(set, e, in, grid, stream); break;
        case GgmlType::kQ6_K: launch_epilogue<QuantRowDot<UnitQ6_K>, NT>(set, e, in, grid, stream); break;
        case GgmlType::kF16: launch_epilogue<F16RowDot, NT>(set, e, in, grid, stream); break;
        case GgmlType::kQ4_1: launch_epilogue<QuantRowDot<UnitQ4_1>, NT>(set, e, in, grid, stream); break;
        case GgmlType::kQ5_0: launch_epilogue<QuantRowDot<UnitQ5_0>, NT>(set, e, in, grid, stream); break;
        case GgmlType::kQ5_1: launch_epilogue<QuantRowDot<UnitQ5_1>, NT>(set, e, in, grid, stream); break;
        case GgmlType::kMXFP4: launch_epilogue<QuantRowDot<UnitMXFP4>, NT>(set, e, in, grid, stream); break;
        case GgmlType::kQ2_K: launch_epilogue<QuantRowDot<UnitQ2_K>, NT>(set, e, in, grid, stream); break;
        case GgmlType::kQ3_K: launch_epilogue<QuantRowDot<UnitQ3_K>, NT>(set, e, in, grid, stream); break;
        case GgmlType::kIQ4_NL: launch_epilogue<QuantRowDot<UnitIQ4_NL>, NT>(set, e, in, grid, stream); break;
        case GgmlType::kIQ4_XS: launch_epilogue<QuantRowDot<UnitIQ4_XS>, NT>(set, e, in, grid, stream); break;
        default:
            std::fprintf(stderr, "rocmforge: matvec: unsupported type %u\n", static_cast<unsigned>(set.w[0].type));
            std::abort();
    }
    RF_GPU_CHECK_LAUNCH();
}

}  // namespace

void matvec_set(const MatvecSet& set, MatvecEpilogue epilogue, const QuantizedActs& acts, const float* x,
                int n_tokens, int warp_size, gpuStream_t stream) {
    const int rows_per_block = kThreadsPerBlock / warp_size;
    const int64_t n_rows = set.first_row[set.n];
    const dim3 grid(static_cast<unsigned>((n_rows + rows_per_block - 1) / rows_per_block));
    const MatvecInput in{acts, x};
    switch (n_tokens) {
        case 1: launch_for_tokens<1>(set, epilogue, in, grid, stream); break;
        case 2: launch_for_tokens<2>(set, epilogue, in, grid, stream); break;
        case 3: launch_for_tokens<3>(set, epilogue, in, grid, stream); break;
        case 4: launch_for_tokens<4>(set, epilogue, in, grid, stream); break;
        case 5: launch_for_tokens<5>(set, epilogue, in, grid, stream); break;
        case 6: launch_for_tokens<6>(set, epilogue, in, grid, stream); break;
        case 7: launch_for_tokens<7>(set, epilogue, in, grid, stream); break;
        case 8: launch_for_tokens<8>(set, epilogue, in, grid, stream); break;
        default:
            std::fprintf(stderr, "rocmforge: matvec: n_tokens %d outside 1..%d\n", n_tokens, kMaxMatvecTokens);
            std::abort();
    }
}

void matvec(const DeviceMatrix& w, const QuantizedActs& acts, const float* x, int n_tokens, float* y,
            int warp_size, gpuStream_t stream) {
    MatvecSet set;
    set.add(w, y);
    matvec_set(set, MatvecEpilogue::kStore, acts, x, n_tokens, warp_size, stream);
}

}  // namespace rf::gpu
