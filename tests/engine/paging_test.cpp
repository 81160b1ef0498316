// The paged KV cache end to end on a tiny model: token-by-token decode equals prefill, several
// sequences interleaved in one batch equal each run alone, forked prefixes (copy-on-write)
// equal fresh runs, the top-logits readout equals selecting from whole rows, and bad batches are
// rejected with a message.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "backend/cpu/backend_cpu.h"
#include "engine/context.h"
#include "gguf/gguf_file.h"
#include "model/loader.h"
#include "../model/tiny_model.h"

namespace rf::engine {
namespace {

class PagingTest : public ::testing::Test {
protected:
    void SetUp() override {
        rf::testing::TinyConfig cfg;
        cfg.n_layer = 2;
        tiny_ = rf::testing::make_tiny_model(cfg);
        backend_ = std::make_unique<cpu::CpuBackend>(2);
        auto file = gguf::GgufFile::parse(tiny_.gguf);
        ASSERT_TRUE(file) << file.message();
        auto model = model::load_model(std::move(file).value(), *backend_);
        ASSERT_TRUE(model) << model.message();
        model_ = std::move(model).value();
    }

    std::unique_ptr<Context> make_context(int32_t n_seq, int32_t n_batch, int32_t block_size = 4) {
        ContextParams p;
        p.n_ctx = 48;
        p.n_seq_max = n_seq;
        p.n_batch = n_batch;
        p.block_size = block_size;
        p.kv_type = quant::GgmlType::kF32;
        auto ctx = Context::create(*model_, p);
        EXPECT_TRUE(ctx) << ctx.message();
        return std::move(ctx).value();
    }

    // Logits of every token of `tokens` run alone as sequence 0 of a fresh context, one step.
    std::vector<float> run_alone(const std::vector<int32_t>& tokens) {
        auto ctx = make_context(1, 64);
        Batch b;
        for (size_t i = 0; i < tokens.size(); ++i) b.add(tokens[i], 0, static_cast<int32_t>(i), true);
        auto logits = ctx->decode(b);
        EXPECT_TRUE(logits) << logits.message();
        return {logits->begin(), logits->end()};
    }

    static void expect_close(std::span<const float> a, std::span<const float> b, const char* what) {
        ASSERT_EQ(a.size(), b.size()) << what;
        float max_abs = 0.0f, max_diff = 0.0f;
        for (size_t i = 0; i < a.size(); ++i) {
            max_abs = std::max(max_abs, std::fabs(a[i]));
            max_diff = std::max(max_diff, std::fabs(a[i] - b[i]));
        }
        EXPECT_LE(max_diff, 1e-5f * max_abs + 1e-6f) << what;
    }

    int32_t n_vocab() const { return model_->info().n_vocab; }

    rf::testing::TinyModel tiny_;
    std::unique_ptr<cpu::CpuBackend> backend_;
    std::unique_ptr<Model> model_;
};

std::vector<int32_t> tokens_for(int seed, int n) {
    std::vector<int32_t> t;
    for (int i = 0; i < n; ++i) t.push_back((seed * 13 + i * 29 + 5) % 67);
    return t;
}

TEST_F(PagingTest, DecodeTokenByTokenEqualsPrefill) {
    const auto tokens = tokens_for(1, 21);
    const auto prefill = run_alone(tokens);
    auto ctx = make_context(1, 64);
    std::vector<float> stepwise;
    for (size_t i = 0; i < tokens.size(); ++i) {
        Batch b;
        b.add(tokens[i], 0, static_cast<int32_t>(i), true);
        auto logits = ctx->decode(b);
        ASSERT_TRUE(logits) << logits.message();
        stepwise.insert(stepwise.end(), logits->begin(), logits->end());
    }
    expect_close(prefill, stepwise, "token-by-token vs prefill");
}

TEST_F(PagingTest, InterleavedSequencesEqualAlone) {
    const std::vector<std::vector<int32_t>> seqs = {tokens_for(1, 17), tokens_for(2, 6), tokens_for(3, 11)};
    auto ctx = make_context(3, 7);  // steps of 7 tokens: sequences straddle steps
    Batch b;
    std::vector<std::vector<size_t>> row_of(3);  // output row of each (seq, position)
    size_t rows = 0;
    for (size_t pos = 0; pos < 17; ++pos) {
        for (int32_t s = 2; s >= 0; --s) {  // reverse order: sequence ids not sorted in the batch
            if (pos >= seqs[static_cast<size_t>(s)].size()) continue;
            b.add(seqs[static_cast<size_t>(s)][pos], s, static_cast<int32_t>(pos), true);
            row_of[static_cast<size_t>(s)].push_back(rows++);
        }
    }
    auto logits = ctx->decode(b);
    ASSERT_TRUE(logits) << logits.message();
    const size_t nv = static_cast<size_t>(n_vocab());
    for (size_t s = 0; s < 3; ++s) {
        const auto alone = run_alone(seqs[s]);
        std::vector<float> mine;
        for (size_t r : row_of[s]) mine.insert(mine.end(), logits->begin() + static_cast<long>(r * nv), logits->begin() + static_cast<long>((r + 1) * nv));
        expect_close(alone, mine, "interleaved sequence");
    }
}

TEST_F(PagingTest, ForkedPrefixCopiesOnWrite) {
    const auto prefix = tokens_for(4, 10);  // 2.5 blocks of 4: the last block is shared
    auto ctx = make_context(2, 64);
    Batch b;
    for (size_t i = 0; i < prefix.size(); ++i) b.add(prefix[i], 0, static_cast<int32_t>(i), false);
    ASSERT_TRUE(ctx->decode(b));
    ASSERT_TRUE(ctx->fork(0, 1).is_ok());
    EXPECT_EQ(ctx->seq_tokens(1).size(), prefix.size());
    const int32_t used_before = ctx->kv().n_blocks_used();
    const auto tail0 = tokens_for(5, 5);
    const auto tail1 = tokens_for(6, 5);
    b.clear();
    for (size_t i = 0; i < 5; ++i) {
        b.add(tail0[i], 0, static_cast<int32_t>(10 + i), true);
        b.add(tail1[i], 1, static_cast<int32_t>(10 + i), true);
    }
    auto logits = ctx->decode(b);
    ASSERT_TRUE(logits) << logits.message();
    EXPECT_GT(ctx->kv().n_blocks_used(), used_before);
    const size_t nv = static_cast<size_t>(n_vocab());
    for (size_t s = 0; s < 2; ++s) {
        auto full = prefix;
        const auto& tail = s == 0 ? tail0 : tail1;
        full.insert(full.end(), tail.begin(), tail.end());
        const auto alone = run_alone(full);
        std::vector<float> mine;
        for (size_t i = 0; i < 5; ++i) {
            const size_t r = 2 * i + s;
            mine.insert(mine.end(), logits->begin() + static_cast<long>(r * nv), logits->begin() + static_cast<long>((r + 1) * nv));
        }
        expect_close(std::span<const float>(alone).subspan(10 * nv), mine, "forked sequence");
    }
}

// decode_top() over a batch split into several steps (rows renumbered per step) returns, row by
// row, what selecting from decode()'s whole rows after the same logit changes gives.
TEST_F(PagingTest, TopLogitsReadoutEqualsSelectingFromWholeRows) {
    const auto tokens = tokens_for(3, 10);
    Batch b;
    for (size_t i = 0; i < tokens.size(); ++i) b.add(tokens[i], 0, static_cast<int32_t>(i), i % 3 != 1);
    const int32_t n_rows = b.n_outputs();
    std::vector<sampling::LogitAdjust> adjust;
    for (int32_t r = 0; r < n_rows; ++r) {
        adjust.push_back({r, (r * 7) % n_vocab(), 3.0f, 1.0f, 0.0f});
        adjust.push_back({r, (r * 11 + 1) % n_vocab(), -std::numeric_limits<float>::infinity(), 1.0f, 0.0f});
        adjust.push_back({r, (r * 5 + 2) % n_vocab(), 0.5f, 1.7f, 0.25f});
    }
    constexpr int32_t k = 6;
    auto whole_ctx = make_context(1, 4);  // 10 tokens: three steps
    auto whole = whole_ctx->decode(b);
    ASSERT_TRUE(whole) << whole.message();
    std::vector<float> rows(whole->begin(), whole->end());
    sampling::apply_adjustments(rows, n_vocab(), adjust);

    auto top_ctx = make_context(1, 4);
    auto top = top_ctx->decode_top(b, k, adjust);
    ASSERT_TRUE(top) << top.message();
    ASSERT_EQ(top->size(), static_cast<size_t>(n_rows * k));
    const auto width = static_cast<size_t>(n_vocab());
    for (int32_t r = 0; r < n_rows; ++r) {
        std::vector<sampling::TokenLogit> want(k);
        sampling::select_top_logits(std::span<const float>(rows).subspan(static_cast<size_t>(r) * width, width), want);
        std::vector<sampling::TokenLogit> got(top->begin() + r * k, top->begin() + (r + 1) * k);
        std::sort(got.begin(), got.end(), sampling::ranks_before);
        for (int32_t j = 0; j < k; ++j) {
            EXPECT_EQ(got[static_cast<size_t>(j)].id, want[static_cast<size_t>(j)].id) << "row " << r << " rank " << j;
            EXPECT_EQ(got[static_cast<size_t>(j)].logit, want[static_cast<size_t>(j)].logit);
        }
    }
    EXPECT_EQ(top_ctx->seq_tokens(0).size(), tokens.size());

    // Bad requests are refused before anything runs.
    b.clear();
    b.add(1, 0, static_cast<int32_t>(tokens.size()), true);
    EXPECT_FALSE(top_ctx->decode_top(b, 0, {}));
    EXPECT_FALSE(top_ctx->decode_top(b, n_vocab() + 1, {}));
    const std::vector<sampling::LogitAdjust> outside = {{1, 0, 1.0f, 1.0f, 0.0f}};
    auto r = top_ctx->decode_top(b, 2, outside);
    ASSERT_FALSE(r);
    EXPECT_NE(r.message().find("outside"), std::string::npos) << r.message();
    EXPECT_EQ(top_ctx->seq_tokens(0).size(), tokens.size());
}

TEST_F(PagingTest, RejectsBadBatches) {
    auto ctx = make_context(2, 16);
    Batch b;
    b.add(1, 0, 1, true);  // must start at position 0
    auto r = ctx->decode(b);
    ASSERT_FALSE(r);
    EXPECT_NE(r.message().find("position 1"), std::string::npos) << r.message();
    b.clear();
    b.add(n_vocab(), 0, 0, true);
    EXPECT_FALSE(ctx->decode(b));
    b.clear();
    b.add(1, 5, 0, true);
    EXPECT_FALSE(ctx->decode(b));
    b.clear();
    for (int i = 0; i < 49; ++i) b.add(1, 0, i, false);
    r = ctx->decode(b);
    ASSERT_FALSE(r);
    EXPECT_NE(r.message().find("context size"), std::string::npos) << r.message();
    EXPECT_EQ(ctx->kv().seq_length(0), 0);  // nothing reserved on failure
}

}  // namespace
}  // namespace rf::engine
