// Whole-model checks of the GPU backend on tiny random models: logits against the float64
// reference forward pass (prefill through the GEMM path, then token-by-token decode through the
// mat-vec path), several sequences in one batch, and greedy text equal to the CPU backend's.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "backend/cpu/backend_cpu.h"
#include "backend/gpu/backend_gpu.h"
#include "engine/context.h"
#include "gguf/gguf_file.h"
#include "gpu_test_util.h"
#include "model/loader.h"
#include "sampling/sampler.h"
#include "tiny_model.h"

namespace rf::gpu {
namespace {

using rf::testing::TinyConfig;

struct Loaded {
    std::vector<uint8_t> bytes;
    std::unique_ptr<engine::Backend> backend;
    std::unique_ptr<engine::Backend> cpu_backend;  // the CPU stage of a hybrid placement
    std::unique_ptr<engine::Model> model;
    std::unique_ptr<engine::Context> ctx;
};

// gpu_layers >= 0 (with on_gpu): that many leading layers on the GPU, the rest on the CPU.
std::unique_ptr<Loaded> load(const std::vector<uint8_t>& bytes, bool on_gpu, int n_seq = 1, int32_t gpu_layers = -1) {
    auto l = std::make_unique<Loaded>();
    l->bytes = bytes;
    if (on_gpu) {
        auto backend = create_backend(0);
        EXPECT_TRUE(backend) << backend.message();
        if (!backend) return nullptr;
        l->backend = std::move(backend).value();
    } else {
        l->backend = std::make_unique<cpu::CpuBackend>(2);
    }
    auto file = gguf::GgufFile::parse(l->bytes);
    EXPECT_TRUE(file) << file.message();
    if (gpu_layers >= 0) l->cpu_backend = std::make_unique<cpu::CpuBackend>(2);
    auto model = model::load_model(std::move(file).value(), [&](const model::HParams& hp) {
        return gpu_layers < 0 ? model::Placement::single(*l->backend, hp.n_layer)
                              : model::Placement::split(*l->backend, *l->cpu_backend, gpu_layers, hp.n_layer);
    });
    EXPECT_TRUE(model) << model.message();
    if (!model) return nullptr;
    l->model = std::move(model).value();
    engine::ContextParams cp;
    cp.n_ctx = 96;
    cp.n_seq_max = n_seq;
    cp.block_size = 16;
    auto ctx = engine::Context::create(*l->model, cp);
    EXPECT_TRUE(ctx) << ctx.message();
    if (!ctx) return nullptr;
    l->ctx = std::move(ctx).value();
    return l;
}

std::vector<int32_t> some_tokens(int n, int n_vocab) {
    std::vector<int32_t> t;
    for (int i = 0; i < n; ++i) t.push_back((i * 37 + 11) % n_vocab);
    return t;
}

// max |got - ref| over max |ref|, for one row of logits.
double row_error(std::span<const float> got, const std::vector<double>& ref, double& max_ref) {
    double err = 0.0;
    for (size_t v = 0; v < ref.size(); ++v) {
        max_ref = std::max(max_ref, std::fabs(ref[v]));
        err = std::max(err, std::fabs(double(got[v]) - ref[v]));
    }
    return err;
}

// Prefill `n_prefill` tokens in one step, then decode the rest one at a time; every position's
// logits are compared with the reference. fp16 weights/KV and int8 activations bound the error.
void expect_matches_reference(const TinyConfig& cfg, int n_prefill, int n_decode) {
    RF_SKIP_WITHOUT_GPU();
    const auto tiny = rf::testing::make_tiny_model(cfg);
    auto l = load(tiny.gguf, true);
    ASSERT_TRUE(l);
    const auto tokens = some_tokens(n_prefill + n_decode, cfg.n_vocab);
    const auto ref = rf::testing::reference_logits(tiny, tokens);
    double max_err = 0.0, max_ref = 0.0;
    engine::Batch batch;
    for (int i = 0; i < n_prefill; ++i) batch.add(tokens[static_cast<size_t>(i)], 0, i, true);
    auto logits = l->ctx->decode(batch);
    ASSERT_TRUE(logits) << logits.message();
    for (int i = 0; i < n_prefill; ++i) {
        max_err = std::max(max_err, row_error(logits->subspan(static_cast<size_t>(i * cfg.n_vocab), static_cast<size_t>(cfg.n_vocab)),
                                              ref[static_cast<size_t>(i)], max_ref));
    }
    for (int i = n_prefill; i < n_prefill + n_decode; ++i) {
        batch.clear();
        batch.add(tokens[static_cast<size_t>(i)], 0, i, true);
        auto step = l->ctx->decode(batch);
        ASSERT_TRUE(step) << step.message();
        max_err = std::max(max_err, row_error(*step, ref[static_cast<size_t>(i)], max_ref));
    }
    EXPECT_LE(max_err, 2e-2 * max_ref) << cfg.arch << ": max |dlogit| " << max_err << " vs max |logit| " << max_ref;
}

TEST(GpuModel, Llama) { expect_matches_reference(TinyConfig{}, 20, 10); }

TEST(GpuModel, LlamaRopeFreqsLinearScaling) {
    TinyConfig c;
    c.rope_freqs = true;
    c.rope_scaling = "linear";
    c.rope_factor = 4.0f;
    c.rope_base = 500000.0f;
    expect_matches_reference(c, 11, 6);
}

TEST(GpuModel, Qwen2BiasesNeoxYarn) {
    TinyConfig c;
    c.arch = "qwen2";
    c.qkv_bias = true;
    c.rope_scaling = "yarn";
    c.rope_factor = 4.0f;
    c.rope_n_ctx_orig = 8;
    expect_matches_reference(c, 15, 6);
}

TEST(GpuModel, Qwen3QkNormWideHeads) {
    TinyConfig c;
    c.arch = "qwen3";
    c.qk_norm = true;
    c.head_dim = 24;
    c.n_head_kv = 1;
    expect_matches_reference(c, 10, 6);
}

TEST(GpuModel, LlamaMoe) {
    TinyConfig c;
    c.n_expert = 4;
    c.n_expert_used = 2;
    expect_matches_reference(c, 12, 6);
}

TEST(GpuModel, Qwen3Moe) {
    TinyConfig c;
    c.arch = "qwen3moe";
    c.qk_norm = true;
    c.n_expert = 6;
    c.n_expert_used = 3;
    c.head_dim = 32;
    expect_matches_reference(c, 12, 6);
}

TEST(GpuModel, F16WeightsLongPrefill) {
    TinyConfig c;
    c.weight_type = quant::GgmlType::kF16;
    expect_matches_reference(c, 70, 8);  // spans several KV blocks and attention splits
}

// A model whose widths fit 256-element K-quant super-blocks.
TinyConfig k_quant_config(quant::GgmlType type) {
    TinyConfig c;
    c.weight_type = type;
    c.n_embd = 256;
    c.head_dim = 64;
    c.n_ff = 512;
    return c;
}

// Weights read by the int8 mat-vec units (decode) and dequantized for the GEMM (prefill): Q5_K
// and Q3_K super-blocks, Q5_0's repacked groups of four 32-element blocks.
TEST(GpuModel, Q5KWeights) { expect_matches_reference(k_quant_config(quant::GgmlType::kQ5_K), 20, 8); }

TEST(GpuModel, Q3KWeights) { expect_matches_reference(k_quant_config(quant::GgmlType::kQ3_K), 20, 8); }

TEST(GpuModel, Q5_0Weights) {
    TinyConfig c;
    c.weight_type = quant::GgmlType::kQ5_0;
    expect_matches_reference(c, 12, 6);
}

// Greedy continuation on the GPU equals the CPU's for 64 tokens.
TEST(GpuModel, GreedyMatchesCpu) {
    RF_SKIP_WITHOUT_GPU();
    TinyConfig c;
    c.n_vocab = 256;
    c.n_embd = 128;
    c.n_ff = 256;
    c.head_dim = 32;
    const auto tiny = rf::testing::make_tiny_model(c);
    auto gpu = load(tiny.gguf, true);
    auto cpu = load(tiny.gguf, false);
    ASSERT_TRUE(gpu && cpu);
    auto greedy = [&](Loaded& l) {
        l.ctx->clear();  // the CPU model is asked twice
        std::vector<int32_t> out = {1, 7, 42};
        engine::Batch b;
        for (size_t i = 0; i < out.size(); ++i) b.add(out[i], 0, static_cast<int32_t>(i), i + 1 == out.size());
        for (int step = 0; step < 64; ++step) {
            auto logits = l.ctx->decode(b);
            EXPECT_TRUE(logits) << logits.message();
            if (!logits) break;
            const int32_t next = static_cast<int32_t>(std::max_element(logits->begin(), logits->end()) - logits->begin());
            b.clear();
            b.add(next, 0, static_cast<int32_t>(out.size()), true);
            out.push_back(next);
        }
        return out;
    };
    EXPECT_EQ(greedy(*gpu), greedy(*cpu));
    // Hybrid: the first layer on the GPU, the second on the CPU.
    auto hybrid = load(tiny.gguf, true, 1, c.n_layer / 2);
    ASSERT_TRUE(hybrid);
    EXPECT_NE(hybrid->model->placement().find("CPU"), std::string::npos) << hybrid->model->placement();
    EXPECT_EQ(greedy(*hybrid), greedy(*cpu));
}

// Two sequences decoded together, each drawing with its own sampler (top-k, penalties, bias):
// drawing from the GPU's top-logits readout gives the tokens that drawing from the whole rows
// gives, step after step.
TEST(GpuModel, SamplingFromTheReadoutMatchesWholeRows) {
    RF_SKIP_WITHOUT_GPU();
    TinyConfig c;
    c.n_vocab = 300;
    const auto tiny = rf::testing::make_tiny_model(c);
    auto l = load(tiny.gguf, true, 2);
    ASSERT_TRUE(l);
    auto params = [](int seq) {
        sampling::SamplerParams p;
        p.temperature = 1.3f;
        p.top_k = seq == 0 ? 20 : 7;
        p.repeat_penalty = 1.2f;
        p.presence_penalty = -0.5f;
        p.logit_bias = {{3, 4.0f}, {10, -std::numeric_limits<float>::infinity()}};
        p.seed = 17 + static_cast<uint64_t>(seq);
        return p;
    };
    auto run = [&](bool readout) {
        l->ctx->clear();
        std::vector<sampling::Sampler> samplers = {sampling::Sampler(params(0)), sampling::Sampler(params(1))};
        std::vector<std::vector<int32_t>> seqs = {{1, 7, 42}, {5, 9}};
        engine::Batch b;
        for (int s = 0; s < 2; ++s) {
            for (size_t i = 0; i < seqs[s].size(); ++i) b.add(seqs[s][i], s, static_cast<int32_t>(i), i + 1 == seqs[s].size());
        }
        for (int step = 0; step < 24; ++step) {
            std::vector<int32_t> next(2);
            if (readout) {
                std::vector<sampling::LogitAdjust> adjust;
                for (int s = 0; s < 2; ++s) samplers[s].logit_adjustments(seqs[s], c.n_vocab, s, adjust);
                auto top = l->ctx->decode_top(b, 20, adjust);
                EXPECT_TRUE(top) << top.message();
                if (!top) break;
                for (int s = 0; s < 2; ++s) next[s] = samplers[s].sample_top(top->subspan(static_cast<size_t>(s) * 20, 20));
            } else {
                auto logits = l->ctx->decode(b);
                EXPECT_TRUE(logits) << logits.message();
                if (!logits) break;
                const auto n_vocab = static_cast<size_t>(c.n_vocab);
                for (int s = 0; s < 2; ++s) next[s] = samplers[s].sample(logits->subspan(static_cast<size_t>(s) * n_vocab, n_vocab), seqs[s]);
            }
            b.clear();
            for (int s = 0; s < 2; ++s) {
                b.add(next[s], s, static_cast<int32_t>(seqs[s].size()), true);
                seqs[s].push_back(next[s]);
            }
        }
        return seqs;
    };
    const auto whole = run(false);
    EXPECT_EQ(run(true), whole);
    EXPECT_EQ(whole[0].size(), 27u);
}

// Two sequences in one batch give the logits each gets alone.
TEST(GpuModel, InterleavedSequences) {
    RF_SKIP_WITHOUT_GPU();
    const TinyConfig c;
    const auto tiny = rf::testing::make_tiny_model(c);
    auto l = load(tiny.gguf, true, 2);
    ASSERT_TRUE(l);
    const auto a = some_tokens(9, c.n_vocab);
    std::vector<int32_t> b = {5, 17, 3, 60, 2};
    engine::Batch batch;
    for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
        if (i < a.size()) batch.add(a[i], 0, static_cast<int32_t>(i), i + 1 == a.size());
        if (i < b.size()) batch.add(b[i], 1, static_cast<int32_t>(i), i + 1 == b.size());
    }
    auto logits = l->ctx->decode(batch);
    ASSERT_TRUE(logits) << logits.message();
    const auto ref_a = rf::testing::reference_logits(tiny, a);
    const auto ref_b = rf::testing::reference_logits(tiny, b);
    double max_ref = 0.0;
    // Output rows are in batch order: b's last token comes before a's last token.
    const double err_b = row_error(logits->subspan(0, static_cast<size_t>(c.n_vocab)), ref_b.back(), max_ref);
    const double err_a = row_error(logits->subspan(static_cast<size_t>(c.n_vocab), static_cast<size_t>(c.n_vocab)), ref_a.back(), max_ref);
    EXPECT_LE(std::max(err_a, err_b), 2e-2 * max_ref);
}

// Twelve sequences decoding together (a step larger than the mat-vec kernels take, so the
// batched GEMM path): each sequence's logits match its reference at every step.
TEST(GpuModel, BatchedDecodeMatchesReference) {
    RF_SKIP_WITHOUT_GPU();
    const TinyConfig c;
    const auto tiny = rf::testing::make_tiny_model(c);
    constexpr int kSeqs = 12, kPrompt = 3, kSteps = 6;
    auto l = load(tiny.gguf, true, kSeqs);
    ASSERT_TRUE(l);
    std::vector<std::vector<int32_t>> tokens(kSeqs);
    for (int s = 0; s < kSeqs; ++s) {
        for (int i = 0; i < kPrompt + kSteps; ++i) tokens[s].push_back((s * 31 + i * 17 + 5) % c.n_vocab);
    }
    engine::Batch batch;
    for (int s = 0; s < kSeqs; ++s) {
        for (int i = 0; i < kPrompt; ++i) batch.add(tokens[s][static_cast<size_t>(i)], s, i, false);
    }
    ASSERT_TRUE(l->ctx->decode(batch));
    double max_err = 0.0, max_ref = 0.0;
    std::vector<std::vector<std::vector<double>>> refs;
    for (int s = 0; s < kSeqs; ++s) refs.push_back(rf::testing::reference_logits(tiny, tokens[s]));
    for (int step = 0; step < kSteps; ++step) {
        const int pos = kPrompt + step;
        batch.clear();
        for (int s = 0; s < kSeqs; ++s) batch.add(tokens[s][static_cast<size_t>(pos)], s, pos, true);
        auto logits = l->ctx->decode(batch);
        ASSERT_TRUE(logits) << logits.message();
        for (int s = 0; s < kSeqs; ++s) {
            const auto row = logits->subspan(static_cast<size_t>(s * c.n_vocab), static_cast<size_t>(c.n_vocab));
            max_err = std::max(max_err, row_error(row, refs[s][static_cast<size_t>(pos)], max_ref));
        }
    }
    EXPECT_LE(max_err, 2e-2 * max_ref) << "max |dlogit| " << max_err << " vs max |logit| " << max_ref;
}

}  // namespace
}  // namespace rf::gpu
