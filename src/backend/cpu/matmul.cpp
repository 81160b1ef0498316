// matmul driver: checks the view, quantizes the activations once to the type's partner format,
// splits the output (rows x token blocks) over the thread pool and runs the per-type tile kernel
// of the chosen ISA table. Types without a native kernel go through dequantize-to-tile.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>

#include "backend/cpu/vec_dot.h"
#include "backend/cpu/vec_dot_packed.h"
#include "core/check.h"
#include "core/cpu_features.h"
#include "core/log.h"
#include "quant/reference.h"

namespace rf::cpu {
namespace {

using quant::GgmlType;

constexpr int64_t kRowsPerItem = 16;     // rows of one work item (a multiple of every tile height)
constexpr int64_t kTokensPerBlock = 64;  // tokens of one work item: bounds the activations in L2
constexpr int64_t kTileRows = 16;        // rows of one dequantized float tile
constexpr int64_t kTileCols = 512;       // columns of one dequantized float tile (32 KiB)

// A growable 64-byte aligned scratch buffer; grows, never shrinks, so steady-state calls do not
// allocate.
class ScratchBuffer {
  public:
    ScratchBuffer() = default;
    ScratchBuffer(const ScratchBuffer&) = delete;
    ScratchBuffer& operator=(const ScratchBuffer&) = delete;
    ~ScratchBuffer() { release(); }

    uint8_t* get(size_t bytes) {
        if (bytes > capacity_) {
            release();
            capacity_ = std::max(bytes, capacity_ + capacity_ / 2);
            data_ = static_cast<uint8_t*>(::operator new(capacity_, std::align_val_t(64)));
        }
        return data_;
    }

  private:
    void release() {
        if (data_ != nullptr) ::operator delete(data_, std::align_val_t(64));
        data_ = nullptr;
        capacity_ = 0;
    }
    uint8_t* data_ = nullptr;
    size_t capacity_ = 0;
};

ScratchBuffer& activation_scratch() {
    thread_local ScratchBuffer buffer;
    return buffer;
}
ScratchBuffer& tile_scratch() {
    thread_local ScratchBuffer buffer;
    return buffer;
}
ScratchBuffer& kernel_scratch() {
    thread_local ScratchBuffer buffer;
    return buffer;
}

bool is_float_type(GgmlType type) {
    return type == GgmlType::kF32 || type == GgmlType::kF16 || type == GgmlType::kBF16;
}

// Quantizes every token row of x into `dst` (rows of `row_bytes`), in parallel for big batches.
void quantize_activations(const KernelTable& table, ActFormat format, const float* x,
                          int64_t n_tokens, int64_t n_cols, uint8_t* dst, size_t row_bytes,
                          ThreadPool& pool) {
    const QuantizeActFn fn =
        format == ActFormat::kQ8_32 ? table.quantize_q8_32 : table.quantize_q8_k;
    const auto run = [&](int64_t begin, int64_t end, int) {
        for (int64_t t = begin; t < end; ++t) fn(x + t * n_cols, n_cols, dst + t * row_bytes);
    };
    if (n_tokens * n_cols < 65536) {
        run(0, n_tokens, 0);
    } else {
        pool.parallel_for(n_tokens, 1, run);
    }
}

// Rows [r_begin, r_end) x tokens [t_begin, t_end) of a type without a native kernel: dequantize
// kTileRows x kTileCols of W with the reference decoder, then the float kernel over all tokens.
void tile_path_rect(const KernelTable& table, const MatrixView& w, const float* x, float* y,
                    int64_t n_rows_out, int64_t r_begin, int64_t r_end, int64_t t_begin,
                    int64_t t_end) {
    const quant::TypeTraits& tr = quant::traits(w.type);
    const int64_t cols = std::min(kTileCols, w.n_cols);
    float* tile = reinterpret_cast<float*>(
        tile_scratch().get(static_cast<size_t>(kTileRows * cols) * sizeof(float)));
    for (int64_t r0 = r_begin; r0 < r_end; r0 += kTileRows) {
        const int64_t nr = std::min(kTileRows, r_end - r0);
        for (int64_t c0 = 0; c0 < w.n_cols; c0 += cols) {
            const int64_t nc = std::min(cols, w.n_cols - c0);
            const size_t src_offset = static_cast<size_t>(c0 / tr.block_size) * tr.type_size;
            for (int64_t r = 0; r < nr; ++r) {
                const auto* row =
                    static_cast<const uint8_t*>(w.data) + (r0 + r) * w.row_stride_bytes;
                quant::dequantize_row(w.type, row + src_offset, tile + r * nc, nc);
            }
            GemmArgs args;
            args.w = reinterpret_cast<const uint8_t*>(tile);
            args.w_stride = static_cast<size_t>(nc) * sizeof(float);
            args.x = reinterpret_cast<const uint8_t*>(x + t_begin * w.n_cols + c0);
            args.x_stride = static_cast<size_t>(w.n_cols) * sizeof(float);
            args.y = y + t_begin * n_rows_out + r0;
            args.y_stride = n_rows_out;
            args.n_cols = nc;
            args.n_rows = static_cast<int>(nr);
            args.n_tokens = static_cast<int>(t_end - t_begin);
            args.accumulate = c0 > 0;
            table.gemm[static_cast<int>(GgmlType::kF32)](args);
        }
    }
}

void check_view(const MatrixView& w, int64_t n_tokens) {
    const uint32_t id = static_cast<uint32_t>(w.type);
    RF_CHECK_MSG(quant::type_traits(id) != nullptr && id < kTypeSlots,
                 "matmul: unknown weight type");
    const quant::TypeTraits& tr = quant::traits(w.type);
    RF_CHECK_MSG(w.n_cols > 0 && w.n_cols % tr.block_size == 0,
                 "matmul: n_cols must be a multiple of the block size");
    RF_CHECK(w.n_rows >= 0 && n_tokens >= 0);
    RF_CHECK_MSG(w.row_stride_bytes >= quant::row_bytes(w.type, static_cast<size_t>(w.n_cols)),
                 "matmul: row stride shorter than a row");
    RF_CHECK(w.data != nullptr || w.n_rows == 0);
    RF_CHECK_MSG(w.type != GgmlType::kF32 || w.row_stride_bytes % sizeof(float) == 0,
                 "matmul: misaligned f32 rows");
    RF_CHECK_MSG(
        w.layout == WeightLayout::kRows ||
            (packed_format(w.type) != nullptr &&
             w.row_stride_bytes == quant::row_bytes(w.type, static_cast<size_t>(w.n_cols))),
        "matmul: packed view of a type without a packed layout");
}

}  // namespace

const char* isa_name(Isa isa) {
    switch (isa) {
        case Isa::kGeneric:
            return "generic";
        case Isa::kAvx2:
            return "avx2";
        case Isa::kAvxVnni:
            return "avxvnni";
        case Isa::kAvx512:
            return "avx512";
        case Isa::kNeon:
            return "neon";
    }
    return "?";
}

ActFormat act_format(GgmlType type) {
    switch (type) {
        case GgmlType::kQ4_0:
        case GgmlType::kQ4_1:
        case GgmlType::kQ5_0:
        case GgmlType::kQ5_1:
        case GgmlType::kQ8_0:
        case GgmlType::kIQ4_NL:
        case GgmlType::kMXFP4:
            return ActFormat::kQ8_32;
        case GgmlType::kQ2_K:
        case GgmlType::kQ3_K:
        case GgmlType::kQ4_K:
        case GgmlType::kQ5_K:
        case GgmlType::kQ6_K:
        case GgmlType::kIQ4_XS:
            return ActFormat::kQ8_K;
        default:
            return ActFormat::kF32;
    }
}

bool has_native_matmul(GgmlType type) {
    return act_format(type) != ActFormat::kF32 || is_float_type(type);
}

namespace {

// What every rectangle of one matmul call shares.
struct Job {
    const KernelTable& table;
    const MatrixView& w;
    const float* x;      // float activations
    const uint8_t* act;  // activations in the kernel's format
    size_t act_stride;   // bytes between token rows of act
    float* y;
    int64_t n_tokens;
};

// kernel over rows [r0, r1) whose first row is at `rows` (stride bytes apart), tokens [t0, t1).
void run_kernel(const Job& j, GemmKernel kernel, const uint8_t* rows, size_t stride, int64_t r0,
                int64_t r1, int64_t t0, int64_t t1) {
    GemmArgs args;
    args.w = rows;
    args.w_stride = stride;
    args.x = j.act + t0 * j.act_stride;
    args.x_stride = j.act_stride;
    args.y = j.y + t0 * j.w.n_rows + r0;
    args.y_stride = j.w.n_rows;
    args.n_cols = j.w.n_cols;
    args.n_rows = static_cast<int>(r1 - r0);
    args.n_tokens = static_cast<int>(t1 - t0);
    args.scratch = kernel_scratch().get(gemm_scratch_bytes(j.w.n_cols));
    kernel(args);
}

// Rows [r0, r1) of a packed matrix (r0 a multiple of 8): packed groups through the table's
// packed kernel, or unpacked group by group when it has none; the row-layout tail as usual.
void run_packed(const Job& j, int64_t r0, int64_t r1, int64_t t0, int64_t t1) {
    const auto* base = static_cast<const uint8_t*>(j.w.data);
    const size_t row_bytes = j.w.row_stride_bytes;
    const int type = static_cast<int>(j.w.type);
    const int64_t packed_end = std::min(r1, j.w.n_rows / 8 * 8);
    if (r0 < packed_end) {
        if (const GemmKernel packed = j.table.gemm_packed[type]) {
            run_kernel(j, packed, base + r0 * row_bytes, row_bytes, r0, packed_end, t0, t1);
        } else {
            const PackedFormat& f = *packed_format(j.w.type);
            uint8_t* rows = tile_scratch().get(8 * row_bytes);
            uint8_t* row_ptrs[8];
            for (int r = 0; r < 8; ++r) row_ptrs[r] = rows + r * row_bytes;
            for (int64_t g = r0; g < packed_end; g += 8) {
                unpack_group(f, base + g * row_bytes, j.w.n_cols, row_ptrs);
                run_kernel(j, j.table.gemm[type], rows, row_bytes, g, g + 8, t0, t1);
            }
        }
    }
    const int64_t tail = std::max(r0, packed_end);
    if (tail < r1)
        run_kernel(j, j.table.gemm[type], base + tail * row_bytes, row_bytes, tail, r1, t0, t1);
}

}  // namespace

void matmul_with(const KernelTable& table, const MatrixView& w, const float* x, int64_t n_tokens,
                 float* y, ThreadPool& pool) {
    check_view(w, n_tokens);
    if (w.n_rows == 0 || n_tokens == 0) return;
    const bool native = has_native_matmul(w.type);
    const ActFormat format = native ? act_format(w.type) : ActFormat::kF32;
    Job job{table,
            w,
            x,
            reinterpret_cast<const uint8_t*>(x),
            static_cast<size_t>(w.n_cols) * sizeof(float),
            y,
            n_tokens};
    if (format != ActFormat::kF32) {
        job.act_stride = act_row_bytes(format, w.n_cols);
        uint8_t* buf = activation_scratch().get(job.act_stride * static_cast<size_t>(n_tokens));
        quantize_activations(table, format, x, n_tokens, w.n_cols, buf, job.act_stride, pool);
        job.act = buf;
    }
    const GemmKernel kernel = native ? table.gemm[static_cast<int>(w.type)] : nullptr;
    RF_CHECK(!native || kernel != nullptr);
    const bool packed = w.layout == WeightLayout::kPacked8;

    const int64_t row_items = (w.n_rows + kRowsPerItem - 1) / kRowsPerItem;
    const int64_t token_blocks = (n_tokens + kTokensPerBlock - 1) / kTokensPerBlock;
    // Items run token block by token block so a thread's consecutive items share activations.
    const auto run = [&](int64_t begin, int64_t end, int) {
        while (begin < end) {
            const int64_t tb = begin / row_items;
            const int64_t item_end = std::min(end, (tb + 1) * row_items);
            const int64_t r_begin = (begin - tb * row_items) * kRowsPerItem;
            const int64_t r_end = std::min(w.n_rows, (item_end - tb * row_items) * kRowsPerItem);
            const int64_t t_begin = tb * kTokensPerBlock;
            const int64_t t_end = std::min(n_tokens, t_begin + kTokensPerBlock);
            if (packed) {
                run_packed(job, r_begin, r_end, t_begin, t_end);
            } else if (native) {
                const auto* rows =
                    static_cast<const uint8_t*>(w.data) + r_begin * w.row_stride_bytes;
                run_kernel(job, kernel, rows, w.row_stride_bytes, r_begin, r_end, t_begin, t_end);
            } else {
                tile_path_rect(table, w, x, y, w.n_rows, r_begin, r_end, t_begin, t_end);
            }
            begin = item_end;
        }
    };
    pool.parallel_for(row_items * token_blocks, 1, run);
}

const KernelTable* kernel_table(Isa isa) {
    [[maybe_unused]] const CpuFeatures& f = cpu_features();
    [[maybe_unused]] const bool avx2 = f.avx2 && f.fma && f.f16c;
    switch (isa) {
        case Isa::kGeneric:
            return &generic_kernel_table();
#if defined(RF_CPU_KERNELS_X86)
        case Isa::kAvx2:
            return avx2 ? &avx2_kernel_table() : nullptr;
        case Isa::kAvxVnni:
            return avx2 && f.avx_vnni ? &avxvnni_kernel_table() : nullptr;
        case Isa::kAvx512:
            return avx2 && f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq && f.avx512vnni
                       ? &avx512_kernel_table()
                       : nullptr;
#endif
#if defined(RF_CPU_KERNELS_NEON)
        case Isa::kNeon:
            return f.neon ? &neon_kernel_table() : nullptr;
#endif
        default:
            return nullptr;
    }
}

namespace {

const KernelTable& choose_table() {
    // RF_CPU_ISA=generic|avx2|avxvnni|avx512|neon pins the kernels (benchmarks, bug hunts).
    if (const char* env = std::getenv("RF_CPU_ISA"); env != nullptr) {
        for (Isa isa : {Isa::kGeneric, Isa::kAvx2, Isa::kAvxVnni, Isa::kAvx512, Isa::kNeon}) {
            if (std::string_view(env) != isa_name(isa)) continue;
            if (const KernelTable* t = kernel_table(isa)) return *t;
        }
        log::warn("RF_CPU_ISA={} is not available on this CPU/build; choosing automatically", env);
    }
    for (Isa isa : {Isa::kAvx512, Isa::kAvxVnni, Isa::kAvx2, Isa::kNeon}) {
        if (const KernelTable* t = kernel_table(isa)) return *t;
    }
    return generic_kernel_table();
}

}  // namespace

const KernelTable& best_kernel_table() {
    static const KernelTable& table = []() -> const KernelTable& {
        const KernelTable& t = choose_table();
        log::debug("cpu matmul kernels: {} (cpu: {})", isa_name(t.isa), cpu_features().to_string());
        return t;
    }();
    return table;
}

void matmul(const MatrixView& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool) {
    matmul_with(best_kernel_table(), w, x, n_tokens, y, pool);
}

}  // namespace rf::cpu
