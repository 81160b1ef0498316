// Tiled causal attention for prefill (flash-attention style, scalar FP32 arithmetic): a thread
// block takes one query tile (up to kTileRows consecutive tokens of one sequence) and one head,
// walks the sequence's cached keys kBk at a time through shared memory with an online softmax,
// and writes the normalised output. Each K/V row read from memory serves the whole tile, where
// the split-K kernel (attention.cu) reads it once per token.
#include <cfloat>

#include "backend/gpu/gpu_check.h"
#include "backend/gpu/gpu_device.cuh"
#include "backend/gpu/gpu_launch.cuh"
#include "backend/gpu/ops.h"

namespace rf::gpu {
namespace {

constexpr int kThreads = 128;
constexpr int kRowGroups = 8;                    // threads split as 8 row groups x 16 column lanes
constexpr int kLanes = kThreads / kRowGroups;    // 16
constexpr int kRowsPerThread = kTileRows / kRowGroups;  // 4
constexpr float kMasked = -FLT_MAX;
static_assert(kTileRows % kRowGroups == 0);

// Shared memory of one block. K and V tiles take turns in `kv` (rows of kMaxD halves plus one
// 32-bit word of padding, so the 16 column lanes reading 16 different rows hit 16 banks).
template <int kMaxD, int kBk>
struct TileSmem {
    static constexpr int kRowWords = kMaxD / 2 + 1;
    float q[kTileRows][kMaxD];           // the tile's queries, pre-scaled
    uint32_t kv[kBk][kRowWords];         // K, then V, of kBk keys as half2 words
    float p[kTileRows][kBk + 1];         // scores, then softmax weights
    float m[kTileRows], l[kTileRows], corr[kTileRows];
};

// Copies keys [k0, k0 + kBk) of one head group from the paged pool into smem rows (zeros past
// `n_keys`, so masked weights never multiply garbage).
template <int kMaxD, int kBk>
__device__ void load_kv_tile(const uint16_t* __restrict__ pool, const int32_t* __restrict__ table, const PagedKvView& kv,
                             int32_t g, int32_t dim, int32_t k0, int32_t n_keys,
                             uint32_t (*rows)[TileSmem<kMaxD, kBk>::kRowWords]) {
    const int32_t vecs_per_row = dim / 8;  // 16-byte loads
    for (int32_t i = threadIdx.x; i < kBk * vecs_per_row; i += kThreads) {
        const int32_t r = i / vecs_per_row, c = i % vecs_per_row;
        const int32_t key = k0 + r;
        int4 packed = make_int4(0, 0, 0, 0);
        if (key < n_keys) {
            const int64_t block = table[key / kv.block_size];
            packed = *reinterpret_cast<const int4*>(
                pool + ((block * kv.n_head_kv + g) * kv.block_size + key % kv.block_size) * dim + c * 8);
        }
        uint32_t* dst = &rows[r][c * 4];
        dst[0] = static_cast<uint32_t>(packed.x);
        dst[1] = static_cast<uint32_t>(packed.y);
        dst[2] = static_cast<uint32_t>(packed.z);
        dst[3] = static_cast<uint32_t>(packed.w);
    }
}

// The two halves stored in one shared-memory word, as floats.
__device__ __forceinline__ float2 half2_at(const uint32_t& word) {
    return __half22float2(*reinterpret_cast<const __half2*>(&word));
}

// Thread t owns rows rg*4 .. rg*4+3 (rg = t / 16) of the tile; for scores it owns columns
// lane + 16 j, for the output the dimension pairs 2 lane + 32 j.
template <int kMaxD, int kBk>
__global__ void __launch_bounds__(kThreads)
attention_tiled_kernel(PagedKvView kv, DeviceBatch batch, const int32_t* __restrict__ tile_starts,
                       const float* __restrict__ q, int32_t n_head, float scale, float* __restrict__ out) {
    wait_for_predecessor();
    constexpr int kColsPerThread = kBk / kLanes;
    constexpr int kPairsPerThread = kMaxD / (2 * kLanes);
    __shared__ TileSmem<kMaxD, kBk> s;

    const int32_t tile = blockIdx.x, h = blockIdx.y;
    const int32_t t0 = tile_starts[tile];
    const int32_t n_rows = tile_starts[tile + 1] - t0;
    const int32_t dk = kv.head_dim_k, dv = kv.head_dim_v;
    const int32_t g = h / (n_head / kv.n_head_kv);
    const int32_t* table = batch.block_tables + batch.block_table_offsets[batch.token_seq[t0]];
    const int rg = threadIdx.x / kLanes, lane = threadIdx.x % kLanes;

    // Queries (rows past the tile are zero) and the running softmax state.
    for (int32_t i = threadIdx.x; i < kTileRows * kMaxD; i += kThreads) {
        const int32_t r = i / kMaxD, d = i % kMaxD;
        s.q[r][d] = r < n_rows && d < dk ? q[(static_cast<int64_t>(t0 + r) * n_head + h) * dk + d] * scale : 0.0f;
    }
    if (threadIdx.x < kTileRows) {
        s.m[threadIdx.x] = kMasked;
        s.l[threadIdx.x] = 0.0f;
    }
    int32_t row_pos[kRowsPerThread];
    int32_t n_keys = 0;  // keys of the tile's last query (positions ascend within a tile)
    for (int i = 0; i < kRowsPerThread; ++i) {
        const int32_t r = rg * kRowsPerThread + i;
        row_pos[i] = r < n_rows ? batch.positions[t0 + r] : -1;
    }
    for (int32_t r = 0; r < n_rows; ++r) n_keys = max(n_keys, batch.positions[t0 + r] + 1);

    float acc[kRowsPerThread][2 * kPairsPerThread] = {};
    for (int32_t k0 = 0; k0 < n_keys; k0 += kBk) {
        // 1. Scores S = Q K^T for the thread's 4 x kColsPerThread entries.
        __syncthreads();  // the previous V tile is consumed
        load_kv_tile<kMaxD, kBk>(kv.k, table, kv, g, dk, k0, n_keys, s.kv);
        __syncthreads();
        float sc[kRowsPerThread][kColsPerThread] = {};
        for (int32_t d2 = 0; d2 < dk / 2; ++d2) {
            float2 kf[kColsPerThread];
#pragma unroll
            for (int j = 0; j < kColsPerThread; ++j) kf[j] = half2_at(s.kv[lane + kLanes * j][d2]);
#pragma unroll
            for (int i = 0; i < kRowsPerThread; ++i) {
                const float2 qf = *reinterpret_cast<const float2*>(&s.q[rg * kRowsPerThread + i][2 * d2]);
#pragma unroll
                for (int j = 0; j < kColsPerThread; ++j) sc[i][j] += qf.x * kf[j].x + qf.y * kf[j].y;
            }
        }
#pragma unroll
        for (int i = 0; i < kRowsPerThread; ++i) {
#pragma unroll
            for (int j = 0; j < kColsPerThread; ++j) {
                const int32_t c = lane + kLanes * j;
                s.p[rg * kRowsPerThread + i][c] = k0 + c <= row_pos[i] ? sc[i][j] : kMasked;
            }
        }
        __syncthreads();
        // 2. Online softmax, one thread per row.
        if (threadIdx.x < kTileRows) {
            const int r = threadIdx.x;
            float mx = s.m[r];
            for (int c = 0; c < kBk; ++c) mx = fmaxf(mx, s.p[r][c]);
            float sum = 0.0f;
            for (int c = 0; c < kBk; ++c) {
                const float v = s.p[r][c];
                const float w = v > kMasked ? __expf(v - mx) : 0.0f;
                s.p[r][c] = w;
                sum += w;
            }
            const float corr = s.m[r] > kMasked ? __expf(s.m[r] - mx) : 0.0f;
            s.corr[r] = corr;
            s.l[r] = s.l[r] * corr + sum;
            s.m[r] = mx;
        }
        // 3. O = O * corr + P V.
        load_kv_tile<kMaxD, kBk>(kv.v, table, kv, g, dv, k0, n_keys, s.kv);  // K is no longer read
        __syncthreads();
#pragma unroll
        for (int i = 0; i < kRowsPerThread; ++i) {
            const float corr = s.corr[rg * kRowsPerThread + i];
#pragma unroll
            for (int j = 0; j < 2 * kPairsPerThread; ++j) acc[i][j] *= corr;
        }
        for (int c = 0; c < kBk; ++c) {
            float2 vf[kPairsPerThread];
#pragma unroll
            for (int j = 0; j < kPairsPerThread; ++j) {
                const int d2 = lane + kLanes * j;
                vf[j] = d2 < dv / 2 ? half2_at(s.kv[c][d2]) : make_float2(0.0f, 0.0f);
            }
#pragma unroll
            for (int i = 0; i < kRowsPerThread; ++i) {
                const float w = s.p[rg * kRowsPerThread + i][c];
#pragma unroll
                for (int j = 0; j < kPairsPerThread; ++j) {
                    acc[i][2 * j] += w * vf[j].x;
                    acc[i][2 * j + 1] += w * vf[j].y;
                }
            }
        }
    }
    __syncthreads();
#pragma unroll
    for (int i = 0; i < kRowsPerThread; ++i) {
        const int32_t r = rg * kRowsPerThread + i;
        if (r >= n_rows) continue;
        const float inv = 1.0f / s.l[r];
        float* o = out + (static_cast<int64_t>(t0 + r) * n_head + h) * dv;
#pragma unroll
        for (int j = 0; j < kPairsPerThread; ++j) {
            const int d = 2 * (lane + kLanes * j);
            if (d < dv) {
                o[d] = acc[i][2 * j] * inv;
                o[d + 1] = acc[i][2 * j + 1] * inv;
            }
        }
    }
}

template <int kMaxD, int kBk>
void launch_tiled(const PagedKvView& kv, const DeviceBatch& batch, const int32_t* tile_starts, int32_t n_tiles,
            const float* q, int32_t n_head, float scale, float* out, gpuStream_t stream) {
    static_assert(kBk % kLanes == 0 && kMaxD % (2 * kLanes) == 0);
    static_assert(sizeof(TileSmem<kMaxD, kBk>) <= 48 * 1024, "static shared memory limit");
    const dim3 grid(static_cast<unsigned>(n_tiles), static_cast<unsigned>(n_head));
    launch(attention_tiled_kernel<kMaxD, kBk>, grid, kThreads, 0, stream, kv, batch, tile_starts, q,
           n_head, scale, out);
}

}  // namespace

void attention_tiled(const PagedKvView& kv, const DeviceBatch& batch, const int32_t* tile_starts, int32_t n_tiles,
                     const float* q, int32_t n_head, float scale, float* out, gpuStream_t stream) {
    if (n_tiles == 0) return;
    const int32_t d = max(kv.head_dim_k, kv.head_dim_v);
    if (d <= 64) {
        launch_tiled<64, 64>(kv, batch, tile_starts, n_tiles, q, n_head, scale, out, stream);
    } else if (d <= 128) {
        launch_tiled<128, 64>(kv, batch, tile_starts, n_tiles, q, n_head, scale, out, stream);
    } else {
        launch_tiled<256, 16>(kv, batch, tile_starts, n_tiles, q, n_head, scale, out, stream);
    }
}

}  // namespace rf::gpu
