// Synthesised models load with the engine's llama / qwen2 loaders (which follow llama.cpp's
// names and keys) and produce finite, non-constant logits on the CPU backend.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "backend/cpu/backend_cpu.h"
#include "convert/synth.h"
#include "engine/context.h"
#include "model/loader.h"
#include "test_vocab.h"

namespace rf::convert {
namespace {

void expect_runs(const std::string& shape, gguf::FileType ftype) {
    const std::string vocab = testing::temp_path("load_vocab.gguf");
    testing::write_test_vocab(vocab);
    SynthOptions o;
    o.shape = shape;
    o.ftype = ftype;
    o.vocab_path = vocab;
    o.out_path = testing::temp_path("load_" + shape + ".gguf");
    ASSERT_TRUE(synth_model(o).is_ok());
    cpu::CpuBackend backend(2);
    auto model = model::load_model(o.out_path, backend);
    ASSERT_TRUE(model.is_ok()) << shape << ": " << model.message();
    engine::ContextParams cp;
    cp.n_ctx = 32;
    auto ctx = engine::Context::create(**model, cp);
    ASSERT_TRUE(ctx.is_ok()) << ctx.message();
    engine::Batch batch;
    const int n_tokens = 6;
    for (int i = 0; i < n_tokens; ++i) batch.add(1 + 37 * i % 299, 0, i, true);
    auto logits = (*ctx)->decode(batch);
    ASSERT_TRUE(logits.is_ok()) << logits.message();
    ASSERT_EQ(logits->size(), static_cast<size_t>(n_tokens) * 300);
    float lo = INFINITY, hi = -INFINITY;
    for (float x : *logits) {
        ASSERT_TRUE(std::isfinite(x)) << shape;
        lo = std::min(lo, x);
        hi = std::max(hi, x);
    }
    EXPECT_GT(hi - lo, 1e-3f) << shape << ": constant logits";
    EXPECT_LT(hi - lo, 100.0f) << shape << ": logits out of a realistic range";
}

TEST(SynthLoad, TinyLlamaQ4KM) {
    expect_runs("tiny", gguf::FileType::kMostlyQ4_K_M);
}
TEST(SynthLoad, TinyLlamaQ4_0) {
    expect_runs("tiny", gguf::FileType::kMostlyQ4_0);
}
TEST(SynthLoad, TinyQwen2Q8_0) {
    expect_runs("tiny-qwen2", gguf::FileType::kMostlyQ8_0);
}
TEST(SynthLoad, TinyQwen2Q4KMWithFallbacks) {
    expect_runs("tiny-qwen2", gguf::FileType::kMostlyQ4_K_M);
}

}  // namespace
}  // namespace rf::convert
