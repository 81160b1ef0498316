// CpuBackend: engine::Backend on host memory, ops from ops_*.cpp and the quantized matmul.
#include "backend/cpu/backend_cpu.h"

#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>

#include "backend/cpu/matmul.h"
#include "backend/cpu/ops_basic.h"
#include "backend/cpu/ops_rope.h"
#include "core/check.h"

namespace rf::cpu {
namespace {

constexpr size_t kAlign = 64;

float* f32(const engine::Tensor& t) { return static_cast<float*>(t.data); }

// Activations are dense row-major float matrices.
void check_dense(const engine::Tensor& t) {
    RF_CHECK(t.type == quant::GgmlType::kF32);
    RF_CHECK(t.row_bytes == static_cast<size_t>(t.ne[0]) * sizeof(float));
}

constexpr uint8_t kPackedLayout = 1;  // engine::Tensor::layout of weights packed by pack_weights

WeightLayout layout_of(const engine::Tensor& w) {
    return w.layout == kPackedLayout ? WeightLayout::kPacked8 : WeightLayout::kRows;
}

MatrixView matrix_view(const engine::Tensor& w) {
    return {w.type, w.data, w.ne[0], w.ne[1], w.row_bytes, layout_of(w)};
}

bool same_rope(const engine::RopeParams& a, const engine::RopeParams& b) {
    return a.n_rot == b.n_rot && a.freq_base == b.freq_base && a.freq_scale == b.freq_scale &&
           a.ext_factor == b.ext_factor && a.attn_factor == b.attn_factor &&
           a.beta_fast == b.beta_fast && a.beta_slow == b.beta_slow &&
           a.n_ctx_orig == b.n_ctx_orig && a.freq_factors.data == b.freq_factors.data;
}

}  // namespace

void CpuBackend::FreeDeleter::operator()(void* p) const { std::free(p); }

CpuBackend::CpuBackend(int n_threads) : pool_(n_threads) {
    // ROCMFORGE_CPU_PACK=0 keeps weights in the file's row layout (A/B measurements, low memory).
    const char* pack = std::getenv("ROCMFORGE_CPU_PACK");
    pack_weights_ = pack == nullptr || std::string(pack) != "0";
}
CpuBackend::~CpuBackend() = default;

template <typename Fn>
void CpuBackend::for_rows(int64_t n_rows, int64_t row_width, Fn&& fn) {
    // Below ~64K elements a thread hand-off costs more than it saves.
    if (n_rows * row_width < 65536 || n_rows < 2) {
        fn(int64_t{0}, n_rows);
        return;
    }
    auto body = [&](int64_t begin, int64_t end, int) { fn(begin, end); };
    // std::ref keeps std::function from allocating a copy of the closure on every call.
    pool_.parallel_for(n_rows, 1, std::ref(body));
}

Result<engine::Tensor> CpuBackend::upload_weight(const engine::WeightSource& src) {
    engine::Tensor t;
    t.type = src.type;
    t.ne = src.ne;
    t.row_bytes = quant::row_bytes(src.type, static_cast<size_t>(src.ne[0]));
    t.matrix_bytes = t.row_bytes * static_cast<size_t>(src.ne[1]);
    if (src.bytes.size() < t.matrix_bytes * static_cast<size_t>(src.ne[2])) {
        return error("holds {} bytes, its shape needs {}", src.bytes.size(),
                     t.matrix_bytes * static_cast<size_t>(src.ne[2]));
    }
    // Zero copy: the model keeps the mapping alive; ops only read weights.
    t.data = const_cast<uint8_t*>(src.bytes.data());
    if (pack_weights_ && src.use == engine::WeightUse::kMatmul && can_pack_weights(src.type) &&
        src.ne[1] >= 8) {
        // Matmul-only weights of the common types get the interleaved layout the fast
        // mat-vec kernels read (same size; a one-time copy at load).
        const size_t bytes = t.matrix_bytes * static_cast<size_t>(src.ne[2]);
        void* packed = std::aligned_alloc(kAlign, (bytes + kAlign - 1) / kAlign * kAlign);
        if (packed == nullptr) return error("out of memory packing a weight of {} bytes", bytes);
        weights_.emplace_back(packed);
        for (int64_t e = 0; e < src.ne[2]; ++e) {
            const MatrixView rows{src.type, src.bytes.data() + static_cast<size_t>(e) * t.matrix_bytes,
                                  src.ne[0], src.ne[1], t.row_bytes, WeightLayout::kRows};
            pack_weights(rows, static_cast<uint8_t*>(packed) + static_cast<size_t>(e) * t.matrix_bytes, pool_);
        }
        t.data = packed;
        t.layout = kPackedLayout;
    }
    return t;
}

engine::Tensor CpuBackend::alloc_activation(int64_t ne0, int64_t ne1) {
    engine::Tensor t;
    t.ne = {ne0, ne1, 1};
    t.row_bytes = static_cast<size_t>(ne0) * sizeof(float);
    t.matrix_bytes = t.row_bytes * static_cast<size_t>(ne1);
    const size_t bytes = (t.matrix_bytes + kAlign - 1) / kAlign * kAlign;
    void* p = std::aligned_alloc(kAlign, bytes == 0 ? kAlign : bytes);
    RF_CHECK_MSG(p != nullptr, "out of memory allocating activations");
    std::memset(p, 0, bytes);
    activations_.emplace_back(p);
    t.data = p;
    return t;
}

Status CpuBackend::alloc_kv(const engine::KvLayout& layout) {
    const size_t elem = layout.type == quant::GgmlType::kF16 ? 2 : 4;
    const size_t per_block = static_cast<size_t>(layout.n_head_kv) * static_cast<size_t>(layout.block_size) * elem;
    kv_block_bytes_k_ = per_block * static_cast<size_t>(layout.head_dim_k);
    kv_block_bytes_v_ = per_block * static_cast<size_t>(layout.head_dim_v);
    const size_t total = (kv_block_bytes_k_ + kv_block_bytes_v_) * static_cast<size_t>(layout.n_blocks) *
                         static_cast<size_t>(layout.n_layer);
    kv_memory_.reset();
    // calloc: zeroed pages are only touched when the cache fills up.
    void* p = std::calloc(total == 0 ? 1 : total, 1);
    if (p == nullptr) {
        return error("cannot allocate the KV cache ({:.1f} MiB)", static_cast<double>(total) / 1048576.0);
    }
    kv_memory_.reset(p);
    kv_layout_ = layout;
    return Status::ok();
}

PagedKv CpuBackend::layer_kv(int32_t il) const {
    RF_CHECK(kv_memory_ && il >= 0 && il < kv_layout_.n_layer);
    const size_t pool_k = kv_block_bytes_k_ * static_cast<size_t>(kv_layout_.n_blocks);
    const size_t pool_v = kv_block_bytes_v_ * static_cast<size_t>(kv_layout_.n_blocks);
    auto* base = static_cast<uint8_t*>(kv_memory_.get()) + static_cast<size_t>(il) * (pool_k + pool_v);
    PagedKv kv;
    kv.k = base;
    kv.v = base + pool_k;
    kv.type = kv_layout_.type;
    kv.block_size = kv_layout_.block_size;
    kv.n_head_kv = kv_layout_.n_head_kv;
    kv.head_dim_k = kv_layout_.head_dim_k;
    kv.head_dim_v = kv_layout_.head_dim_v;
    return kv;
}

void CpuBackend::copy_kv_block(int32_t src, int32_t dst) {
    RF_CHECK(src >= 0 && dst >= 0 && src < kv_layout_.n_blocks && dst < kv_layout_.n_blocks);
    for (int32_t il = 0; il < kv_layout_.n_layer; ++il) {
        const PagedKv kv = layer_kv(il);
        auto* k = static_cast<uint8_t*>(kv.k);
        auto* v = static_cast<uint8_t*>(kv.v);
        std::memcpy(k + static_cast<size_t>(dst) * kv_block_bytes_k_, k + static_cast<size_t>(src) * kv_block_bytes_k_, kv_block_bytes_k_);
        std::memcpy(v + static_cast<size_t>(dst) * kv_block_bytes_v_, v + static_cast<size_t>(src) * kv_block_bytes_v_, kv_block_bytes_v_);
    }
}

void CpuBackend::set_batch(const engine::BatchInfo& batch) {
    batch_ = batch;
    ++batch_serial_;
}

void CpuBackend::get_rows(const engine::Tensor& table, engine::Tensor& out) {
    check_dense(out);
    RF_CHECK(out.ne[1] == batch_.n_tokens && out.ne[0] == table.ne[0]);
    RF_CHECK_MSG(table.layout == 0, "row lookups need the GGUF row layout");
    for (int32_t t = 0; t < batch_.n_tokens; ++t) {
        const int32_t id = batch_.tokens[static_cast<size_t>(t)];
        RF_CHECK(id >= 0 && id < table.ne[1]);
        dequantize_row_to_float(table.type, static_cast<const uint8_t*>(table.data) + static_cast<size_t>(id) * table.row_bytes,
                                table.ne[0], f32(out) + t * out.ne[0]);
    }
}

void CpuBackend::rms_norm(const engine::Tensor& x, const engine::Tensor& w, float eps,
                          engine::Tensor& out) {
    check_dense(x);
    check_dense(out);
    RF_CHECK(w.ne[0] == x.ne[0] && out.ne[0] == x.ne[0] && out.ne[1] == x.ne[1]);
    const int64_t width = x.ne[0];
    for_rows(x.ne[1], width, [&](int64_t r0, int64_t r1) {
        rms_norm_rows(f32(x) + r0 * width, f32(w), eps, width, r1 - r0, static_cast<size_t>(width),
                      f32(out) + r0 * width, static_cast<size_t>(width));
    });
}

void CpuBackend::matmul(const engine::Tensor& w, const engine::Tensor& x, engine::Tensor& y) {
    check_dense(x);
    check_dense(y);
    RF_CHECK(w.ne[0] == x.ne[0] && w.ne[1] == y.ne[0] && x.ne[1] == y.ne[1]);
    cpu::matmul(matrix_view(w), f32(x), x.ne[1], f32(y), pool_);
}

void CpuBackend::add_bias(engine::Tensor& x, const engine::Tensor& b) {
    check_dense(x);
    RF_CHECK(b.ne[0] == x.ne[0]);
    for (int64_t r = 0; r < x.ne[1]; ++r) add_vec(f32(x) + r * x.ne[0], f32(b), f32(x) + r * x.ne[0], x.ne[0]);
}

void CpuBackend::add(const engine::Tensor& a, const engine::Tensor& b, engine::Tensor& out) {
    RF_CHECK(a.n_elements() == b.n_elements() && a.n_elements() == out.n_elements());
    for_rows(a.ne[1], a.ne[0], [&](int64_t r0, int64_t r1) {
        const int64_t off = r0 * a.ne[0];
        add_vec(f32(a) + off, f32(b) + off, f32(out) + off, (r1 - r0) * a.ne[0]);
    });
}

void CpuBackend::swiglu(const engine::Tensor& gate, const engine::Tensor& up, engine::Tensor& out) {
    RF_CHECK(gate.n_elements() == up.n_elements() && gate.n_elements() == out.n_elements());
    for_rows(gate.ne[1], gate.ne[0], [&](int64_t r0, int64_t r1) {
        const int64_t off = r0 * gate.ne[0];
        swiglu_vec(f32(gate) + off, f32(up) + off, f32(out) + off, (r1 - r0) * gate.ne[0]);
    });
}

void CpuBackend::rope(engine::Tensor& x, int32_t n_head, const engine::RopeParams& params) {
    check_dense(x);
    const int64_t n_tokens = batch_.n_tokens;
    RF_CHECK(x.ne[1] == n_head * n_tokens && params.n_rot <= x.ne[0]);
    const size_t half = static_cast<size_t>(params.n_rot / 2);
    if (rope_serial_ != batch_serial_ || !same_rope(rope_key_, params)) {
        if (rope_cos_.size() < half * static_cast<size_t>(n_tokens)) {
            rope_cos_.resize(half * static_cast<size_t>(n_tokens));
            rope_sin_.resize(half * static_cast<size_t>(n_tokens));
        }
        const float* ff = params.freq_factors.empty() ? nullptr : f32(params.freq_factors);
        rope_table(params, ff, batch_.positions.data(), n_tokens, rope_cos_.data(), rope_sin_.data());
        rope_serial_ = batch_serial_;
        rope_key_ = params;
    }
    for_rows(n_tokens, x.ne[0] * n_head, [&](int64_t t0, int64_t t1) {
        rope_apply(params.type, params.n_rot, rope_cos_.data() + static_cast<size_t>(t0) * half,
                   rope_sin_.data() + static_cast<size_t>(t0) * half, f32(x) + t0 * n_head * x.ne[0],
                   x.ne[0], n_head, t1 - t0);
    });
}

void CpuBackend::store_kv(int32_t il, const engine::Tensor& k, const engine::Tensor& v) {
    check_dense(k);
    check_dense(v);
    RF_CHECK(k.ne[1] == batch_.n_tokens && v.ne[1] == batch_.n_tokens);
    store_kv_rows(layer_kv(il), batch_, f32(k), static_cast<size_t>(k.ne[0]), f32(v),
                  static_cast<size_t>(v.ne[0]));
}

void CpuBackend::attention(int32_t il, const engine::Tensor& q, engine::Tensor& out,
                           const engine::AttentionParams& p) {
    check_dense(q);
    check_dense(out);
    RF_CHECK(q.ne[0] == int64_t{p.n_head} * p.head_dim_k && out.ne[0] == int64_t{p.n_head} * p.head_dim_v);
    paged_attention(layer_kv(il), p, batch_, f32(q), static_cast<size_t>(q.ne[0]), f32(out),
                    static_cast<size_t>(out.ne[0]), pool_, attention_scratch_);
}

void CpuBackend::moe_ffn(const engine::Tensor& x, const engine::MoeWeights& w,
                         const engine::MoeParams& p, engine::Tensor& out) {
    check_dense(x);
    check_dense(out);
    auto experts = [](const engine::Tensor& t) {
        return ExpertTensor{t.type, static_cast<const uint8_t*>(t.data), t.ne[0], t.ne[1],
                            t.row_bytes, t.matrix_bytes, layout_of(t)};
    };
    RF_CHECK(w.gate_inp.ne[1] == p.n_expert && w.gate_exps.ne[2] == p.n_expert);
    cpu::moe_ffn(matrix_view(w.gate_inp), experts(w.gate_exps), experts(w.up_exps),
                 experts(w.down_exps), p.n_expert_used, p.normalize_weights, f32(x), x.ne[1],
                 f32(out), pool_, moe_scratch_);
}

void CpuBackend::gather_output_rows(const engine::Tensor& x, engine::Tensor& out) {
    check_dense(x);
    check_dense(out);
    RF_CHECK(out.ne[0] == x.ne[0] && out.ne[1] == static_cast<int64_t>(batch_.output_rows.size()));
    for (size_t i = 0; i < batch_.output_rows.size(); ++i) {
        std::memcpy(f32(out) + static_cast<int64_t>(i) * out.ne[0], f32(x) + batch_.output_rows[i] * x.ne[0], out.row_bytes);
    }
}

void CpuBackend::read(const engine::Tensor& t, std::span<float> host) {
    check_dense(t);
    RF_CHECK(host.size() >= static_cast<size_t>(t.n_elements()));
    std::memcpy(host.data(), t.data, static_cast<size_t>(t.n_elements()) * sizeof(float));
}

void CpuBackend::write(engine::Tensor& t, std::span<const float> host) {
    check_dense(t);
    RF_CHECK(host.size() <= static_cast<size_t>(t.n_elements()));
    std::memcpy(t.data, host.data(), host.size() * sizeof(float));
}

}  // namespace rf::cpu
