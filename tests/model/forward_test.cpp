// Engine logits of tiny random llama / qwen2 / qwen3 / MoE models against a float64 reference
// forward pass over the same weights, plus the loader's error messages.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "backend/cpu/backend_cpu.h"
#include "engine/context.h"
#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "model/loader.h"
#include "tiny_model.h"

namespace rf {
namespace {

using testing::TinyConfig;

struct Loaded {
    std::vector<uint8_t> bytes;  // must outlive the model
    std::unique_ptr<cpu::CpuBackend> backend;
    std::unique_ptr<engine::Model> model;
};

Result<Loaded> load(const std::vector<uint8_t>& bytes) {
    Loaded l;
    l.bytes = bytes;
    l.backend = std::make_unique<cpu::CpuBackend>(2);
    RF_ASSIGN_OR_RETURN(gguf::GgufFile file, gguf::GgufFile::parse(l.bytes));
    RF_ASSIGN_OR_RETURN(l.model, model::load_model(std::move(file), *l.backend));
    return l;
}

std::vector<int32_t> some_tokens(int n, int n_vocab) {
    std::vector<int32_t> t;
    for (int i = 0; i < n; ++i) t.push_back((i * 37 + 11) % n_vocab);
    return t;
}

// Runs all tokens as one prefill step and compares every position's logits.
// The F32 KV cache keeps the comparison exact up to float rounding; F16 (the default) is
// checked separately with a looser bound.
void expect_matches_reference(const TinyConfig& cfg, int n_tokens, double rel_tol,
                              quant::GgmlType kv_type = quant::GgmlType::kF32) {
    const auto tiny = testing::make_tiny_model(cfg);
    auto loaded = load(tiny.gguf);
    ASSERT_TRUE(loaded) << loaded.message();
    engine::ContextParams cp;
    cp.n_ctx = 64;
    cp.block_size = 4;  // several blocks per sequence
    cp.kv_type = kv_type;
    auto ctx = engine::Context::create(*loaded->model, cp);
    ASSERT_TRUE(ctx) << ctx.message();
    const auto tokens = some_tokens(n_tokens, cfg.n_vocab);
    engine::Batch batch;
    for (int i = 0; i < n_tokens; ++i) batch.add(tokens[static_cast<size_t>(i)], 0, i, true);
    auto logits = (*ctx)->decode(batch);
    ASSERT_TRUE(logits) << logits.message();
    const auto ref = testing::reference_logits(tiny, tokens);
    double max_ref = 0.0, max_err = 0.0;
    for (int t = 0; t < n_tokens; ++t) {
        for (int v = 0; v < cfg.n_vocab; ++v) {
            const double r = ref[static_cast<size_t>(t)][static_cast<size_t>(v)];
            const double got = static_cast<double>((*logits)[static_cast<size_t>(t * cfg.n_vocab + v)]);
            max_ref = std::max(max_ref, std::fabs(r));
            max_err = std::max(max_err, std::fabs(r - got));
        }
    }
    EXPECT_LE(max_err, rel_tol * max_ref) << cfg.arch << ": max |dlogit| " << max_err
                                          << " vs max |logit| " << max_ref;
}

TEST(ModelForward, LlamaMatchesReference) { expect_matches_reference(TinyConfig{}, 13, 1e-4); }

TEST(ModelForward, LlamaTiedEmbeddingsMqa) {
    TinyConfig c;
    c.tied_embeddings = true;
    c.n_head_kv = 1;
    expect_matches_reference(c, 9, 1e-4);
}

TEST(ModelForward, LlamaRopeFreqsAndLinearScaling) {
    TinyConfig c;
    c.rope_freqs = true;
    c.rope_scaling = "linear";
    c.rope_factor = 4.0f;
    c.rope_base = 500000.0f;
    expect_matches_reference(c, 11, 1e-4);
}

TEST(ModelForward, LlamaPartialRotaryDims) {
    TinyConfig c;
    c.n_rot = 8;
    expect_matches_reference(c, 7, 1e-4);
}

TEST(ModelForward, Qwen2BiasesNeoxYarn) {
    TinyConfig c;
    c.arch = "qwen2";
    c.qkv_bias = true;
    c.rope_scaling = "yarn";
    c.rope_factor = 4.0f;
    c.rope_n_ctx_orig = 8;
    expect_matches_reference(c, 15, 1e-4);
}

TEST(ModelForward, Qwen3QkNormWideHeads) {
    TinyConfig c;
    c.arch = "qwen3";
    c.qk_norm = true;
    c.head_dim = 24;  // n_head * head_dim != n_embd
    c.n_head_kv = 1;
    expect_matches_reference(c, 10, 1e-4);
}

TEST(ModelForward, LlamaMoe) {
    TinyConfig c;
    c.n_expert = 4;
    c.n_expert_used = 2;
    expect_matches_reference(c, 12, 1e-4);
}

TEST(ModelForward, Qwen3Moe) {
    TinyConfig c;
    c.arch = "qwen3moe";
    c.qk_norm = true;
    c.n_expert = 6;
    c.n_expert_used = 3;
    c.head_dim = 32;
    expect_matches_reference(c, 12, 1e-4);
}

TEST(ModelForward, F16KvCache) {
    expect_matches_reference(TinyConfig{}, 13, 1e-3, quant::GgmlType::kF16);
}

TEST(ModelForward, F16Weights) {
    TinyConfig c;
    c.weight_type = quant::GgmlType::kF16;
    expect_matches_reference(c, 8, 2e-3);
}

// Quantized weights (packed for the fast kernels on the CPU): activations are quantized to 8 bits
// on the fly, so the bound is looser.
TEST(ModelForward, QuantizedWeights) {
    for (quant::GgmlType type : {quant::GgmlType::kQ8_0, quant::GgmlType::kQ4_0, quant::GgmlType::kQ4_K,
                                 quant::GgmlType::kQ6_K}) {
        TinyConfig c;
        c.n_embd = 256;
        c.head_dim = 64;
        c.n_ff = 512;
        c.n_vocab = 300;
        c.weight_type = type;
        SCOPED_TRACE(std::string(quant::traits(type).name));
        expect_matches_reference(c, 9, 3e-2);
    }
}

TEST(ModelForward, QuantizedMoe) {
    TinyConfig c;
    c.n_embd = 256;
    c.head_dim = 64;
    c.n_expert = 4;
    c.n_expert_used = 2;
    c.n_ff_exp = 256;
    c.weight_type = quant::GgmlType::kQ4_K;
    expect_matches_reference(c, 7, 3e-2);
}

// ---- loader errors name the key or tensor ----

std::vector<uint8_t> rewrite(const std::vector<uint8_t>& bytes, const std::string& drop_tensor,
                             const std::string& drop_key, const std::string& arch = "") {
    auto file = gguf::GgufFile::parse(bytes);
    EXPECT_TRUE(file);
    gguf::GgufWriter w;
    for (const auto& [key, value] : file->metadata()) {
        if (key == drop_key) continue;
        if (key == "general.architecture" && !arch.empty()) w.set(key, gguf::Value::string(arch));
        else w.set(key, value);
    }
    for (const auto& t : file->tensors()) {
        if (t.name == drop_tensor) continue;
        std::vector<uint64_t> ne(t.ne.begin(), t.ne.begin() + t.n_dims);
        auto st = w.add_tensor(t.name, t.type, ne, std::vector<uint8_t>(t.data.begin(), t.data.end()));
        EXPECT_TRUE(st.is_ok());
    }
    return w.write_to_memory();
}

TEST(ModelLoader, ClearErrors) {
    const auto tiny = testing::make_tiny_model(TinyConfig{});
    auto missing_tensor = load(rewrite(tiny.gguf, "blk.1.attn_k.weight", ""));
    ASSERT_FALSE(missing_tensor);
    EXPECT_NE(missing_tensor.message().find("blk.1.attn_k.weight"), std::string::npos) << missing_tensor.message();

    auto missing_key = load(rewrite(tiny.gguf, "", "llama.block_count"));
    ASSERT_FALSE(missing_key);
    EXPECT_NE(missing_key.message().find("llama.block_count"), std::string::npos) << missing_key.message();

    auto unknown_arch = load(rewrite(tiny.gguf, "", "", "gpt-j"));
    ASSERT_FALSE(unknown_arch);
    EXPECT_NE(unknown_arch.message().find("gpt-j"), std::string::npos) << unknown_arch.message();

    // qwen2 requires Q/K/V biases that this llama file lacks (metadata keys re-prefixed).
    TinyConfig q = TinyConfig{};
    q.arch = "qwen2";
    auto no_bias = load(testing::make_tiny_model(q).gguf);
    ASSERT_FALSE(no_bias);
    EXPECT_NE(no_bias.message().find("attn_q.bias"), std::string::npos) << no_bias.message();
}

TEST(ModelLoader, ShapeMismatchNamesTensor) {
    TinyConfig c;
    const auto tiny = testing::make_tiny_model(c);
    auto file = gguf::GgufFile::parse(tiny.gguf);
    ASSERT_TRUE(file);
    gguf::GgufWriter w;
    for (const auto& [key, value] : file->metadata()) {
        w.set(key, key == "llama.feed_forward_length" ? gguf::Value::u32(128) : value);
    }
    for (const auto& t : file->tensors()) {
        std::vector<uint64_t> ne(t.ne.begin(), t.ne.begin() + t.n_dims);
        ASSERT_TRUE(w.add_tensor(t.name, t.type, ne, std::vector<uint8_t>(t.data.begin(), t.data.end())).is_ok());
    }
    auto r = load(w.write_to_memory());
    ASSERT_FALSE(r);
    EXPECT_NE(r.message().find("ffn_gate.weight"), std::string::npos) << r.message();
}

}  // namespace
}  // namespace rf
