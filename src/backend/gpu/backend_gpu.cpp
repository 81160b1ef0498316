// GpuBackend: engine::Backend on one GPU. Weights are repacked (gpu_matrix.h) and uploaded once;
// activations, KV pools and per-step batch arrays live in device buffers sized at set-up and
// grown only when a larger step arrives. All work is queued on one stream.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <set>
#include <string_view>
#include <utility>
#include <numbers>

#include "backend/gpu/backend_gpu.h"
#include "backend/gpu/gemm.h"
#include "backend/gpu/gpu_check.h"
#include "backend/gpu/gpu_matrix.h"
#include "backend/gpu/gpu_profiler.h"
#include "backend/gpu/weight_arena.h"
#include "backend/gpu/matvec.h"
#include "backend/gpu/ops.h"
#include "core/check.h"
#include "core/half.h"
#include "quant/reference.h"

namespace rf::gpu {
namespace {

using engine::Tensor;
using quant::GgmlType;

// A weight matrix (or each expert of a 3-D tensor) in device memory; Tensor::data points here.
struct GpuWeight {
    std::vector<DeviceMatrix> experts;
};

// Counts the growths of every GrowBuffer: a growth frees memory that recorded graphs may use.
struct GrowBufferStats {
    static inline uint64_t growths = 0;
};

// A device array that grows (outside the steady state) to the largest size asked for.
template <typename T>
class GrowBuffer {
public:
    ~GrowBuffer() {
        if (ptr_ != nullptr) (void)gpuFree(ptr_);
    }
    T* get(size_t count) {
        if (count > capacity_) {
            if (ptr_ != nullptr) RF_GPU_CHECK(gpuFree(ptr_));
            // Doubling at least, so a run of slightly larger steps grows it (and drops the
            // graphs) only a few times.
            count = std::max(count, 2 * capacity_);
            RF_GPU_CHECK(gpuMalloc(&ptr_, std::max<size_t>(count, 1) * sizeof(T)));
            capacity_ = count;
            ++GrowBufferStats::growths;
        }
        return ptr_;
    }
    T* data() const { return ptr_; }

private:
    T* ptr_ = nullptr;
    size_t capacity_ = 0;
};

// A pinned host array that grows to the largest size asked for. get() may grow it only while no
// copy from or into it is in flight.
template <typename T>
class PinnedBuffer {
public:
    PinnedBuffer() = default;
    PinnedBuffer(const PinnedBuffer&) = delete;
    PinnedBuffer& operator=(const PinnedBuffer&) = delete;
    ~PinnedBuffer() {
        if (ptr_ != nullptr) (void)gpuFreeHost(ptr_);
    }
    T* get(size_t count) {
        if (count > capacity_) {
            if (ptr_ != nullptr) RF_GPU_CHECK(gpuFreeHost(ptr_));
            ptr_ = nullptr;
            RF_GPU_CHECK(gpuMallocHost(reinterpret_cast<void**>(&ptr_), std::max<size_t>(count, 1) * sizeof(T)));
            capacity_ = count;
        }
        return ptr_;
    }

private:
    T* ptr_ = nullptr;
    size_t capacity_ = 0;
};

// YaRN correction dimension, as in the CPU backend.
float yarn_corr_dim(int32_t n_rot, int32_t n_ctx_orig, float n_rotations, float base) {
    return static_cast<float>(n_rot) *
           std::log(static_cast<float>(n_ctx_orig) / (n_rotations * 2.0f * std::numbers::pi_v<float>)) /
           (2.0f * std::log(base));
}

class GpuBackend final : public engine::Backend {
public:
    explicit GpuBackend(const gpuDeviceProp& prop) : warp_size_(prop.warpSize), name_(prop.name) {
        RF_GPU_CHECK(gpuStreamCreate(&stream_));
        RF_GPU_CHECK(gpuEventCreate(&upload_done_));
        gemm_ = std::make_unique<GemmRunner>(stream_);
        profiler_ = std::make_unique<GpuProfiler>(stream_);
        arena_ = std::make_unique<WeightArena>();
        // Timing each op needs them launched one by one; ROCMFORGE_GPU_GRAPHS=off also turns
        // graphs off (to tell a graph problem from a kernel one).
        const char* graphs_env = std::getenv("ROCMFORGE_GPU_GRAPHS");
        graphs_enabled_ = !profiler_->enabled() && !(graphs_env != nullptr && std::string_view(graphs_env) == "off");
        // Kernels overlap their launch with the previous kernel's tail on NVIDIA compute
        // capability 9.0+ (gpu_launch.cuh), except when profiling per op; ROCMFORGE_GPU_PDL=off
        // launches them plainly.
#if defined(RF_GPU_HIP)
        set_dependent_launch(false);
#else
        const char* pdl_env = std::getenv("ROCMFORGE_GPU_PDL");
        set_dependent_launch(prop.major >= 9 && !profiler_->enabled() &&
                             !(pdl_env != nullptr && std::string_view(pdl_env) == "off"));
#endif
    }
    ~GpuBackend() override {
        (void)gpuStreamSynchronize(stream_);
        profiler_->print(stderr);
        profiler_.reset();
        arena_.reset();
        reset_graphs();
        gemm_.reset();
        for (void* p : allocations_) (void)gpuFree(p);
        (void)gpuEventDestroy(upload_done_);
        (void)gpuStreamDestroy(stream_);
    }

    std::string name() const override { return std::string(RF_GPU_PLATFORM) + " (" + name_ + ")"; }

    Result<Tensor> upload_weight(const engine::WeightSource& src) override;
    Tensor alloc_activation(int64_t ne0, int64_t ne1) override;
    Status alloc_kv(const engine::KvLayout& layout) override;
    void copy_kv_block(int32_t src, int32_t dst) override;
    void set_batch(const engine::BatchInfo& batch) override;

    void get_rows(const Tensor& table, Tensor& out) override {
        if (!begin_op()) return;
        ProfileScope scope(*profiler_, [] { return "get_rows"; });
        acts_valid_ = false;
        gpu::get_rows(weight(table).experts[0], step_[kTokens], batch_.n_tokens, f32(out), stream_);
    }
    void rms_norm(const Tensor& x, const Tensor& w, float eps, Tensor& out) override;
    void matmul(const Tensor& w, const Tensor& x, Tensor& y) override {
        if (replaying()) return;
        run_matmul(weight(w).experts[0], f32(x), static_cast<int>(x.ne[1]), f32(y));
    }
    void matmul_shared_input(std::span<const Tensor* const> ws, const Tensor& x, std::span<Tensor* const> ys) override;
    void matmul_swiglu(const Tensor& gate, const Tensor& up, const Tensor& x, Tensor& up_scratch, Tensor& out) override;
    void matmul_add(const Tensor& w, const Tensor& x, Tensor& scratch, Tensor& acc) override;
    void matmul_add_rms_norm(const Tensor& w, const Tensor& x, Tensor& scratch, Tensor& acc, const Tensor& norm_w,
                             float eps, Tensor& out) override;
    void add_bias(Tensor& x, const Tensor& b) override {
        if (!begin_op()) return;
        ProfileScope scope(*profiler_, [] { return "add_bias"; });
        acts_valid_ = false;
        gpu::add_bias(f32(x), f32(b), x.ne[0], x.ne[1], stream_);
    }
    void add(const Tensor& a, const Tensor& b, Tensor& out) override {
        if (!begin_op()) return;
        ProfileScope scope(*profiler_, [] { return "add"; });
        acts_valid_ = false;
        gpu::add(f32(a), f32(b), f32(out), a.n_elements(), stream_);
    }
    void swiglu(const Tensor& gate, const Tensor& up, Tensor& out) override {
        if (!begin_op()) return;
        ProfileScope scope(*profiler_, [] { return "swiglu"; });
        acts_valid_ = false;
        gpu::swiglu(f32(gate), f32(up), f32(out), gate.n_elements(), stream_);
    }
    void rope(Tensor& x, int32_t n_head, const engine::RopeParams& params) override;
    void rope_store_kv(int32_t il, Tensor& q, Tensor& k, const Tensor& v, int32_t n_head, int32_t n_head_kv,
                       const engine::RopeParams& params) override {
        if (!begin_op()) return;
        ProfileScope scope(*profiler_, [] { return "rope+store_kv"; });
        acts_valid_ = false;
        (void)n_head_kv;  // the cache layout has it
        gpu::rope_store_kv(f32(q), f32(k), f32(v), kv_view(il), device_batch(), n_head, kernel_params(params), stream_);
    }
    void store_kv(int32_t il, const Tensor& k, const Tensor& v) override {
        if (!begin_op()) return;
        ProfileScope scope(*profiler_, [] { return "store_kv"; });
        acts_valid_ = false;
        gpu::store_kv(kv_view(il), device_batch(), f32(k), f32(v), stream_);
    }
    void attention(int32_t il, const Tensor& q, Tensor& out, const engine::AttentionParams& p) override {
        if (!begin_op()) return;
        ProfileScope scope(*profiler_, [&] { return "attention (" + std::to_string(batch_.n_tokens) + " tokens)"; });
        acts_valid_ = false;
        // Prefill-like steps (tiles of several queries of one sequence) share each K/V read
        // across a tile; decode tokens of distinct sequences split their keys instead.
        const int32_t n_tiles = static_cast<int32_t>(tile_starts_.size()) - 1;
        if (batch_.n_tokens > kMaxMatvecTokens && batch_.n_tokens >= 2 * n_tiles) {
            gpu::attention_tiled(kv_view(il), device_batch(), step_[kTileStarts], n_tiles, f32(q), p.n_head, p.scale,
                                 f32(out), stream_);
            return;
        }
        const int64_t need = attention_scratch_floats(batch_.n_tokens, p.n_head, max_kv_, p.head_dim_v);
        float* scratch = attn_scratch_.get(static_cast<size_t>(need));
        if (attn_counters_ == nullptr) {  // zeroed once: every attention() leaves them at zero
            attn_counters_ = static_cast<uint32_t*>(device_alloc(kAttentionCounters * sizeof(uint32_t)));
            RF_GPU_CHECK(gpuMemsetAsync(attn_counters_, 0, kAttentionCounters * sizeof(uint32_t), stream_));
        }
        // Decode: the output projection's mat-vec reads the output quantized; the merge writes it so.
        if (batch_.n_tokens <= kMaxMatvecTokens && attention_can_quantize(p.n_head, p.head_dim_v)) {
            const int64_t width = int64_t{p.n_head} * p.head_dim_v;
            const QuantizedActs acts = act_buffers(width, batch_.n_tokens);
            gpu::attention(kv_view(il), device_batch(), f32(q), p.n_head, p.scale, f32(out), scratch, attn_counters_,
                           stream_, &acts);
            remember_acts(f32(out), width, batch_.n_tokens);
            return;
        }
        gpu::attention(kv_view(il), device_batch(), f32(q), p.n_head, p.scale, f32(out), scratch, attn_counters_,
                       stream_);
    }
    void moe_ffn(const Tensor& x, const engine::MoeWeights& w, const engine::MoeParams& p, Tensor& out) override;
    void finish_step() override;
    void gather_output_rows(const Tensor& x, Tensor& out) override {
        if (!begin_op()) return;
        ProfileScope scope(*profiler_, [] { return "gather_output_rows"; });
        acts_valid_ = false;
        gather_rows(f32(x), step_[kOutputRows], n_output_rows_, x.ne[0], f32(out), stream_);
    }
    void read(const Tensor& t, std::span<float> host) override {
        finish_step();
        const size_t n = std::min(host.size(), static_cast<size_t>(t.n_elements()));
        RF_GPU_CHECK(gpuMemcpyAsync(host.data(), t.data, n * sizeof(float), gpuMemcpyDeviceToHost, stream_));
        RF_GPU_CHECK(gpuStreamSynchronize(stream_));
        profiler_->collect();
    }
    // The changes and the selection run after the step's graph, outside it: k and the changes
    // vary from step to step, and only k pairs a row come back.
    void read_top_logits(Tensor& logits, int32_t k, std::span<const sampling::LogitAdjust> adjust,
                         std::span<sampling::TokenLogit> host) override {
        finish_step();
        const int64_t n_rows = static_cast<int64_t>(host.size()) / k;
        sampling::LogitAdjust* d_adjust = nullptr;
        if (!adjust.empty()) {
            d_adjust = top_adjust_.get(adjust.size());
            // Pageable source: the call returns once it has been staged, and the sync below ends it.
            RF_GPU_CHECK(gpuMemcpyAsync(d_adjust, adjust.data(), adjust.size() * sizeof(sampling::LogitAdjust),
                                        gpuMemcpyHostToDevice, stream_));
        }
        sampling::TokenLogit* d_top = top_out_.get(host.size());
        {
            ProfileScope scope(*profiler_, [] { return "top_logits"; });
            gpu::top_logits(f32(logits), logits.ne[0], n_rows, k, d_adjust, static_cast<int32_t>(adjust.size()), d_top,
                            stream_);
        }
        RF_GPU_CHECK(gpuMemcpyAsync(host.data(), d_top, host.size() * sizeof(sampling::TokenLogit),
                                    gpuMemcpyDeviceToHost, stream_));
        RF_GPU_CHECK(gpuStreamSynchronize(stream_));
        profiler_->collect();
    }
    void write(Tensor& t, std::span<const float> host) override {
        // Never inside a recorded step: hybrid placement runs the GPU stage first, so its input
        // comes from the token ids, not from another backend.
        RF_CHECK_MSG(mode_ == StepMode::kDirect, "write() while recording a GPU step");
        finish_pending_norm();
        RF_CHECK(host.size() <= static_cast<size_t>(t.n_elements()));
        acts_valid_ = false;
        RF_GPU_CHECK(gpuMemcpyAsync(t.data, host.data(), host.size() * sizeof(float), gpuMemcpyHostToDevice, stream_));
        // `host` is pageable and may be reused as soon as this returns.
        RF_GPU_CHECK(gpuStreamSynchronize(stream_));
    }

private:
    // Steps of up to kMaxGraphTokens tokens (decode, batched decode) are recorded as a graph the
    // second time a step of the same shape arrives, and replayed from then on: one launch instead
    // of hundreds. (Steps over kMaxMatvecTokens tokens dequantize each matrix to fp16 for the
    // GEMM, inside the graph too.) Models with experts are excluded (their routing reads back to
    // the host mid-step).
    static constexpr int32_t kMaxGraphTokens = 64;
    enum class StepMode { kDirect, kCapture, kReplay };
    struct GraphKey {
        int32_t n_tokens, n_outputs, n_seqs, kv_bucket, n_tiles;
        auto operator<=>(const GraphKey&) const = default;
    };
    static constexpr int32_t kKvBucket = 1024;  // attention grids are sized for buckets of keys
    bool replaying() const { return mode_ == StepMode::kReplay; }
    // The start of every op but the mat-vec family (which may read a pending norm's input):
    // false when the step is replayed from a graph; otherwise the pending norm is finished.
    bool begin_op() {
        if (replaying()) return false;
        finish_pending_norm();
        return true;
    }
    // Writes the pending norm's output rows where no mat-vec has yet, and forgets it.
    void finish_pending_norm();
    void reset_graphs();
    void upload_step(const engine::BatchInfo& batch);

    static float* f32(const Tensor& t) { return static_cast<float*>(t.data); }
    RopeKernelParams kernel_params(const engine::RopeParams& params) const;
    static const GpuWeight& weight(const Tensor& t) { return *static_cast<const GpuWeight*>(t.data); }

    void* device_alloc(size_t bytes) {
        void* p = nullptr;
        RF_GPU_CHECK(gpuMalloc(&p, std::max<size_t>(bytes, 16)));
        allocations_.push_back(p);
        return p;
    }
    // Weight upload into the arena: out of memory is an error for the caller (who may fall back
    // to the CPU).
    template <typename T>
    Result<T*> upload(const T* host, size_t count) {
        RF_ASSIGN_OR_RETURN(void* p, arena_->upload(host, count * sizeof(T)));
        return static_cast<T*>(p);
    }
    Result<DeviceMatrix> upload_matrix(GgmlType type, const uint8_t* rows, int64_t n_rows, int64_t n_cols);
    // Buffers for activations of n_tokens rows quantized for a matrix of n_cols columns.
    QuantizedActs act_buffers(int64_t n_cols, int n_tokens);
    // The quantized form of x for the matrices of `set` (reused while x is unchanged).
    QuantizedActs acts_for(const DeviceMatrix& w, const float* x, int n_tokens);
    // Records that the activation buffers now hold x [n_tokens][n_cols] quantized.
    void remember_acts(const float* x, int64_t n_cols, int n_tokens) {
        acts_valid_ = true;
        acts_x_ = x;
        acts_cols_ = n_cols;
        acts_tokens_ = n_tokens;
    }
    void run_matmul(const DeviceMatrix& w, const float* x, int n_tokens, float* y);
    // One launch of a mat-vec set (n_tokens <= kMaxMatvecTokens).
    void run_matvec_set(const MatvecSet& set, MatvecEpilogue epilogue, const float* x, int n_tokens);
    PagedKvView kv_view(int32_t il) const {
        return {kv_k_[static_cast<size_t>(il)], kv_v_[static_cast<size_t>(il)], kv_layout_.block_size,
                kv_layout_.n_head_kv, kv_layout_.head_dim_k, kv_layout_.head_dim_v};
    }
    DeviceBatch device_batch() const {
        return {batch_.n_tokens, step_[kPositions], step_[kSlots], step_[kTokenSeq], step_[kTableOffsets],
                step_[kTables], max_kv_};
    }

    int warp_size_;
    std::string name_;
    gpuStream_t stream_ = nullptr;
    std::unique_ptr<GemmRunner> gemm_;
    std::unique_ptr<GpuProfiler> profiler_;
    std::unique_ptr<WeightArena> arena_;  // every weight
    std::vector<void*> allocations_;
    std::deque<GpuWeight> weights_;

    engine::KvLayout kv_layout_;
    std::vector<uint16_t*> kv_k_, kv_v_;

    engine::BatchInfo batch_;
    int32_t max_kv_ = 0;
    int64_t n_output_rows_ = 0;
    // Host copy of all per-step arrays, uploaded in one asynchronous transfer; the next step
    // refills it once upload_done_ has passed (an event never recorded has passed already).
    PinnedBuffer<int32_t> staging_;
    gpuEvent_t upload_done_ = nullptr;
    GrowBuffer<int32_t> d_step_;  // all per-step arrays at fixed offsets (stable for graphs)
    std::vector<int32_t> tile_starts_;  // query tiles of the step (ops.h attention_tiled)
    enum StepArray {
        kTokens, kPositions, kSlots, kTokenSeq, kTableOffsets, kTables, kOutputRows, kTileStarts, kNumStepArrays
    };
    const int32_t* step_[kNumStepArrays] = {};
    size_t step_capacity_[kNumStepArrays] = {};

    bool graphs_enabled_ = true;
    StepMode mode_ = StepMode::kDirect;
    GraphKey current_key_{};
    std::map<GraphKey, gpuGraphExec_t> graphs_;
    std::set<GraphKey> seen_;
    uint64_t growths_seen_ = 0;  // GrowBufferStats::growths when the graphs were last checked

    // The last quantized activations (valid until any op writes device memory).
    bool acts_valid_ = false;
    const float* acts_x_ = nullptr;
    int64_t acts_cols_ = 0;
    int acts_tokens_ = 0;
    GrowBuffer<int8_t> act_qs_;
    GrowBuffer<float2> act_ds_;
    GrowBuffer<float> attn_scratch_;
    // A residual mat-vec's norm output (matmul_add_rms_norm) that its readers finish: they divide
    // by the rms and the first one writes `out`; any other op first finishes it (begin_op).
    struct PendingNorm {
        bool active = false;
        bool out_written = false;  // a mat-vec has written the normalised rows
        const float* acc = nullptr;
        const float* weight = nullptr;
        int64_t width = 0;
        int n_tokens = 0;
        // For the reading mat-vecs: acts, x = acc * weight rows, pending = the partial sums, eps
        // and the op's output tensor.
        MatvecInput input;
    };
    PendingNorm pending_norm_;
    // rms_norm_output_in_registers per (type, n_tokens), asked once.
    bool norm_output_fits(GgmlType type, int n_tokens) {
        const auto key = std::make_pair(type, n_tokens);
        auto it = norm_output_fits_.find(key);
        if (it == norm_output_fits_.end()) {
            it = norm_output_fits_.emplace(key, rms_norm_output_in_registers(type, n_tokens)).first;
        }
        return it->second;
    }
    std::map<std::pair<GgmlType, int>, bool> norm_output_fits_;
    GrowBuffer<int8_t> norm_qs_;  // the norm output's own buffers: the mat-vec writing them reads act_qs_
    GrowBuffer<float2> norm_ds_;
    GrowBuffer<float> norm_xw_, norm_partials_;
    uint32_t* attn_counters_ = nullptr;  // kAttentionCounters, zero between attention() calls
    // Top-logits readout: the step's logit changes and the selected pairs. (Their growth, rare,
    // also re-records the graphs, which never use them.)
    GrowBuffer<sampling::LogitAdjust> top_adjust_;
    GrowBuffer<sampling::TokenLogit> top_out_;
    // MoE scratch.
    GrowBuffer<float> moe_logits_, moe_x_, moe_gate_, moe_up_, moe_down_;
    GrowBuffer<int32_t> moe_rows_;        // moe_routes_ on the device
    std::vector<float> moe_host_logits_;
    std::vector<int32_t> moe_offsets_;    // [n_expert + 1]: expert e's routes are [offsets[e], offsets[e + 1])
    std::vector<int32_t> moe_routes_;     // [2][n_tokens * k]: token rows grouped by expert, then their weights
};

Result<DeviceMatrix> GpuBackend::upload_matrix(GgmlType type, const uint8_t* rows, int64_t n_rows, int64_t n_cols) {
    if (n_cols % 32 != 0) return error("GPU backend needs rows of a multiple of 32 elements, got {}", n_cols);
    auto pack = [&]() -> Result<PackedMatrix> {
        if (gpu_supports_type(type)) return pack_matrix(type, rows, n_rows, n_cols);
        // Types without a GPU kernel are widened to fp16 once, at load.
        const size_t rb = quant::row_bytes(type, static_cast<size_t>(n_cols));
        std::vector<float> row(static_cast<size_t>(n_cols));
        std::vector<uint16_t> f16(static_cast<size_t>(n_rows * n_cols));
        for (int64_t r = 0; r < n_rows; ++r) {
            quant::dequantize_row(type, rows + r * rb, row.data(), n_cols);
            for (int64_t c = 0; c < n_cols; ++c) f16[static_cast<size_t>(r * n_cols + c)] = float_to_fp16(row[static_cast<size_t>(c)]);
        }
        return pack_matrix(GgmlType::kF16, f16.data(), n_rows, n_cols);
    };
    Result<PackedMatrix> packed = pack();
    if (!packed.is_ok()) return packed.status();
    RF_ASSIGN_OR_RETURN(const uint8_t* qs, upload(packed->qs.data(), packed->qs.size()));
    DeviceMatrix m{packed->type, n_rows, n_cols, qs, nullptr, packed->qs_row_bytes, packed->scale_row_count};
    if (!packed->scales.empty()) {
        RF_ASSIGN_OR_RETURN(m.scales, upload(packed->scales.data(), packed->scales.size()));
    }
    return m;
}

Result<Tensor> GpuBackend::upload_weight(const engine::WeightSource& src) {
    Tensor t;
    t.type = src.type;
    t.ne = src.ne;
    t.row_bytes = quant::row_bytes(src.type, static_cast<size_t>(src.ne[0]));
    t.matrix_bytes = t.row_bytes * static_cast<size_t>(src.ne[1]);
    if (src.ne[1] == 1 && src.ne[2] == 1) {
        // Vectors (norm weights, biases, rope factors) become plain float arrays.
        std::vector<float> values(static_cast<size_t>(src.ne[0]));
        quant::dequantize_row(src.type, src.bytes.data(), values.data(), src.ne[0]);
        t.type = GgmlType::kF32;
        t.row_bytes = values.size() * sizeof(float);
        RF_ASSIGN_OR_RETURN(t.data, upload(values.data(), values.size()));
        return t;
    }
    if (src.ne[2] > 1) graphs_enabled_ = false;
    GpuWeight& w = weights_.emplace_back();
    for (int64_t e = 0; e < src.ne[2]; ++e) {
        RF_ASSIGN_OR_RETURN(DeviceMatrix m, upload_matrix(src.type, src.bytes.data() + e * t.matrix_bytes, src.ne[1], src.ne[0]));
        w.experts.push_back(m);
    }
    t.data = &w;
    return t;
}

Tensor GpuBackend::alloc_activation(int64_t ne0, int64_t ne1) {
    Tensor t;
    t.type = GgmlType::kF32;
    t.ne = {ne0, ne1, 1};
    t.row_bytes = static_cast<size_t>(ne0) * sizeof(float);
    t.matrix_bytes = t.row_bytes * static_cast<size_t>(ne1);
    t.data = device_alloc(t.matrix_bytes);
    RF_GPU_CHECK(gpuMemset(t.data, 0, t.matrix_bytes));
    return t;
}

Status GpuBackend::alloc_kv(const engine::KvLayout& layout) {
    if (layout.type != GgmlType::kF16) return error("GPU KV cache is fp16; asked for {}", quant::traits(layout.type).name);
    if (layout.head_dim_k > 256 || layout.head_dim_v > 256 || layout.head_dim_k % 8 != 0 || layout.head_dim_v % 8 != 0) {
        return error("GPU attention needs head dims that are multiples of 8 and <= 256 (got {} / {})",
                     layout.head_dim_k, layout.head_dim_v);
    }
    const size_t per_block_k = static_cast<size_t>(layout.n_head_kv) * layout.block_size * layout.head_dim_k;
    const size_t per_block_v = static_cast<size_t>(layout.n_head_kv) * layout.block_size * layout.head_dim_v;
    const size_t need = static_cast<size_t>(layout.n_layer) * layout.n_blocks * (per_block_k + per_block_v) * 2;
    size_t free_bytes = 0, total = 0;
    RF_GPU_CHECK(gpuMemGetInfo(&free_bytes, &total));
    if (need > free_bytes) return error("KV cache needs {} MiB but the GPU has {} MiB free", need >> 20, free_bytes >> 20);
    kv_layout_ = layout;
    kv_k_.clear();
    kv_v_.clear();
    for (int32_t il = 0; il < layout.n_layer; ++il) {
        kv_k_.push_back(static_cast<uint16_t*>(device_alloc(per_block_k * layout.n_blocks * 2)));
        kv_v_.push_back(static_cast<uint16_t*>(device_alloc(per_block_v * layout.n_blocks * 2)));
    }
    return Status::ok();
}

void GpuBackend::copy_kv_block(int32_t src, int32_t dst) {
    const size_t bk = static_cast<size_t>(kv_layout_.n_head_kv) * kv_layout_.block_size * kv_layout_.head_dim_k;
    const size_t bv = static_cast<size_t>(kv_layout_.n_head_kv) * kv_layout_.block_size * kv_layout_.head_dim_v;
    for (size_t il = 0; il < kv_k_.size(); ++il) {
        RF_GPU_CHECK(gpuMemcpyAsync(kv_k_[il] + dst * bk, kv_k_[il] + src * bk, bk * 2, gpuMemcpyDeviceToDevice, stream_));
        RF_GPU_CHECK(gpuMemcpyAsync(kv_v_[il] + dst * bv, kv_v_[il] + src * bv, bv * 2, gpuMemcpyDeviceToDevice, stream_));
    }
}

void GpuBackend::upload_step(const engine::BatchInfo& batch) {
    const std::span<const int32_t> parts[kNumStepArrays] = {batch.tokens,      batch.positions,
                                                            batch.kv_slots,    batch.token_seq,
                                                            batch.block_table_offsets, batch.block_tables,
                                                            batch.output_rows, tile_starts_};
    // Each array keeps a fixed offset in the step buffer until one outgrows its slot, so recorded
    // graphs stay valid; growing re-lays the buffer and drops the graphs.
    bool grow = d_step_.data() == nullptr;
    for (int i = 0; i < kNumStepArrays; ++i) grow = grow || parts[i].size() > step_capacity_[i];
    if (grow) {
        reset_graphs();
        for (int i = 0; i < kNumStepArrays; ++i) step_capacity_[i] = std::max<size_t>(2 * parts[i].size(), 64);
    }
    size_t total = 0;
    for (size_t c : step_capacity_) total += c;
    RF_GPU_CHECK(gpuEventSynchronize(upload_done_));  // the last step's copy
    int32_t* host = staging_.get(total);
    std::fill(host, host + total, 0);
    int32_t* d = d_step_.get(total);
    size_t offset = 0;
    for (int i = 0; i < kNumStepArrays; ++i) {
        std::copy(parts[i].begin(), parts[i].end(), host + offset);
        step_[i] = d + offset;
        offset += step_capacity_[i];
    }
    RF_GPU_CHECK(gpuMemcpyAsync(d, host, total * sizeof(int32_t), gpuMemcpyHostToDevice, stream_));
    RF_GPU_CHECK(gpuEventRecord(upload_done_, stream_));
}

void GpuBackend::set_batch(const engine::BatchInfo& batch) {
    arena_->wait();  // weights still in flight from loading
    finish_step();
    acts_valid_ = false;
    // Scratch that grew since the graphs were recorded was freed under them.
    if (GrowBufferStats::growths != growths_seen_) {
        reset_graphs();
        growths_seen_ = GrowBufferStats::growths;
    }
    batch_ = batch;
    max_kv_ = 0;
    for (int32_t p : batch.positions) max_kv_ = std::max(max_kv_, p + 1);
    n_output_rows_ = static_cast<int64_t>(batch.output_rows.size());
    query_tile_starts(batch.token_seq, batch.positions, tile_starts_);
    upload_step(batch);

    if (!graphs_enabled_ || batch.n_tokens > kMaxGraphTokens) return;
    // Attention grids cover a bucket of keys (blocks past a token's keys exit at once), so one
    // graph serves kKvBucket consecutive positions.
    max_kv_ = (max_kv_ + kKvBucket - 1) / kKvBucket * kKvBucket;
    // The tiled attention grid has a block per query tile.
    current_key_ = {batch.n_tokens, static_cast<int32_t>(n_output_rows_), batch.n_seqs, max_kv_,
                    static_cast<int32_t>(tile_starts_.size())};
    if (graphs_.count(current_key_) != 0) {
        mode_ = StepMode::kReplay;
    } else if (seen_.count(current_key_) != 0) {
        // Second step of this shape: its scratch buffers exist now, so it can be recorded.
        RF_GPU_CHECK(gpuStreamBeginCapture(stream_));
        mode_ = StepMode::kCapture;
    } else {
        seen_.insert(current_key_);
    }
}

void GpuBackend::finish_step() {
    if (!replaying()) finish_pending_norm();
    if (mode_ == StepMode::kCapture) {
        gpuGraph_t graph;
        RF_GPU_CHECK(gpuStreamEndCapture(stream_, &graph));
        gpuGraphExec_t exec;
        RF_GPU_CHECK(gpuGraphInstantiate(&exec, graph));
        RF_GPU_CHECK(gpuGraphDestroy(graph));
        graphs_[current_key_] = exec;
    }
    if (mode_ != StepMode::kDirect) RF_GPU_CHECK(gpuGraphLaunch(graphs_.at(current_key_), stream_));
    mode_ = StepMode::kDirect;
}

void GpuBackend::reset_graphs() {
    for (auto& [key, exec] : graphs_) (void)gpuGraphExecDestroy(exec);
    graphs_.clear();
    seen_.clear();
}

QuantizedActs GpuBackend::act_buffers(int64_t n_cols, int n_tokens) {
    QuantizedActs acts;
    acts.n_cols_padded = padded_act_cols(n_cols);
    acts.qs = act_qs_.get(static_cast<size_t>(acts.n_cols_padded * n_tokens));
    acts.ds = act_ds_.get(static_cast<size_t>(acts.n_cols_padded / 32 * n_tokens));
    return acts;
}

QuantizedActs GpuBackend::acts_for(const DeviceMatrix& w, const float* x, int n_tokens) {
    const bool needs_acts = w.type != GgmlType::kF16 || (n_tokens > kMaxMatvecTokens && !GemmRunner::has_blas());
    if (!needs_acts) return {};
    QuantizedActs acts = act_buffers(w.n_cols, n_tokens);
    // Q, K and V (and gate and up) read the same activations: quantize them once.
    const bool cached = acts_valid_ && acts_x_ == x && acts_cols_ == w.n_cols && acts_tokens_ == n_tokens;
    if (!cached && (n_tokens <= kMaxMatvecTokens || !GemmRunner::has_blas())) {
        ProfileScope scope(*profiler_, [] { return "quantize_acts"; });
        quantize_acts(x, w.n_cols, n_tokens, acts, stream_);
        remember_acts(x, w.n_cols, n_tokens);
    }
    return acts;
}

// "matvec Q4_0 [4096 x 4096] +acc n=1" and the like, for the profile.
std::string matvec_label(const MatvecSet& set, MatvecEpilogue epilogue, int n_tokens) {
    std::string label = n_tokens <= kMaxMatvecTokens ? "matvec " : "gemm ";
    label += quant::traits(set.w[0].type).name;
    label += " [";
    for (int i = 0; i < set.n; ++i) {
        if (i > 0) label += '+';
        label += std::to_string(set.w[i].n_rows);
    }
    label += " x ";
    label += std::to_string(set.w[0].n_cols);
    label += ']';
    if (epilogue == MatvecEpilogue::kAccumulate) label += " +acc";
    if (epilogue == MatvecEpilogue::kAccumulateRmsNorm) label += " +acc rms_norm";
    if (epilogue == MatvecEpilogue::kSwiglu) label += " swiglu";
    label += " n=";
    label += std::to_string(n_tokens);
    return label;
}

void GpuBackend::run_matmul(const DeviceMatrix& w, const float* x, int n_tokens, float* y) {
    MatvecSet set;
    set.add(w, y);
    if (n_tokens <= kMaxMatvecTokens) {
        run_matvec_set(set, MatvecEpilogue::kStore, x, n_tokens);
        return;
    }
    finish_pending_norm();
    const QuantizedActs acts = acts_for(w, x, n_tokens);
    ProfileScope scope(*profiler_, [&] { return matvec_label(set, MatvecEpilogue::kStore, n_tokens); });
    gemm_->run(w, x, acts, n_tokens, y, warp_size_);
    if (y == acts_x_) acts_valid_ = false;
}

void GpuBackend::run_matvec_set(const MatvecSet& set, MatvecEpilogue epilogue, const float* x, int n_tokens) {
    // x may be the pending norm's output, which this launch then finishes (PendingNorm).
    PendingNorm& p = pending_norm_;
    bool reads_pending = p.active && x == p.input.pending.out && n_tokens == p.n_tokens &&
                         set.w[0].n_cols == p.width &&
                         (epilogue == MatvecEpilogue::kStore || epilogue == MatvecEpilogue::kSwiglu);
    for (int i = 0; i < set.n; ++i) {
        reads_pending = reads_pending && set.y[i] != p.input.pending.out && set.y[i] != p.acc;
    }
    MatvecInput in;
    if (reads_pending) {
        in = p.input;
        p.out_written = true;
    } else {
        finish_pending_norm();
        in.acts = acts_for(set.w[0], x, n_tokens);
        in.x = x;
    }
    {
        ProfileScope scope(*profiler_,
                           [&] { return matvec_label(set, epilogue, n_tokens) + (reads_pending ? " (norm)" : ""); });
        matvec_set(set, epilogue, in, n_tokens, warp_size_, stream_);
    }
    for (int i = 0; i < set.n; ++i) {
        if (set.y[i] == acts_x_) acts_valid_ = false;
    }
}

void GpuBackend::rms_norm(const Tensor& x, const Tensor& w, float eps, Tensor& out) {
    if (!begin_op()) return;
    const int64_t width = x.ne[0];
    const int n_rows = static_cast<int>(x.ne[1]);
    acts_valid_ = false;
    if (n_rows > kMaxMatvecTokens || width % 32 != 0) {
        ProfileScope scope(*profiler_, [] { return "rms_norm"; });
        gpu::rms_norm(f32(x), f32(w), eps, width, n_rows, f32(out), stream_);
        return;
    }
    // Decode steps: the normalised rows feed mat-vecs, so quantize them in the same kernel.
    ProfileScope scope(*profiler_, [] { return "rms_norm+quantize"; });
    gpu::rms_norm_quant(f32(x), f32(w), eps, width, n_rows, f32(out), act_buffers(width, n_rows), stream_);
    remember_acts(f32(out), width, n_rows);
}

void GpuBackend::matmul_shared_input(std::span<const Tensor* const> ws, const Tensor& x, std::span<Tensor* const> ys) {
    if (replaying()) return;
    const int n_tokens = static_cast<int>(x.ne[1]);
    const DeviceMatrix& first = weight(*ws[0]).experts[0];
    bool fusable = n_tokens <= kMaxMatvecTokens && ws.size() <= static_cast<size_t>(kMaxMatvecSet);
    for (const Tensor* w : ws) {
        const DeviceMatrix& m = weight(*w).experts[0];
        fusable = fusable && m.type == first.type && m.n_cols == first.n_cols;
    }
    if (!fusable) {
        engine::Backend::matmul_shared_input(ws, x, ys);
        return;
    }
    MatvecSet set;
    for (size_t i = 0; i < ws.size(); ++i) set.add(weight(*ws[i]).experts[0], f32(*ys[i]));
    run_matvec_set(set, MatvecEpilogue::kStore, f32(x), n_tokens);
}

void GpuBackend::matmul_swiglu(const Tensor& gate, const Tensor& up, const Tensor& x, Tensor& up_scratch, Tensor& out) {
    if (replaying()) return;
    const int n_tokens = static_cast<int>(x.ne[1]);
    const DeviceMatrix& g = weight(gate).experts[0];
    const DeviceMatrix& u = weight(up).experts[0];
    if (n_tokens > kMaxMatvecTokens || g.type != u.type || g.n_rows != u.n_rows || g.n_cols != u.n_cols) {
        engine::Backend::matmul_swiglu(gate, up, x, up_scratch, out);
        return;
    }
    MatvecSet set;
    set.add(g, f32(out));
    set.w[1] = u;  // read by the SwiGLU epilogue for the same rows
    run_matvec_set(set, MatvecEpilogue::kSwiglu, f32(x), n_tokens);
}

void GpuBackend::matmul_add_rms_norm(const Tensor& w, const Tensor& x, Tensor& scratch, Tensor& acc,
                                     const Tensor& norm_w, float eps, Tensor& out) {
    if (replaying()) return;
    const int n_tokens = static_cast<int>(x.ne[1]);
    const DeviceMatrix& m = weight(w).experts[0];
    const int64_t width = acc.ne[0];
    // The reading mat-vecs load each token's partial sums (one per 32 rows) as one float4 a lane.
    // Only where the 32-row mat-vec keeps everything in registers (where it spills, tg128 fell:
    // Q5_K_M -3.3%, IQ4_XS -1% on an H100), and not for F16, whose reading mat-vecs sit at their
    // register limit (-6.5%).
    const bool fusable = n_tokens <= kMaxMatvecTokens && m.type != GgmlType::kF16 && width % 128 == 0 &&
                         width / 32 <= max_pending_partials(warp_size_) && m.n_rows == width &&
                         out.data != acc.data && out.data != x.data && norm_output_fits(m.type, n_tokens);
    if (!fusable) {
        engine::Backend::matmul_add_rms_norm(w, x, scratch, acc, norm_w, eps, out);
        return;
    }
    finish_pending_norm();
    MatvecInput in;
    in.acts = acts_for(m, f32(x), n_tokens);
    in.x = f32(x);
    RmsNormOutput& norm = in.norm_out;
    norm.weight = f32(norm_w);
    norm.acts.n_cols_padded = padded_act_cols(width);
    norm.acts.qs = norm_qs_.get(static_cast<size_t>(norm.acts.n_cols_padded * n_tokens));
    norm.acts.ds = norm_ds_.get(static_cast<size_t>(norm.acts.n_cols_padded / 32 * n_tokens));
    norm.xw = norm_xw_.get(static_cast<size_t>(width * n_tokens));
    norm.partials = norm_partials_.get(static_cast<size_t>(width / 32 * n_tokens));
    MatvecSet set;
    set.add(m, f32(acc));
    {
        ProfileScope scope(*profiler_, [&] { return matvec_label(set, MatvecEpilogue::kAccumulateRmsNorm, n_tokens); });
        matvec_set(set, MatvecEpilogue::kAccumulateRmsNorm, in, n_tokens, warp_size_, stream_);
    }
    if (f32(acc) == acts_x_ || f32(out) == acts_x_) acts_valid_ = false;
    PendingNorm& p = pending_norm_;
    p = PendingNorm{};
    p.active = true;
    p.acc = f32(acc);
    p.weight = f32(norm_w);
    p.width = width;
    p.n_tokens = n_tokens;
    p.input.acts = norm.acts;
    p.input.x = norm.xw;
    p.input.pending = {norm.partials, static_cast<int>(width / 32), eps, f32(out)};
}

void GpuBackend::finish_pending_norm() {
    PendingNorm& p = pending_norm_;
    if (!p.active) return;
    p.active = false;
    if (p.out_written) return;
    ProfileScope scope(*profiler_, [] { return "rms_norm"; });
    gpu::rms_norm(p.acc, p.weight, p.input.pending.eps, p.width, p.n_tokens, p.input.pending.out, stream_);
}

void GpuBackend::matmul_add(const Tensor& w, const Tensor& x, Tensor& scratch, Tensor& acc) {
    if (replaying()) return;
    const int n_tokens = static_cast<int>(x.ne[1]);
    const DeviceMatrix& m = weight(w).experts[0];
    if (n_tokens > kMaxMatvecTokens) {
        engine::Backend::matmul_add(w, x, scratch, acc);
        return;
    }
    MatvecSet set;
    set.add(m, f32(acc));
    run_matvec_set(set, MatvecEpilogue::kAccumulate, f32(x), n_tokens);
}

RopeKernelParams GpuBackend::kernel_params(const engine::RopeParams& params) const {
    RopeKernelParams p;
    p.neox = params.type == engine::RopeType::kNeox;
    p.n_rot = params.n_rot;
    p.freq_base = params.freq_base;
    p.freq_scale = params.freq_scale;
    p.ext_factor = params.ext_factor;
    p.mscale = params.attn_factor;
    if (params.ext_factor != 0.0f) {
        const int32_t n_ctx_orig = params.n_ctx_orig > 0 ? params.n_ctx_orig : 4096;
        p.yarn_low = std::max(0.0f, std::floor(yarn_corr_dim(params.n_rot, n_ctx_orig, params.beta_fast, params.freq_base)));
        p.yarn_high = std::min(static_cast<float>(params.n_rot - 1),
                               std::ceil(yarn_corr_dim(params.n_rot, n_ctx_orig, params.beta_slow, params.freq_base)));
        p.mscale *= 1.0f + 0.1f * std::log(1.0f / params.freq_scale);
    }
    p.freq_factors = params.freq_factors.empty() ? nullptr : f32(params.freq_factors);
    return p;
}

void GpuBackend::rope(Tensor& x, int32_t n_head, const engine::RopeParams& params) {
    if (!begin_op()) return;
    ProfileScope scope(*profiler_, [] { return "rope"; });
    acts_valid_ = false;
    // x is [head_dim, n_head * n_tokens].
    gpu::rope(f32(x), step_[kPositions], x.ne[1] / n_head, n_head, static_cast<int32_t>(x.ne[0]), kernel_params(params),
              stream_);
}

void GpuBackend::moe_ffn(const Tensor& x, const engine::MoeWeights& w, const engine::MoeParams& p, Tensor& out) {
    if (!begin_op()) return;  // (models with experts are never replayed)
    ProfileScope scope(*profiler_, [] { return "moe_ffn"; });
    acts_valid_ = false;
    const int64_t n_tokens = x.ne[1];
    const int64_t n_embd = x.ne[0];
    const DeviceMatrix& router = weight(w.gate_inp).experts[0];
    const int64_t n_expert = router.n_rows;
    const int64_t n_ff = weight(w.gate_exps).experts[0].n_rows;
    const int32_t k = p.n_expert_used;

    // 1. Router logits to the host; top-k and softmax weights there (k and n_expert are small).
    float* logits = moe_logits_.get(static_cast<size_t>(n_tokens * n_expert));
    run_matmul(router, f32(x), static_cast<int>(n_tokens), logits);
    moe_host_logits_.resize(static_cast<size_t>(n_tokens * n_expert));
    RF_GPU_CHECK(gpuMemcpyAsync(moe_host_logits_.data(), logits, moe_host_logits_.size() * sizeof(float),
                                gpuMemcpyDeviceToHost, stream_));
    RF_GPU_CHECK(gpuStreamSynchronize(stream_));
    std::vector<int32_t> ids(static_cast<size_t>(n_tokens * k));
    std::vector<float> weights(static_cast<size_t>(n_tokens * k));
    for (int64_t t = 0; t < n_tokens; ++t) {
        const float* row = moe_host_logits_.data() + t * n_expert;
        const float mx = *std::max_element(row, row + n_expert);
        double total = 0.0;
        for (int64_t e = 0; e < n_expert; ++e) total += std::exp(static_cast<double>(row[e] - mx));
        std::vector<int32_t> order(static_cast<size_t>(n_expert));
        for (int32_t e = 0; e < n_expert; ++e) order[static_cast<size_t>(e)] = e;
        std::partial_sort(order.begin(), order.begin() + k, order.end(),
                          [&](int32_t a, int32_t b) { return row[a] > row[b] || (row[a] == row[b] && a < b); });
        float sum = 0.0f;
        for (int32_t j = 0; j < k; ++j) {
            ids[static_cast<size_t>(t * k + j)] = order[static_cast<size_t>(j)];
            weights[static_cast<size_t>(t * k + j)] =
                static_cast<float>(std::exp(static_cast<double>(row[order[static_cast<size_t>(j)]] - mx)) / total);
            sum += weights[static_cast<size_t>(t * k + j)];
        }
        if (p.normalize_weights) {
            for (int32_t j = 0; j < k; ++j) weights[static_cast<size_t>(t * k + j)] /= sum;
        }
    }
    // 2. Every expert's tokens and weights, grouped by expert, go up in one copy, so the experts'
    //    launches follow each other with no wait for the device in between.
    moe_offsets_.assign(static_cast<size_t>(n_expert) + 1, 0);
    for (const int32_t e : ids) ++moe_offsets_[static_cast<size_t>(e) + 1];
    int64_t max_rows = 0;
    for (int64_t e = 0; e < n_expert; ++e) {
        max_rows = std::max<int64_t>(max_rows, moe_offsets_[static_cast<size_t>(e) + 1]);
        moe_offsets_[static_cast<size_t>(e) + 1] += moe_offsets_[static_cast<size_t>(e)];
    }
    // [token rows of expert 0, expert 1, ...] then their weights (bit-cast), in token order.
    const size_t n_routed = ids.size();
    moe_routes_.resize(2 * n_routed);
    std::vector<int32_t> fill(moe_offsets_.begin(), moe_offsets_.end() - 1);
    for (size_t i = 0; i < n_routed; ++i) {
        const auto slot = static_cast<size_t>(fill[static_cast<size_t>(ids[i])]++);
        moe_routes_[slot] = static_cast<int32_t>(i / static_cast<size_t>(k));
        std::memcpy(&moe_routes_[n_routed + slot], &weights[i], sizeof(float));
    }
    int32_t* d_routes = moe_rows_.get(moe_routes_.size());
    RF_GPU_CHECK(gpuMemcpyAsync(d_routes, moe_routes_.data(), moe_routes_.size() * sizeof(int32_t),
                                gpuMemcpyHostToDevice, stream_));
    // 3. Per expert: gather its tokens, SwiGLU FFN, scatter-add weighted rows into `out`.
    RF_GPU_CHECK(gpuMemsetAsync(out.data, 0, static_cast<size_t>(n_tokens * n_embd) * sizeof(float), stream_));
    float* xe = moe_x_.get(static_cast<size_t>(max_rows * n_embd));
    float* g = moe_gate_.get(static_cast<size_t>(max_rows * n_ff));
    float* u = moe_up_.get(static_cast<size_t>(max_rows * n_ff));
    float* dn = moe_down_.get(static_cast<size_t>(max_rows * n_embd));
    for (int32_t e = 0; e < n_expert; ++e) {
        const int32_t first = moe_offsets_[static_cast<size_t>(e)];
        const int64_t m = moe_offsets_[static_cast<size_t>(e) + 1] - first;
        if (m == 0) continue;
        const int32_t* d_rows = d_routes + first;
        const float* d_w = reinterpret_cast<const float*>(d_routes + n_routed + static_cast<size_t>(first));
        gather_rows(f32(x), d_rows, m, n_embd, xe, stream_);
        acts_valid_ = false;  // xe is rewritten for every expert
        run_matmul(weight(w.gate_exps).experts[static_cast<size_t>(e)], xe, static_cast<int>(m), g);
        run_matmul(weight(w.up_exps).experts[static_cast<size_t>(e)], xe, static_cast<int>(m), u);
        gpu::swiglu(g, u, g, m * n_ff, stream_);
        acts_valid_ = false;
        run_matmul(weight(w.down_exps).experts[static_cast<size_t>(e)], g, static_cast<int>(m), dn);
        scatter_add_rows(dn, d_rows, d_w, m, n_embd, f32(out), stream_);
    }
}

}  // namespace

Result<std::vector<DeviceInfo>> list_devices() {
    int count = 0;
    const gpuError_t err = gpuGetDeviceCount(&count);
    if (err != gpuSuccess) return error("{} runtime reports no device: {}", RF_GPU_PLATFORM, gpuGetErrorString(err));
    if (count == 0) return error("{} runtime found no GPU", RF_GPU_PLATFORM);
    std::vector<DeviceInfo> devices;
    for (int i = 0; i < count; ++i) {
        gpuDeviceProp prop{};
        if (gpuGetDeviceProperties(&prop, i) != gpuSuccess) continue;
        DeviceInfo info;
        info.index = i;
        info.name = prop.name;
        info.platform = RF_GPU_PLATFORM;
#if defined(RF_GPU_HIP)
        info.arch = prop.gcnArchName;
#else
        info.arch = "sm_" + std::to_string(prop.major) + std::to_string(prop.minor);
#endif
        info.total_bytes = prop.totalGlobalMem;
        info.warp_size = prop.warpSize;
        info.multiprocessors = prop.multiProcessorCount;
        size_t free_bytes = 0, total = 0;
        if (gpuSetDevice(i) == gpuSuccess && gpuMemGetInfo(&free_bytes, &total) == gpuSuccess) info.free_bytes = free_bytes;
        devices.push_back(info);
    }
    if (devices.empty()) return error("{} devices could not be queried", RF_GPU_PLATFORM);
    return devices;
}

Result<double> copy_bandwidth(int index) {
    if (gpuSetDevice(index) != gpuSuccess) return error("cannot select GPU {}", index);
    constexpr size_t kBytes = size_t{512} << 20;
    constexpr int kCopies = 10;
    void* a = nullptr;
    void* b = nullptr;
    if (gpuMalloc(&a, kBytes) != gpuSuccess || gpuMalloc(&b, kBytes) != gpuSuccess) {
        if (a != nullptr) (void)gpuFree(a);
        return error("GPU {}: no room for the copy probe", index);
    }
    gpuEvent_t start, stop;
    RF_GPU_CHECK(gpuEventCreate(&start));
    RF_GPU_CHECK(gpuEventCreate(&stop));
    RF_GPU_CHECK(gpuMemcpy(b, a, kBytes, gpuMemcpyDeviceToDevice));  // warm-up
    RF_GPU_CHECK(gpuEventRecord(start, nullptr));
    for (int i = 0; i < kCopies; ++i) RF_GPU_CHECK(gpuMemcpyAsync(i % 2 ? a : b, i % 2 ? b : a, kBytes, gpuMemcpyDeviceToDevice, nullptr));
    RF_GPU_CHECK(gpuEventRecord(stop, nullptr));
    RF_GPU_CHECK(gpuEventSynchronize(stop));
    float ms = 0.0f;
    RF_GPU_CHECK(gpuEventElapsedTime(&ms, start, stop));
    (void)gpuEventDestroy(start);
    (void)gpuEventDestroy(stop);
    (void)gpuFree(a);
    (void)gpuFree(b);
    return 2.0 * static_cast<double>(kBytes) * kCopies / (static_cast<double>(ms) * 1e-3) / 1e9;
}

Result<std::unique_ptr<engine::Backend>> create_backend(int index) {
    RF_ASSIGN_OR_RETURN(std::vector<DeviceInfo> devices, list_devices());
    if (index < 0 || index >= static_cast<int>(devices.size())) {
        return error("GPU {} does not exist ({} found)", index, devices.size());
    }
    gpuError_t err = gpuSetDevice(index);
    if (err != gpuSuccess) return error("cannot select GPU {}: {}", index, gpuGetErrorString(err));
    gpuDeviceProp prop{};
    err = gpuGetDeviceProperties(&prop, index);
    if (err != gpuSuccess) return error("cannot query GPU {}: {}", index, gpuGetErrorString(err));
    return std::unique_ptr<engine::Backend>(new GpuBackend(prop));
}

}  // namespace rf::gpu
