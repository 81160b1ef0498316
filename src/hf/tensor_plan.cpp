// Tensor mapping Hugging Face -> GGUF (llama.cpp names), and the row producer that converts,
// permutes and quantizes while the writer streams the file.
#include "hf/tensor_plan.h"

#include <algorithm>
#include <cstring>
#include <set>

#include <fmt/format.h>

#include "core/check.h"
#include "core/half.h"
#include "quant/reference.h"

namespace rf::hf {
namespace {

// Takes tensors out of the model by name, checking dtype and shape, and remembers which were used.
class Planner {
public:
    Planner(const SafetensorsModel& model, const HfConfig& c) : model_(model), c_(c) {}

    // A tensor stored as is (HF shape `shape`, row-major), optionally with permuted heads.
    Status plain(std::string gguf, const std::string& hf, std::vector<uint64_t> shape, uint32_t permute_heads = 0,
                 bool keep_f32 = false) {
        RF_ASSIGN_OR_RETURN(const StTensor* src, take(hf, shape));
        out_.push_back(make(std::move(gguf), src, shape, permute_heads, keep_f32));
        return Status::ok();
    }
    // Like plain() but absent is fine.
    Status optional(std::string gguf, const std::string& hf, std::vector<uint64_t> shape, uint32_t permute_heads = 0) {
        if (model_.find(hf) == nullptr) return Status::ok();
        return plain(std::move(gguf), hf, std::move(shape), permute_heads);
    }
    Status layer(uint32_t il);
    Status finish();
    std::vector<PlannedTensor> take_result() { return std::move(out_); }

private:
    Result<const StTensor*> take(const std::string& name, const std::vector<uint64_t>& shape);
    static PlannedTensor make(std::string gguf, const StTensor* src, const std::vector<uint64_t>& shape,
                              uint32_t permute_heads, bool keep_f32);
    Status experts(uint32_t il);

    const SafetensorsModel& model_;
    const HfConfig& c_;
    std::set<std::string> used_;
    std::vector<PlannedTensor> out_;
};

std::string shape_str(const std::vector<uint64_t>& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

Result<const StTensor*> Planner::take(const std::string& name, const std::vector<uint64_t>& shape) {
    const StTensor* t = model_.find(name);
    if (t == nullptr) return error("missing tensor '{}' (expected shape {})", name, shape_str(shape));
    if (!is_float_dtype(t->dtype)) {
        return error("tensor '{}' has dtype {}; only F32, F16, BF16 and F64 can be converted", name,
                     dtype_name(t->dtype));
    }
    if (t->shape != shape) {
        return error("tensor '{}' has shape {} but the config implies {}", name, t->shape_string(), shape_str(shape));
    }
    used_.insert(name);
    return t;
}

PlannedTensor Planner::make(std::string gguf, const StTensor* src, const std::vector<uint64_t>& shape,
                            uint32_t permute_heads, bool keep_f32) {
    PlannedTensor p;
    p.name = std::move(gguf);
    p.ne.assign(shape.rbegin(), shape.rend());
    p.keep_f32 = keep_f32;
    if (shape.size() == 1 && permute_heads > 0) {
        p.row_len = 1;  // a bias: permute its elements as rows of length 1
        p.rows.push_back({src, 0, shape[0], permute_heads});
    } else {
        p.row_len = src->row_length();
        p.rows.push_back({src, 0, src->n_rows(), permute_heads});
    }
    return p;
}

Status Planner::layer(uint32_t il) {
    const std::string hf = fmt::format("model.layers.{}.", il);
    const std::string blk = fmt::format("blk.{}.", il);
    const uint64_t n_embd = c_.n_embd;
    const uint64_t q_dim = uint64_t{c_.n_head} * c_.head_dim;
    const uint64_t kv_dim = uint64_t{c_.n_head_kv} * c_.head_dim;
    const uint32_t q_perm = c_.permute_qk ? c_.n_head : 0;
    const uint32_t k_perm = c_.permute_qk ? c_.n_head_kv : 0;

    RF_RETURN_IF_ERROR(plain(blk + "attn_norm.weight", hf + "input_layernorm.weight", {n_embd}));
    RF_RETURN_IF_ERROR(plain(blk + "attn_q.weight", hf + "self_attn.q_proj.weight", {q_dim, n_embd}, q_perm));
    RF_RETURN_IF_ERROR(plain(blk + "attn_k.weight", hf + "self_attn.k_proj.weight", {kv_dim, n_embd}, k_perm));
    RF_RETURN_IF_ERROR(plain(blk + "attn_v.weight", hf + "self_attn.v_proj.weight", {kv_dim, n_embd}));
    RF_RETURN_IF_ERROR(plain(blk + "attn_output.weight", hf + "self_attn.o_proj.weight", {n_embd, q_dim}));
    if (c_.qkv_bias) {
        RF_RETURN_IF_ERROR(plain(blk + "attn_q.bias", hf + "self_attn.q_proj.bias", {q_dim}, q_perm));
        RF_RETURN_IF_ERROR(plain(blk + "attn_k.bias", hf + "self_attn.k_proj.bias", {kv_dim}, k_perm));
        RF_RETURN_IF_ERROR(plain(blk + "attn_v.bias", hf + "self_attn.v_proj.bias", {kv_dim}));
    }
    if (c_.out_bias) RF_RETURN_IF_ERROR(plain(blk + "attn_output.bias", hf + "self_attn.o_proj.bias", {n_embd}));
    if (c_.qk_norm) {
        RF_RETURN_IF_ERROR(plain(blk + "attn_q_norm.weight", hf + "self_attn.q_norm.weight", {c_.head_dim}));
        RF_RETURN_IF_ERROR(plain(blk + "attn_k_norm.weight", hf + "self_attn.k_norm.weight", {c_.head_dim}));
    }
    RF_RETURN_IF_ERROR(plain(blk + "ffn_norm.weight", hf + "post_attention_layernorm.weight", {n_embd}));
    if (c_.is_moe()) return experts(il);
    RF_RETURN_IF_ERROR(plain(blk + "ffn_gate.weight", hf + "mlp.gate_proj.weight", {c_.n_ff, n_embd}));
    RF_RETURN_IF_ERROR(plain(blk + "ffn_up.weight", hf + "mlp.up_proj.weight", {c_.n_ff, n_embd}));
    return plain(blk + "ffn_down.weight", hf + "mlp.down_proj.weight", {n_embd, c_.n_ff});
}

// Router + experts. Checkpoints hold one matrix per expert (Mixtral's block_sparse_moe w1/w3/w2,
// Qwen's mlp.experts.E.*_proj) or transformers 5's fused mlp.experts.gate_up_proj [E, 2*I, H]
// (gate rows first) and mlp.experts.down_proj [E, H, I].
Status Planner::experts(uint32_t il) {
    const std::string hf = fmt::format("model.layers.{}.", il);
    const std::string blk = fmt::format("blk.{}.", il);
    const uint64_t n_embd = c_.n_embd, n_ff = c_.n_ff_exp, n_expert = c_.n_expert;
    const bool mixtral_names = model_.find(hf + "block_sparse_moe.gate.weight") != nullptr;
    const std::string moe = hf + (mixtral_names ? "block_sparse_moe." : "mlp.");
    RF_RETURN_IF_ERROR(plain(blk + "ffn_gate_inp.weight", moe + "gate.weight", {n_expert, n_embd}, 0, true));

    PlannedTensor gate{blk + "ffn_gate_exps.weight", {n_embd, n_ff, n_expert}, n_embd, {}, {}, false};
    PlannedTensor up{blk + "ffn_up_exps.weight", {n_embd, n_ff, n_expert}, n_embd, {}, {}, false};
    PlannedTensor down{blk + "ffn_down_exps.weight", {n_ff, n_embd, n_expert}, n_ff, {}, {}, false};
    if (model_.find(moe + "experts.gate_up_proj") != nullptr) {
        RF_ASSIGN_OR_RETURN(const StTensor* gate_up, take(moe + "experts.gate_up_proj", {n_expert, 2 * n_ff, n_embd}));
        RF_ASSIGN_OR_RETURN(const StTensor* fused_down, take(moe + "experts.down_proj", {n_expert, n_embd, n_ff}));
        for (uint64_t e = 0; e < n_expert; ++e) {
            gate.rows.push_back({gate_up, e * 2 * n_ff, n_ff, 0});
            up.rows.push_back({gate_up, e * 2 * n_ff + n_ff, n_ff, 0});
            down.rows.push_back({fused_down, e * n_embd, n_embd, 0});
        }
    } else {
        const char* names[3] = {"gate_proj", "up_proj", "down_proj"};
        if (mixtral_names) names[0] = "w1", names[1] = "w3", names[2] = "w2";
        for (uint64_t e = 0; e < n_expert; ++e) {
            const std::string ex = fmt::format("{}experts.{}.", moe, e);
            RF_ASSIGN_OR_RETURN(const StTensor* g, take(ex + names[0] + ".weight", {n_ff, n_embd}));
            RF_ASSIGN_OR_RETURN(const StTensor* u, take(ex + names[1] + ".weight", {n_ff, n_embd}));
            RF_ASSIGN_OR_RETURN(const StTensor* d, take(ex + names[2] + ".weight", {n_embd, n_ff}));
            gate.rows.push_back({g, 0, n_ff, 0});
            up.rows.push_back({u, 0, n_ff, 0});
            down.rows.push_back({d, 0, n_embd, 0});
        }
    }
    out_.push_back(std::move(gate));
    out_.push_back(std::move(up));
    out_.push_back(std::move(down));
    return Status::ok();
}

// Everything in the checkpoint must have been used, except buffers that some exporters save.
Status Planner::finish() {
    for (const StTensor* t : model_.all()) {
        if (used_.count(t->name)) continue;
        if (t->name.size() >= 20 && t->name.ends_with("rotary_emb.inv_freq")) continue;
        return error("unexpected tensor '{}' {} for {}: not part of the architecture", t->name,
                     t->shape_string(), c_.hf_architecture);
    }
    return Status::ok();
}

void write_row(quant::GgmlType type, const float* row, uint64_t n, uint8_t* dst) {
    switch (type) {
        case quant::GgmlType::kF32:
            std::memcpy(dst, row, n * sizeof(float));
            return;
        case quant::GgmlType::kF16:
        case quant::GgmlType::kBF16:
            for (uint64_t i = 0; i < n; ++i) {
                const uint16_t h = type == quant::GgmlType::kF16 ? float_to_fp16(row[i]) : float_to_bf16(row[i]);
                std::memcpy(dst + 2 * i, &h, 2);
            }
            return;
        default:
            quant::quantize_row(type, row, dst, static_cast<int64_t>(n));
    }
}

}  // namespace

Result<std::vector<PlannedTensor>> plan_tensors(const SafetensorsModel& model, const HfConfig& c) {
    Planner p(model, c);
    const uint64_t n_vocab = c.n_vocab, n_embd = c.n_embd;
    RF_RETURN_IF_ERROR(p.plain("token_embd.weight", "model.embed_tokens.weight", {n_vocab, n_embd}));
    for (uint32_t il = 0; il < c.n_layer; ++il) RF_RETURN_IF_ERROR(p.layer(il));
    RF_RETURN_IF_ERROR(p.plain("output_norm.weight", "model.norm.weight", {n_embd}));
    if (model.find("lm_head.weight") != nullptr) {
        RF_RETURN_IF_ERROR(p.plain("output.weight", "lm_head.weight", {n_vocab, n_embd}));
    } else if (!c.tie_embeddings) {
        return error("missing tensor 'lm_head.weight' and tie_word_embeddings is false");
    }
    RF_RETURN_IF_ERROR(p.finish());
    std::vector<PlannedTensor> out = p.take_result();
    if (c.rope_scaling == RopeScaling::kLlama3) {
        PlannedTensor freqs;
        freqs.name = "rope_freqs.weight";
        freqs.generated = llama3_rope_factors(c);
        freqs.ne = {freqs.generated.size()};
        freqs.row_len = freqs.generated.size();
        freqs.keep_f32 = true;
        out.insert(out.begin() + 1, std::move(freqs));
    }
    return out;
}

quant::GgmlType choose_type(const PlannedTensor& t, quant::GgmlType wanted) {
    if (t.ne.size() == 1 || t.keep_f32 || !t.generated.empty()) return quant::GgmlType::kF32;
    if (t.ne[0] % quant::traits(wanted).block_size != 0) return quant::GgmlType::kF16;
    return wanted;
}

void produce_tensor(const PlannedTensor& t, quant::GgmlType type, std::span<uint8_t> out) {
    if (!t.generated.empty()) {
        RF_CHECK(type == quant::GgmlType::kF32 && out.size() == t.generated.size() * sizeof(float));
        std::memcpy(out.data(), t.generated.data(), out.size());
        return;
    }
    std::vector<float> row(t.row_len);
    const size_t row_bytes = quant::row_bytes(type, t.row_len);
    uint8_t* dst = out.data();
    for (const RowSegment& seg : t.rows) {
        const uint64_t head_rows = seg.permute_heads > 0 ? seg.n_rows / seg.permute_heads : 0;
        for (uint64_t r = 0; r < seg.n_rows; ++r) {
            uint64_t src_row = r;
            if (head_rows > 0) {
                // GGUF row h*d + 2j + i holds HF row h*d + i*(d/2) + j (i: which half, j: pair).
                const uint64_t h = r / head_rows, w = r % head_rows;
                src_row = h * head_rows + (w % 2) * (head_rows / 2) + w / 2;
            }
            RF_CHECK(dst + row_bytes <= out.data() + out.size());
            read_floats(*seg.src, (seg.first_row + src_row) * t.row_len, t.row_len, row.data());
            write_row(type, row.data(), t.row_len, dst);
            dst += row_bytes;
        }
    }
    RF_CHECK(dst == out.data() + out.size());
}

}  // namespace rf::hf
