// Mat-vec kernels: one warp per output row (two adjacent rows for one-token F16); each lane walks
// the row in 16-byte-aligned units, dotting each weight unit with the matching activations of
// all n_tokens tokens (integer dp4a for quantized types), then the warp reduces. One launch
// covers a set of matrices sharing the input (Q/K/V), and the epilogue can accumulate into the
// output or apply SwiGLU.
#include <type_traits>

#include "backend/gpu/gpu_check.h"
#include "backend/gpu/gpu_device.cuh"
#include "backend/gpu/gpu_launch.cuh"
#include "backend/gpu/matvec.h"
#include "backend/gpu/matvec_units.cuh"

namespace rf::gpu {
namespace {

constexpr int kThreadsPerBlock = 128;
using namespace matvec_units;

// Each warp computes R adjacent output rows of the set (rows of its matrices one after the other;
// R divides every matrix's row count); lanes stride over the rows. The epilogue stores,
// accumulates, or (kSwiglu, R = 1) also dots the row of w[1] and writes silu(w[0] . x) * (w[1] . x).
// The minimum of one block per multiprocessor is deliberate: without it nvcc caps the registers
// to keep more blocks resident and then issues a step's weight loads one or two at a time; with
// it a lane holds all of a step's loads (Q4_0: 96 registers) and decode runs 5-20% faster on an
// H100 (docs/GPU.md). Weights never change, so the first step's loads go out before the wait for
// the previous kernel; activations and outputs are touched only after it.
template <typename Dot, int NT, MatvecEpilogue E, int R>
__global__ void __launch_bounds__(kThreadsPerBlock, 1) matvec_kernel(MatvecSet set, MatvecInput in) {
    const int warps_per_block = kThreadsPerBlock / RF_WARP_SIZE;
    launch_next_kernel();
    const int64_t set_row = (static_cast<int64_t>(blockIdx.x) * warps_per_block + threadIdx.x / RF_WARP_SIZE) * R;
    const int lane = threadIdx.x % RF_WARP_SIZE;
    if (set_row >= set.first_row[set.n]) return;
    // Selects rather than an indexed parameter read, which would copy the set to local memory.
    const int m = (set.n > 1 && set_row >= set.first_row[1]) + (set.n > 2 && set_row >= set.first_row[2]);
    const DeviceMatrix w = m == 0 ? set.w[0] : (m == 1 ? set.w[1] : set.w[2]);
    float* const y = m == 0 ? set.y[0] : (m == 1 ? set.y[1] : set.y[2]);
    const int64_t row = set_row - (m == 0 ? 0 : (m == 1 ? set.first_row[1] : set.first_row[2]));
    const auto wait = [] { wait_for_previous_kernel(); };

    if constexpr (E == MatvecEpilogue::kSwiglu) {
        static_assert(R == 1, "SwiGLU dots one gate and one up row per warp");
        const DeviceMatrix gate_up[2] = {w, set.w[1]};
        const int64_t rows[2] = {row, row};
        float acc[2][NT] = {};
        Dot::template run<NT, 2>(gate_up, rows, in, lane, acc, wait);
        wait();  // returns at once where run() waited; covers lanes that had no unit of the row
#pragma unroll
        for (int t = 0; t < NT; ++t) {
            const float gate = warp_sum(acc[0][t]), up = warp_sum(acc[1][t]);
            if (lane == 0) y[t * w.n_rows + row] = gate / (1.0f + expf(-gate)) * up;
        }
    } else {
        DeviceMatrix mats[R];
        int64_t rows[R];
#pragma unroll
        for (int r = 0; r < R; ++r) {
            mats[r] = w;
            rows[r] = row + r;
        }
        float acc[R][NT] = {};
        // kAccumulate: lane 0 (the one that stores; it always has the row's first unit, so it
        // runs this) reads the outputs it adds to right after the wait, under the row's dots:
        // +1.7% tg128 at Q8_0, +2.6% at Q4_0 on an H100. Not for F16, whose two-row walk is at
        // 128 registers: the prefetch's 6 more cost it a resident block per SM (-2%).
        constexpr bool kPrefetchResidual = E == MatvecEpilogue::kAccumulate && !std::is_same_v<Dot, F16RowDot>;
        float residual[R][NT] = {};
        const auto wait_and_read_residual = [&] {
            wait_for_previous_kernel();
            if constexpr (kPrefetchResidual) {
                if (lane == 0) {
#pragma unroll
                    for (int r = 0; r < R; ++r) {
#pragma unroll
                        for (int t = 0; t < NT; ++t) residual[r][t] = y[t * w.n_rows + row + r];
                    }
                }
            }
        };
        Dot::template run<NT, R>(mats, rows, in, lane, acc, wait_and_read_residual);
        wait();  // returns at once where run() waited; covers lanes that had no unit of the row
#pragma unroll
        for (int r = 0; r < R; ++r) {
#pragma unroll
            for (int t = 0; t < NT; ++t) {
                const float total = warp_sum(acc[r][t]);
                float* dst = y + t * w.n_rows + row + r;
                if (lane == 0) {
                    if constexpr (kPrefetchResidual) {
                        *dst = residual[r][t] + total;
                    } else {
                        *dst = E == MatvecEpilogue::kAccumulate ? *dst + total : total;
                    }
                }
            }
        }
    }
}

// Rows per warp: two adjacent rows for one-token F16 (a lane's two rows are one contiguous 16 KB
// stream; +2.4% tg128 on a 7B F16 on an H100); one for the quantized types, where two measured
// no gain, and for batched tokens.
template <typename Dot, int NT>
constexpr int kRowsPerWarp = std::is_same_v<Dot, F16RowDot> && NT == 1 ? 2 : 1;

template <typename Dot, int NT, int R>
void launch_rows(const MatvecSet& set, MatvecEpilogue e, const MatvecInput& in, int warp_size, gpuStream_t stream) {
    const int64_t rows_per_block = static_cast<int64_t>(kThreadsPerBlock / warp_size) * R;
    const dim3 grid(static_cast<unsigned>((set.first_row[set.n] + rows_per_block - 1) / rows_per_block));
    switch (e) {
        case MatvecEpilogue::kStore:
            launch(matvec_kernel<Dot, NT, MatvecEpilogue::kStore, R>, grid, kThreadsPerBlock, 0, stream, set, in);
            break;
        case MatvecEpilogue::kAccumulate:
            launch(matvec_kernel<Dot, NT, MatvecEpilogue::kAccumulate, R>, grid, kThreadsPerBlock, 0, stream, set, in);
            break;
        case MatvecEpilogue::kSwiglu:
            launch(matvec_kernel<Dot, NT, MatvecEpilogue::kSwiglu, 1>, grid, kThreadsPerBlock, 0, stream, set, in);
            break;
    }
}

template <typename Dot, int NT>
void launch_epilogue(const MatvecSet& set, MatvecEpilogue e, const MatvecInput& in, int warp_size, gpuStream_t stream) {
    constexpr int kRows = kRowsPerWarp<Dot, NT>;
    bool rows_divide = e != MatvecEpilogue::kSwiglu;
    for (int i = 0; i < set.n; ++i) rows_divide = rows_divide && set.w[i].n_rows % kRows == 0;
    if (rows_divide) {
        launch_rows<Dot, NT, kRows>(set, e, in, warp_size, stream);
    } else {
        launch_rows<Dot, NT, 1>(set, e, in, warp_size, stream);
    }
}

template <int NT>
void launch_for_tokens(const MatvecSet& set, MatvecEpilogue e, const MatvecInput& in, int warp_size, gpuStream_t stream) {
    using quant::GgmlType;
    switch (set.w[0].type) {
        case GgmlType::kQ4_0: launch_epilogue<QuantRowDot<UnitQ4_0>, NT>(set, e, in, warp_size, stream); break;
        case GgmlType::kQ8_0: launch_epilogue<QuantRowDot<UnitQ8_0>, NT>(set, e, in, warp_size, stream); break;
        case GgmlType::kQ4_K: launch_epilogue<QuantRowDot<UnitQ4_K>, NT>(set, e, in, warp_size, stream); break;
        case GgmlType::kQ5_K: launch_epilogue<QuantRowDot<UnitQ5_K>, NT>(set, e, in, warp_size, stream); break;
        case GgmlType::kQ6_K: launch_epilogue<QuantRowDot<UnitQ6_K>, NT>(set, e, in, warp_size, stream); break;
        case GgmlType::kF16: launch_epilogue<F16RowDot, NT>(set, e, in, warp_size, stream); break;
        case GgmlType::kQ4_1: launch_epilogue<QuantRowDot<UnitQ4_1>, NT>(set, e, in, warp_size, stream); break;
        case GgmlType::kQ5_0: launch_epilogue<QuantRowDot<UnitQ5_0>, NT>(set, e, in, warp_size, stream); break;
        case GgmlType::kQ5_1: launch_epilogue<QuantRowDot<UnitQ5_1>, NT>(set, e, in, warp_size, stream); break;
        case GgmlType::kMXFP4: launch_epilogue<QuantRowDot<UnitMXFP4>, NT>(set, e, in, warp_size, stream); break;
        case GgmlType::kQ2_K: launch_epilogue<QuantRowDot<UnitQ2_K>, NT>(set, e, in, warp_size, stream); break;
        case GgmlType::kQ3_K: launch_epilogue<QuantRowDot<UnitQ3_K>, NT>(set, e, in, warp_size, stream); break;
        case GgmlType::kIQ4_NL: launch_epilogue<QuantRowDot<UnitIQ4_NL>, NT>(set, e, in, warp_size, stream); break;
        case GgmlType::kIQ4_XS: launch_epilogue<QuantRowDot<UnitIQ4_XS>, NT>(set, e, in, warp_size, stream); break;
        default:
            std::fprintf(stderr, "rocmforge: matvec: unsupported type %u\n", static_cast<unsigned>(set.w[0].type));
            std::abort();
    }
    RF_GPU_CHECK_LAUNCH();
}

}  // namespace

void matvec_set(const MatvecSet& set, MatvecEpilogue epilogue, const QuantizedActs& acts, const float* x,
                int n_tokens, int warp_size, gpuStream_t stream) {
    const MatvecInput in{acts, x};
    switch (n_tokens) {
        case 1: launch_for_tokens<1>(set, epilogue, in, warp_size, stream); break;
        case 2: launch_for_tokens<2>(set, epilogue, in, warp_size, stream); break;
        case 3: launch_for_tokens<3>(set, epilogue, in, warp_size, stream); break;
        case 4: launch_for_tokens<4>(set, epilogue, in, warp_size, stream); break;
        case 5: launch_for_tokens<5>(set, epilogue, in, warp_size, stream); break;
        case 6: launch_for_tokens<6>(set, epilogue, in, warp_size, stream); break;
        case 7: launch_for_tokens<7>(set, epilogue, in, warp_size, stream); break;
        case 8: launch_for_tokens<8>(set, epilogue, in, warp_size, stream); break;
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
