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
#include "core/check.h"

namespace rf::gpu {
namespace {

constexpr int kThreadsPerBlock = 128;
// kAccumulateRmsNorm blocks: kRmsNormBlockRows rows, two per warp (four per 64-wide wavefront).
constexpr int kRmsNormThreads = 512;
using namespace matvec_units;

template <MatvecEpilogue E>
constexpr int kBlockThreads = E == MatvecEpilogue::kAccumulateRmsNorm ? kRmsNormThreads : kThreadsPerBlock;

// ---- a pending RMSNorm on the input (PendingRmsNorm) ----

// Lane l's share of each token's partial sums of x^2: partials 4l .. 4l + 3 (zeros past the end).
template <int NT>
__device__ __forceinline__ void load_pending_partials(const PendingRmsNorm& p, int lane, float4 (&part)[NT]) {
#pragma unroll
    for (int t = 0; t < NT; ++t) {
        part[t] = 4 * lane < p.n_partials
                      ? *reinterpret_cast<const float4*>(p.partials + static_cast<int64_t>(t) * p.n_partials + 4 * lane)
                      : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    }
}

// 1 / rms of each token, in every lane of the warp.
template <int NT>
__device__ __forceinline__ void pending_inverse_rms(const PendingRmsNorm& p, const float4 (&part)[NT], float (&inv)[NT]) {
    const float n_cols = 32.0f * static_cast<float>(p.n_partials);
#pragma unroll
    for (int t = 0; t < NT; ++t) {
        inv[t] = rsqrtf(warp_sum(part[t].x + part[t].y + part[t].z + part[t].w) / n_cols + p.eps);
    }
}

// The normalised rows out [NT][n_cols] = x * inv, spread over the grid's threads.
template <int NT, int kThreads>
__device__ void write_pending_rows(const PendingRmsNorm& p, const float* x, const float (&inv)[NT]) {
    const int64_t n_cols = 32 * static_cast<int64_t>(p.n_partials);
    for (int64_t c = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x; c < n_cols;
         c += static_cast<int64_t>(gridDim.x) * kThreads) {
#pragma unroll
        for (int t = 0; t < NT; ++t) p.out[t * n_cols + c] = x[t * n_cols + c] * inv[t];
    }
}

// ---- kAccumulateRmsNorm: the block's 32 rows of y as the next block's input ----

// y[r][t]: lane 0's values of the warp's rows (after the residual add); `weight`: the norm weight
// of row threadIdx.x % 32 of the block. Every thread of the block calls this once.
template <int NT, int kRows>
__device__ void write_rms_norm_input(const float (&y)[kRows][NT], float weight, int64_t n_rows, const RmsNormOutput& out) {
    __shared__ float block_rows[NT][kRmsNormBlockRows];
    const int warp = threadIdx.x / RF_WARP_SIZE, lane = threadIdx.x % RF_WARP_SIZE;
    if (lane == 0) {
#pragma unroll
        for (int r = 0; r < kRows; ++r) {
#pragma unroll
            for (int t = 0; t < NT; ++t) block_rows[t][warp * kRows + r] = y[r][t];
        }
    }
    __syncthreads();
    // 32-thread group g takes token g: one activation block. Whole warps run it (a 64-wide
    // wavefront holds two groups; one past the tokens only takes part in the reductions).
    constexpr int kWarpsNeeded = (NT * 32 + RF_WARP_SIZE - 1) / RF_WARP_SIZE;
    if (warp >= kWarpsNeeded) return;
    const int group = threadIdx.x / 32, i = threadIdx.x % 32;
    const bool active = group < NT;
    const int t = active ? group : 0;
    const float v = active ? block_rows[t][i] : 0.0f;
    const float xw = v * weight;
    const int64_t row = static_cast<int64_t>(blockIdx.x) * kRmsNormBlockRows + i;
    const int64_t padded = out.acts.n_cols_padded;
    int8_t* qs = out.acts.qs + t * padded;
    float2* ds = out.acts.ds + t * (padded / 32);
    quantize_block32(xw, row, qs, ds, active);
    float squares = v * v;
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) squares += shfl_xor(squares, offset);
    if (!active) return;
    out.xw[t * n_rows + row] = xw;
    if (i == 0) out.partials[t * (n_rows / kRmsNormBlockRows) + blockIdx.x] = squares;
    if (blockIdx.x == 0) {  // the padding columns up to n_cols_padded are zeros
        for (int64_t c = n_rows + i; c < padded; c += 32) {
            qs[c] = 0;
            if (c % 32 == 0) ds[c / 32] = make_float2(0.0f, 0.0f);
        }
    }
}

// Each warp computes R adjacent output rows of the set (rows of its matrices one after the other;
// R divides every matrix's row count); lanes stride over the rows. The epilogue stores,
// accumulates, or (kSwiglu, R = 1) also dots the row of w[1] and writes silu(w[0] . x) * (w[1] . x).
// kAccumulateRmsNorm blocks take 32 rows, R following from the warp width. kPending: the input
// still needs its RMSNorm's 1 / rms (PendingRmsNorm), applied to the dot products.
// The minimum of one block per multiprocessor is deliberate: without it nvcc caps the registers
// to keep more blocks resident and then issues a step's weight loads one or two at a time; with
// it a lane holds all of a step's loads (Q4_0: 96 registers) and decode runs 5-20% faster on an
// H100 (docs/GPU.md). Weights never change, so the first step's loads go out before the wait for
// the previous kernel; activations and outputs are touched only after it.
template <typename Dot, int NT, MatvecEpilogue E, int R, bool kPending>
__global__ void __launch_bounds__(kBlockThreads<E>, 1) matvec_kernel(MatvecSet set, MatvecInput in) {
    constexpr int kThreads = kBlockThreads<E>;
    constexpr int kWarps = kThreads / RF_WARP_SIZE;
    constexpr bool kNormOut = E == MatvecEpilogue::kAccumulateRmsNorm;
    constexpr int kRows = kNormOut ? kRmsNormBlockRows / kWarps : R;
    static_assert(!kPending || E == MatvecEpilogue::kStore || E == MatvecEpilogue::kSwiglu);
    launch_next_kernel();
    const int64_t set_row = (static_cast<int64_t>(blockIdx.x) * kWarps + threadIdx.x / RF_WARP_SIZE) * kRows;
    const int lane = threadIdx.x % RF_WARP_SIZE;
    [[maybe_unused]] float4 pending_part[NT];  // kPending: this lane's partial sums of x^2
    [[maybe_unused]] float inv_rms[NT];
    if (set_row >= set.first_row[set.n]) {
        if constexpr (kPending) {  // the warp still writes its share of the normalised rows
            wait_for_previous_kernel();
            load_pending_partials(in.pending, lane, pending_part);
            pending_inverse_rms(in.pending, pending_part, inv_rms);
            write_pending_rows<NT, kThreads>(in.pending, in.x, inv_rms);
        }
        return;
    }
    // The next block's norm weight of this thread's row of the block (a weight: read before the wait).
    [[maybe_unused]] const float norm_weight =
        kNormOut ? in.norm_out.weight[static_cast<int64_t>(blockIdx.x) * kRmsNormBlockRows + threadIdx.x % 32] : 0.0f;
    // Selects rather than an indexed parameter read, which would copy the set to local memory.
    const int m = (set.n > 1 && set_row >= set.first_row[1]) + (set.n > 2 && set_row >= set.first_row[2]);
    const DeviceMatrix w = m == 0 ? set.w[0] : (m == 1 ? set.w[1] : set.w[2]);
    float* const y = m == 0 ? set.y[0] : (m == 1 ? set.y[1] : set.y[2]);
    const int64_t row = set_row - (m == 0 ? 0 : (m == 1 ? set.first_row[1] : set.first_row[2]));
    const auto wait = [] { wait_for_previous_kernel(); };
    // kAccumulate: lane 0 (the one that stores; it always has the row's first unit, so it
    // runs this) reads the outputs it adds to right after the wait, under the row's dots:
    // +1.7% tg128 at Q8_0, +2.6% at Q4_0 on an H100. Not for F16, whose two-row walk is at
    // 128 registers: the prefetch's 6 more cost it a resident block per SM (-2%). The partial
    // sums of a pending norm load there too.
    constexpr bool kPrefetchResidual =
        (E == MatvecEpilogue::kAccumulate || kNormOut) && !std::is_same_v<Dot, F16RowDot>;
    float residual[kRows][NT] = {};
    [[maybe_unused]] bool partials_loaded = false;
    const auto after_wait = [&] {
        wait_for_previous_kernel();
        if constexpr (kPending) {
            load_pending_partials(in.pending, lane, pending_part);
            partials_loaded = true;
        }
        if constexpr (kPrefetchResidual) {
            if (lane == 0) {
#pragma unroll
                for (int r = 0; r < kRows; ++r) {
#pragma unroll
                    for (int t = 0; t < NT; ++t) residual[r][t] = y[t * w.n_rows + row + r];
                }
            }
        }
    };
    // After the row's dots: 1 / rms per token (lanes that had no unit of the row load their
    // partial sums only now).
    [[maybe_unused]] const auto finish_pending_norm = [&] {
        if (!partials_loaded) load_pending_partials(in.pending, lane, pending_part);
        pending_inverse_rms(in.pending, pending_part, inv_rms);
    };

    if constexpr (E == MatvecEpilogue::kSwiglu) {
        static_assert(R == 1, "SwiGLU dots one gate and one up row per warp");
        const DeviceMatrix gate_up[2] = {w, set.w[1]};
        const int64_t rows[2] = {row, row};
        float acc[2][NT] = {};
        Dot::template run<NT, 2>(gate_up, rows, in, lane, acc, after_wait);
        wait();  // returns at once where run() waited; covers lanes that had no unit of the row
        if constexpr (kPending) finish_pending_norm();
#pragma unroll
        for (int t = 0; t < NT; ++t) {
            float gate = warp_sum(acc[0][t]), up = warp_sum(acc[1][t]);
            if constexpr (kPending) {
                gate *= inv_rms[t];
                up *= inv_rms[t];
            }
            if (lane == 0) y[t * w.n_rows + row] = gate / (1.0f + expf(-gate)) * up;
        }
    } else {
        DeviceMatrix mats[kRows];
        int64_t rows[kRows];
#pragma unroll
        for (int r = 0; r < kRows; ++r) {
            mats[r] = w;
            rows[r] = row + r;
        }
        float acc[kRows][NT] = {};
        Dot::template run<NT, kRows>(mats, rows, in, lane, acc, after_wait);
        wait();  // returns at once where run() waited; covers lanes that had no unit of the row
        if constexpr (kPending) finish_pending_norm();
        float out[kRows][NT] = {};  // lane 0's results
#pragma unroll
        for (int r = 0; r < kRows; ++r) {
#pragma unroll
            for (int t = 0; t < NT; ++t) {
                float total = warp_sum(acc[r][t]);
                if constexpr (kPending) total *= inv_rms[t];
                float* dst = y + t * w.n_rows + row + r;
                if (lane == 0) {
                    if constexpr (kPrefetchResidual) {
                        out[r][t] = residual[r][t] + total;
                    } else {
                        out[r][t] = E == MatvecEpilogue::kStore ? total : *dst + total;
                    }
                    *dst = out[r][t];
                }
            }
        }
        if constexpr (kNormOut) write_rms_norm_input<NT, kRows>(out, norm_weight, w.n_rows, in.norm_out);
    }
    if constexpr (kPending) write_pending_rows<NT, kThreads>(in.pending, in.x, inv_rms);
}

// Rows per warp: two adjacent rows for one-token F16 (a lane's two rows are one contiguous 16 KB
// stream; +2.4% tg128 on a 7B F16 on an H100); one for the quantized types, where two measured
// no gain, and for batched tokens.
template <typename Dot, int NT>
constexpr int kRowsPerWarp = std::is_same_v<Dot, F16RowDot> && NT == 1 ? 2 : 1;

template <typename Dot, int NT, MatvecEpilogue E, int R, bool kPending>
void launch_kernel(const MatvecSet& set, const MatvecInput& in, int warp_size, gpuStream_t stream) {
    constexpr int kThreads = kBlockThreads<E>;
    const int64_t rows_per_block =
        E == MatvecEpilogue::kAccumulateRmsNorm ? kRmsNormBlockRows : static_cast<int64_t>(kThreads / warp_size) * R;
    const dim3 grid(static_cast<unsigned>((set.first_row[set.n] + rows_per_block - 1) / rows_per_block));
    launch(matvec_kernel<Dot, NT, E, R, kPending>, grid, kThreads, 0, stream, set, in);
}

template <typename Dot, int NT, int R>
void launch_rows(const MatvecSet& set, MatvecEpilogue e, const MatvecInput& in, int warp_size, gpuStream_t stream) {
    const bool pending = in.pending.partials != nullptr;
    switch (e) {
        case MatvecEpilogue::kStore:
            if (pending) {
                launch_kernel<Dot, NT, MatvecEpilogue::kStore, R, true>(set, in, warp_size, stream);
            } else {
                launch_kernel<Dot, NT, MatvecEpilogue::kStore, R, false>(set, in, warp_size, stream);
            }
            break;
        case MatvecEpilogue::kAccumulate:
            launch_kernel<Dot, NT, MatvecEpilogue::kAccumulate, R, false>(set, in, warp_size, stream);
            break;
        case MatvecEpilogue::kSwiglu:
            if (pending) {
                launch_kernel<Dot, NT, MatvecEpilogue::kSwiglu, 1, true>(set, in, warp_size, stream);
            } else {
                launch_kernel<Dot, NT, MatvecEpilogue::kSwiglu, 1, false>(set, in, warp_size, stream);
            }
            break;
        case MatvecEpilogue::kAccumulateRmsNorm:
            launch_kernel<Dot, NT, MatvecEpilogue::kAccumulateRmsNorm, 1, false>(set, in, warp_size, stream);
            break;
    }
}

template <typename Dot, int NT>
void launch_epilogue(const MatvecSet& set, MatvecEpilogue e, const MatvecInput& in, int warp_size, gpuStream_t stream) {
    constexpr int kRows = kRowsPerWarp<Dot, NT>;
    bool rows_divide = e == MatvecEpilogue::kStore || e == MatvecEpilogue::kAccumulate;
    for (int i = 0; i < set.n; ++i) rows_divide = rows_divide && set.w[i].n_rows % kRows == 0;
    if (rows_divide) {
        launch_rows<Dot, NT, kRows>(set, e, in, warp_size, stream);
    } else {
        launch_rows<Dot, NT, 1>(set, e, in, warp_size, stream);
    }
}

// Calls f.template operator()<Dot>() with the row walker of `type`.
template <typename F>
void with_row_dot(quant::GgmlType type, F&& f) {
    using quant::GgmlType;
    switch (type) {
        case GgmlType::kQ4_0: f.template operator()<QuantRowDot<UnitQ4_0>>(); break;
        case GgmlType::kQ8_0: f.template operator()<QuantRowDot<UnitQ8_0>>(); break;
        case GgmlType::kQ4_K: f.template operator()<QuantRowDot<UnitQ4_K>>(); break;
        case GgmlType::kQ5_K: f.template operator()<QuantRowDot<UnitQ5_K>>(); break;
        case GgmlType::kQ6_K: f.template operator()<QuantRowDot<UnitQ6_K>>(); break;
        case GgmlType::kF16: f.template operator()<F16RowDot>(); break;
        case GgmlType::kQ4_1: f.template operator()<QuantRowDot<UnitQ4_1>>(); break;
        case GgmlType::kQ5_0: f.template operator()<QuantRowDot<UnitQ5_0>>(); break;
        case GgmlType::kQ5_1: f.template operator()<QuantRowDot<UnitQ5_1>>(); break;
        case GgmlType::kMXFP4: f.template operator()<QuantRowDot<UnitMXFP4>>(); break;
        case GgmlType::kQ2_K: f.template operator()<QuantRowDot<UnitQ2_K>>(); break;
        case GgmlType::kQ3_K: f.template operator()<QuantRowDot<UnitQ3_K>>(); break;
        case GgmlType::kIQ4_NL: f.template operator()<QuantRowDot<UnitIQ4_NL>>(); break;
        case GgmlType::kIQ4_XS: f.template operator()<QuantRowDot<UnitIQ4_XS>>(); break;
        default:
            std::fprintf(stderr, "rocmforge: matvec: unsupported type %u\n", static_cast<unsigned>(type));
            std::abort();
    }
}

template <int NT>
void launch_for_tokens(const MatvecSet& set, MatvecEpilogue e, const MatvecInput& in, int warp_size, gpuStream_t stream) {
    with_row_dot(set.w[0].type, [&]<typename Dot>() { launch_epilogue<Dot, NT>(set, e, in, warp_size, stream); });
    RF_GPU_CHECK_LAUNCH();
}

template <int NT>
bool norm_output_in_registers(quant::GgmlType type) {
    bool in_registers = false;
    with_row_dot(type, [&]<typename Dot>() {
        gpuFuncAttributes attr{};
        RF_GPU_CHECK(gpuFuncGetAttributes(
            &attr, reinterpret_cast<const void*>(&matvec_kernel<Dot, NT, MatvecEpilogue::kAccumulateRmsNorm, 1, false>)));
        in_registers = attr.localSizeBytes == 0;
    });
    return in_registers;
}

}  // namespace

void matvec_set(const MatvecSet& set, MatvecEpilogue epilogue, const QuantizedActs& acts, const float* x,
                int n_tokens, int warp_size, gpuStream_t stream) {
    MatvecInput in;
    in.acts = acts;
    in.x = x;
    matvec_set(set, epilogue, in, n_tokens, warp_size, stream);
}

void matvec_set(const MatvecSet& set, MatvecEpilogue epilogue, const MatvecInput& in, int n_tokens, int warp_size,
                gpuStream_t stream) {
    if (epilogue == MatvecEpilogue::kAccumulateRmsNorm) {
        RF_CHECK_MSG(set.n == 1 && set.w[0].n_rows % kRmsNormBlockRows == 0,
                     "matvec: a norm output needs one matrix of whole 32-row blocks");
    }
    if (in.pending.partials != nullptr) {
        RF_CHECK_MSG(in.pending.n_partials % 4 == 0 && in.pending.n_partials <= max_pending_partials(warp_size),
                     "matvec: a pending norm needs a multiple of 4 partial sums, at most 4 a lane");
    }
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

bool rms_norm_output_in_registers(quant::GgmlType type, int n_tokens) {
    switch (n_tokens) {
        case 1: return norm_output_in_registers<1>(type);
        case 2: return norm_output_in_registers<2>(type);
        case 3: return norm_output_in_registers<3>(type);
        case 4: return norm_output_in_registers<4>(type);
        case 5: return norm_output_in_registers<5>(type);
        case 6: return norm_output_in_registers<6>(type);
        case 7: return norm_output_in_registers<7>(type);
        case 8: return norm_output_in_registers<8>(type);
        default: return false;
    }
}

void matvec(const DeviceMatrix& w, const QuantizedActs& acts, const float* x, int n_tokens, float* y,
            int warp_size, gpuStream_t stream) {
    MatvecSet set;
    set.add(w, y);
    matvec_set(set, MatvecEpilogue::kStore, acts, x, n_tokens, warp_size, stream);
}

}  // namespace rf::gpu
