// Backend: the batch-shaped ops a model forward pass is made of, on backend-resident buffers.
// Models call these and never see hardware; the CPU and GPU backends implement them.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "core/status.h"
#include "engine/batch.h"
#include "engine/tensor.h"
#include "sampling/top_logits.h"

namespace rf::engine {

enum class RopeType { kNormal, kNeox };  // rotate pairs (2i, 2i+1) vs (i, i + n_rot/2)

// Rotary embedding parameters (positions come from the current batch).
// theta_i = pos * freq_base^(-2i/n_rot) / freq_factors[i], then linear/YaRN scaling.
struct RopeParams {
    RopeType type = RopeType::kNormal;
    int32_t n_rot = 0;          // leading dims of each head that rotate; the rest pass through
    float freq_base = 10000.0f;
    float freq_scale = 1.0f;    // 1 / linear (or YaRN) scaling factor
    float ext_factor = 0.0f;    // YaRN: > 0 mixes extrapolation and interpolation per dim
    float attn_factor = 1.0f;   // YaRN magnitude scale applied to cos/sin
    float beta_fast = 32.0f;
    float beta_slow = 1.0f;
    int32_t n_ctx_orig = 0;     // YaRN original training context
    Tensor freq_factors;        // optional F32 [n_rot / 2] (LLaMA-3 `rope_freqs`)
};

// Geometry of the paged KV cache: per layer, K and V pools of n_blocks blocks, each block
// laid out [n_head_kv][block_size][head_dim] so one head's keys of a block are contiguous.
struct KvLayout {
    int32_t n_layer = 0;
    int32_t n_blocks = 0;
    int32_t block_size = 16;
    int32_t n_head_kv = 0;
    int32_t head_dim_k = 0;
    int32_t head_dim_v = 0;
    quant::GgmlType type = quant::GgmlType::kF16;  // F16 or F32
};

struct AttentionParams {
    int32_t n_head = 0;
    int32_t n_head_kv = 0;  // n_head % n_head_kv == 0 (GQA / MQA)
    int32_t head_dim_k = 0;
    int32_t head_dim_v = 0;
    float scale = 1.0f;     // usually 1 / sqrt(head_dim_k)
};

// Mixture-of-experts FFN weights of one layer (expert e is matrix e of the 3-D tensors).
struct MoeWeights {
    Tensor gate_inp;   // (n_embd, n_expert) router
    Tensor gate_exps;  // (n_embd, n_ff_exp, n_expert)
    Tensor up_exps;    // (n_embd, n_ff_exp, n_expert)
    Tensor down_exps;  // (n_ff_exp, n_embd, n_expert)
};

struct MoeParams {
    int32_t n_expert = 0;
    int32_t n_expert_used = 0;
    bool normalize_weights = true;  // renormalise the top-k softmax probabilities to sum 1
};

class Backend {
public:
    virtual ~Backend() = default;
    virtual std::string name() const = 0;  // "CPU", "CUDA", ...

    // ---- memory (set-up time only; never called inside a forward pass) ----
    // Places a weight on the backend; a host backend may keep a view of `src.bytes`.
    virtual Result<Tensor> upload_weight(const WeightSource& src) = 0;
    // Scratch activation of ne = {ne0, ne1} floats, alive as long as the backend.
    virtual Tensor alloc_activation(int64_t ne0, int64_t ne1) = 0;
    // Allocates the KV pools (replacing earlier ones); an error when memory is short.
    virtual Status alloc_kv(const KvLayout& layout) = 0;
    // Copies every layer's K and V of block `src` to block `dst` (copy-on-write).
    virtual void copy_kv_block(int32_t src, int32_t dst) = 0;

    // ---- one forward step ----
    // Makes `batch` the step the following ops refer to (uploads it on a device).
    virtual void set_batch(const BatchInfo& batch) = 0;

    // out[t] = row tokens[t] of `table` (n_embd, n_vocab), dequantized. out: [n_embd, n_tokens].
    virtual void get_rows(const Tensor& table, Tensor& out) = 0;
    // out = x / rms(x) * w over rows of ne[0] elements; w has ne[0] elements.
    virtual void rms_norm(const Tensor& x, const Tensor& w, float eps, Tensor& out) = 0;
    // y [n_out, n_tokens] = x [n_in, n_tokens] @ W (n_in, n_out).
    virtual void matmul(const Tensor& w, const Tensor& x, Tensor& y) = 0;
    // x[t] += b for every row t.
    virtual void add_bias(Tensor& x, const Tensor& b) = 0;
    // out = a + b (same shapes; out may alias a).
    virtual void add(const Tensor& a, const Tensor& b, Tensor& out) = 0;
    // out = silu(gate) * up (same shapes).
    virtual void swiglu(const Tensor& gate, const Tensor& up, Tensor& out) = 0;
    // In place on x [head_dim, n_head * n_tokens], positions from the batch.
    virtual void rope(Tensor& x, int32_t n_head, const RopeParams& params) = 0;
    // Writes k [head_dim_k * n_head_kv, n_tokens] and v [...] of layer il to the batch's slots.
    virtual void store_kv(int32_t il, const Tensor& k, const Tensor& v) = 0;
    // Causal attention of q [head_dim_k * n_head, n_tokens] over each token's sequence in the
    // cache of layer il (positions [0, pos]); out [head_dim_v * n_head, n_tokens].
    virtual void attention(int32_t il, const Tensor& q, Tensor& out, const AttentionParams& p) = 0;
    // Top-k routed SwiGLU experts: out [n_embd, n_tokens] = sum_k w_k * expert_k(x).
    virtual void moe_ffn(const Tensor& x, const MoeWeights& w, const MoeParams& p, Tensor& out) = 0;
    // out[i] = x[output_rows[i]]: compacts the rows whose logits are wanted.
    virtual void gather_output_rows(const Tensor& x, Tensor& out) = 0;

    // ---- fused forms: the defaults compose the ops above; a backend may run each as one ----
    // ys[i] = x @ ws[i] for matrices that read the same input (Q, K and V).
    virtual void matmul_shared_input(std::span<const Tensor* const> ws, const Tensor& x, std::span<Tensor* const> ys) {
        for (size_t i = 0; i < ws.size(); ++i) matmul(*ws[i], x, *ys[i]);
    }
    // out [n_ff, n_tokens] = silu(x @ gate) * (x @ up); `up_scratch` (out's shape) holds x @ up
    // where the backend does not fuse.
    virtual void matmul_swiglu(const Tensor& gate, const Tensor& up, const Tensor& x, Tensor& up_scratch, Tensor& out) {
        matmul(gate, x, out);
        matmul(up, x, up_scratch);
        swiglu(out, up_scratch, out);
    }
    // acc += x @ w (a residual add); `scratch` (acc's shape) holds x @ w where the backend does not fuse.
    virtual void matmul_add(const Tensor& w, const Tensor& x, Tensor& scratch, Tensor& acc) {
        matmul(w, x, scratch);
        add(acc, scratch, acc);
    }
    // matmul_add, then out = rms_norm(acc) * norm_w: a block's residual add followed by the next
    // block's input norm (a GPU folds the norm into the mat-vecs on both sides of it).
    virtual void matmul_add_rms_norm(const Tensor& w, const Tensor& x, Tensor& scratch, Tensor& acc,
                                     const Tensor& norm_w, float eps, Tensor& out) {
        matmul_add(w, x, scratch, acc);
        rms_norm(acc, norm_w, eps, out);
    }

    // RoPE on q [head_dim_k * n_head, n_tokens] and k [head_dim_k * n_head_kv, n_tokens], then k
    // and v stored for layer il. A backend may rotate k on its way into the cache only, leaving
    // the k activation unrotated (nothing reads it after the store).
    virtual void rope_store_kv(int32_t il, Tensor& q, Tensor& k, const Tensor& v, int32_t n_head, int32_t n_head_kv,
                               const RopeParams& params) {
        const int64_t head_dim = q.ne[0] / n_head;
        Tensor qh = q.reshaped(head_dim, q.ne[0] / head_dim * q.ne[1]);
        Tensor kh = k.reshaped(head_dim, k.ne[0] / head_dim * k.ne[1]);
        rope(qh, n_head, params);
        rope(kh, n_head_kv, params);
        store_kv(il, k, v);
    }

    // Copies a 2-D F32 tensor to host memory (waits for pending work).
    virtual void read(const Tensor& t, std::span<float> host) = 0;
    // The top-logits readout (sampling/top_logits.h) of `logits` [n_vocab, n_rows]: `adjust` is
    // applied to the rows in place, then host[r * k, r * k + k) receives the k largest logits of
    // row r, in any order; waits for pending work. The default reads the whole rows and selects
    // on the host; a device backend selects on the device and copies back only the k per row.
    virtual void read_top_logits(Tensor& logits, int32_t k, std::span<const sampling::LogitAdjust> adjust,
                                 std::span<sampling::TokenLogit> host);
    // Copies host floats into the first host.size() elements of an activation, in step order
    // (hybrid offload hands the residual stream from one backend to the next this way).
    virtual void write(Tensor& t, std::span<const float> host) = 0;
    // Called after every forward step (after its reads): a device backend that recorded the
    // step's ops (e.g. as a CUDA/HIP graph) runs them here at the latest.
    virtual void finish_step() {}
};

}  // namespace rf::engine
