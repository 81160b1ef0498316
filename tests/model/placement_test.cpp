// Hybrid placement: a model split over two backends (here two CPU backends, the same kernels)
// gives exactly the logits of one backend, for every split point and through several steps;
// tensors go to the stage of their layer; --gpu-layers parsing and the offload arithmetic.
#include <gtest/gtest.h>

#include <memory>

#include "backend/cpu/backend_cpu.h"
#include "backend/gpu/gpu_matrix.h"
#include "engine/context.h"
#include "gguf/gguf_file.h"
#include "model/loader.h"
#include "model/offload.h"
#include "model/placement.h"
#include "quant/types.h"
#include "tiny_model.h"

namespace rf::model {
namespace {

using testing::TinyConfig;

// Logits of a prefill of 7 tokens then 5 greedy decode steps, all rows concatenated.
std::vector<float> run_steps(engine::Model& model, int n_vocab) {
    engine::ContextParams cp;
    cp.n_ctx = 32;
    cp.block_size = 4;
    auto ctx = engine::Context::create(model, cp);
    EXPECT_TRUE(ctx) << ctx.message();
    if (!ctx) return {};
    std::vector<float> all;
    engine::Batch batch;
    for (int i = 0; i < 7; ++i) batch.add((i * 13 + 5) % n_vocab, 0, i, true);
    for (int step = 0; step < 6; ++step) {
        auto logits = (*ctx)->decode(batch);
        EXPECT_TRUE(logits) << logits.message();
        if (!logits) return {};
        all.insert(all.end(), logits->begin(), logits->end());
        const auto last = logits->end() - n_vocab;
        const int32_t next = static_cast<int32_t>(std::max_element(last, logits->end()) - last);
        batch.clear();
        batch.add(next, 0, 7 + step, true);
    }
    return all;
}

std::vector<float> logits_with_split(const TinyConfig& cfg, int32_t n_first) {
    const auto tiny = testing::make_tiny_model(cfg);
    cpu::CpuBackend first(1), rest(1);
    auto file = gguf::GgufFile::parse(tiny.gguf);
    EXPECT_TRUE(file) << file.message();
    if (!file) return {};
    auto model = load_model(std::move(file).value(), [&](const HParams& hp) {
        return n_first < 0 ? Placement::single(first, hp.n_layer)
                           : Placement::split(first, rest, n_first, hp.n_layer);
    });
    EXPECT_TRUE(model) << model.message();
    if (!model) return {};
    if (n_first > 0 && n_first < cfg.n_layer) {
        EXPECT_NE((*model)->placement().find(" + "), std::string::npos) << (*model)->placement();
    }
    return run_steps(**model, cfg.n_vocab);
}

void expect_every_split_matches(const TinyConfig& cfg) {
    const std::vector<float> whole = logits_with_split(cfg, -1);
    ASSERT_FALSE(whole.empty());
    for (int32_t n_first = 0; n_first <= cfg.n_layer; ++n_first) {
        EXPECT_EQ(logits_with_split(cfg, n_first), whole)
            << cfg.arch << " split after " << n_first << " layers";
    }
}

TEST(Placement, SplitModelsMatchOneBackend) {
    TinyConfig c;
    c.n_layer = 4;
    expect_every_split_matches(c);
}

TEST(Placement, TiedEmbeddingsRopeFreqsQwen3AndMoe) {
    TinyConfig tied;
    tied.n_layer = 3;
    tied.tied_embeddings = true;
    tied.rope_freqs = true;
    expect_every_split_matches(tied);
    TinyConfig qwen3;
    qwen3.arch = "qwen3";
    qwen3.qk_norm = true;
    qwen3.n_layer = 3;
    expect_every_split_matches(qwen3);
    TinyConfig moe;
    moe.arch = "qwen3moe";
    moe.qk_norm = true;
    moe.n_expert = 4;
    moe.n_expert_used = 2;
    moe.n_layer = 3;
    expect_every_split_matches(moe);
}

TEST(Placement, TensorsGoToTheirLayersStage) {
    cpu::CpuBackend a(1), b(1);
    const Placement p = Placement::split(a, b, 2, 5);
    ASSERT_EQ(p.stages().size(), 2u);
    EXPECT_EQ(&p.backend_for_tensor("token_embd.weight"), &a);
    EXPECT_EQ(&p.backend_for_tensor("blk.1.attn_q.weight"), &a);
    EXPECT_EQ(&p.backend_for_tensor("blk.2.attn_q.weight"), &b);
    EXPECT_EQ(&p.backend_for_tensor("blk.4.ffn_down.weight"), &b);
    EXPECT_EQ(&p.backend_for_tensor("output.weight"), &b);
    EXPECT_EQ(&p.backend_for_tensor("output_norm.weight"), &b);
    EXPECT_EQ(Placement::split(a, b, 0, 5).stages().size(), 1u);
    EXPECT_EQ(Placement::split(a, b, 5, 5).stages().size(), 1u);
    EXPECT_EQ(p.describe(), "CPU 2 layers + CPU 3 layers");
}

TEST(Offload, ParseGpuLayers) {
    EXPECT_EQ(parse_gpu_layers("auto")->kind, GpuLayersRequest::Kind::kAuto);
    EXPECT_EQ(parse_gpu_layers("all")->kind, GpuLayersRequest::Kind::kAll);
    auto n = parse_gpu_layers("12");
    ASSERT_TRUE(n);
    EXPECT_EQ(n->kind, GpuLayersRequest::Kind::kCount);
    EXPECT_EQ(n->count, 12);
    for (const char* bad : {"", "-1", "12x", "many"}) {
        auto r = parse_gpu_layers(bad);
        EXPECT_FALSE(r) << bad;
        if (!r) {
            EXPECT_NE(r.message().find("--gpu-layers"), std::string::npos) << r.message();
        }
    }
}

TEST(Offload, LayersThatFit) {
    OffloadEstimate e;
    e.fixed_bytes = 100;
    e.head_bytes = 50;
    e.layer_bytes = {10, 10, 10, 10};
    EXPECT_EQ(layers_that_fit(e, 50), 0);   // not even the fixed part
    EXPECT_EQ(layers_that_fit(e, 125), 2);  // 25 left: two layers
    EXPECT_EQ(layers_that_fit(e, 160), 3);  // all four layers fit but not the head with them
    EXPECT_EQ(layers_that_fit(e, 190), 4);
}

// The offload estimate counts weights as the GPU stores them: repacked rows, padding included.
TEST(Offload, PackedRowBytesFollowTheGpuLayouts) {
    using quant::GgmlType;
    EXPECT_EQ(gpu::packed_row_bytes(GgmlType::kQ4_0, 4096), 4096u / 32 * 18);  // 16 B nibbles + fp16 d
    EXPECT_EQ(gpu::packed_row_bytes(GgmlType::kQ8_0, 4096), 4096u / 32 * 34);
    EXPECT_EQ(gpu::packed_row_bytes(GgmlType::kF16, 4096), 4096u * 2);
    EXPECT_EQ(gpu::packed_row_bytes(GgmlType::kQ3_K, 4096), 4096u / 256 * 112);  // 110-byte blocks padded
    EXPECT_GT(gpu::packed_row_bytes(GgmlType::kQ3_K, 4096), quant::row_bytes(GgmlType::kQ3_K, 4096));
    EXPECT_EQ(gpu::packed_row_bytes(GgmlType::kQ4_0, 48), 0u);  // not a multiple of 32
    EXPECT_EQ(gpu::packed_row_bytes(GgmlType::kBF16, 4096), 0u);  // widened to fp16 instead
}

TEST(Offload, EstimateCountsLayersEmbeddingsAndKv) {
    TinyConfig c;
    c.n_layer = 3;
    const auto tiny = testing::make_tiny_model(c);
    auto file = gguf::GgufFile::parse(tiny.gguf);
    ASSERT_TRUE(file) << file.message();
    const OffloadEstimate none = estimate_offload(*file, c.n_layer, 0, 0);
    const OffloadEstimate kv = estimate_offload(*file, c.n_layer, 100, 64);
    ASSERT_EQ(none.layer_bytes.size(), 3u);
    EXPECT_GT(none.layer_bytes[0], 0u);
    EXPECT_EQ(none.layer_bytes[0], none.layer_bytes[2]);  // identical layers
    EXPECT_EQ(kv.layer_bytes[0] - none.layer_bytes[0], 100u * 64u * 2u);
    EXPECT_GT(none.head_bytes, 0u);
    EXPECT_GT(none.fixed_bytes, uint64_t{768} << 20);
}

}  // namespace
}  // namespace rf::model
