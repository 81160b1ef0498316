// The generate() loop on the repository's default model: determinism, stop strings held back
// and excluded, max tokens, cancellation, cached-prefix reuse and the prompt-too-long error.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <memory>

#include "engine/context.h"
#include "engine/generate.h"
#include "model/model_bundle.h"

namespace rf::engine {
namespace {

const std::string kModel = std::string(RF_SOURCE_DIR) + "/models/default.gguf";

class GenerateTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (!std::filesystem::exists(kModel)) GTEST_SKIP() << "no " << kModel;
        auto m = model::open_model(kModel, {2});
        ASSERT_TRUE(m) << m.message();
        bundle_ = std::make_unique<model::ModelBundle>(std::move(m).value());
        ASSERT_NE(bundle_->tokenizer, nullptr);
        ContextParams cp;
        cp.n_ctx = 96;
        cp.n_batch = 16;  // prompts longer than one step
        auto ctx = Context::create(*bundle_->model, cp);
        ASSERT_TRUE(ctx) << ctx.message();
        ctx_ = std::move(ctx).value();
    }

    static sampling::SamplerParams greedy_params() {
        sampling::SamplerParams p;
        p.temperature = 0.0f;
        return p;
    }

    GenerateParams greedy(int max_tokens) {
        GenerateParams p;
        p.max_tokens = max_tokens;
        p.sampler = &greedy_;
        return p;
    }

    std::vector<int32_t> encode(const std::string& text) {
        return bundle_->tokenizer->encode(text, true, false);
    }

    std::unique_ptr<model::ModelBundle> bundle_;
    std::unique_ptr<Context> ctx_;
    sampling::Sampler greedy_{greedy_params()};
};

TEST_F(GenerateTest, GreedyIsDeterministicAndStreams) {
    const auto prompt = encode("In the beginning God created the heaven and the earth. And the earth");
    std::string streamed;
    auto p = greedy(24);
    p.on_text = [&](std::string_view piece) {
        streamed += piece;
        return true;
    };
    auto a = generate(*ctx_, *bundle_->tokenizer, prompt, p);
    ASSERT_TRUE(a) << a.message();
    EXPECT_EQ(a->finish, FinishReason::kLength);
    EXPECT_EQ(a->tokens.size(), 24u);
    EXPECT_EQ(streamed, a->text);
    EXPECT_FALSE(a->text.empty());
    ctx_->clear();
    auto b = generate(*ctx_, *bundle_->tokenizer, prompt, greedy(24));
    ASSERT_TRUE(b) << b.message();
    EXPECT_EQ(a->tokens, b->tokens);
}

TEST_F(GenerateTest, StopStringIsHeldBackAndExcluded) {
    const auto prompt = encode("And God said, Let there be light");
    auto full = generate(*ctx_, *bundle_->tokenizer, prompt, greedy(32));
    ASSERT_TRUE(full) << full.message();
    ASSERT_GE(full->text.size(), 8u);
    // Stop on a piece from the middle of the greedy text: the output ends right before it.
    const std::string stop = full->text.substr(4, 3);
    const size_t at = full->text.find(stop);
    auto p = greedy(32);
    p.stop = {stop};
    std::string streamed;
    p.on_text = [&](std::string_view piece) {
        streamed += piece;
        return true;
    };
    ctx_->clear();
    auto r = generate(*ctx_, *bundle_->tokenizer, prompt, p);
    ASSERT_TRUE(r) << r.message();
    EXPECT_EQ(r->finish, FinishReason::kStop);
    EXPECT_EQ(r->text, full->text.substr(0, at));
    EXPECT_EQ(streamed, r->text);
}

TEST_F(GenerateTest, ReusesCachedPrefix) {
    const auto first = encode("And the evening and the morning were the first day.");
    ASSERT_TRUE(generate(*ctx_, *bundle_->tokenizer, first, greedy(4)));
    auto longer = first;
    const auto more = bundle_->tokenizer->encode(" And God", false, false);
    longer.insert(longer.end(), more.begin(), more.end());
    auto r = generate(*ctx_, *bundle_->tokenizer, longer, greedy(4));
    ASSERT_TRUE(r) << r.message();
    EXPECT_EQ(r->n_prompt_cached, static_cast<int32_t>(first.size()));
    // Same tokens as a cold run.
    ctx_->clear();
    auto cold = generate(*ctx_, *bundle_->tokenizer, longer, greedy(4));
    ASSERT_TRUE(cold);
    EXPECT_EQ(r->tokens, cold->tokens);
}

TEST_F(GenerateTest, CancelAndCallbackStop) {
    std::atomic<bool> cancel{true};
    auto p = greedy(16);
    p.cancel = &cancel;
    auto r = generate(*ctx_, *bundle_->tokenizer, encode("And God saw"), p);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->finish, FinishReason::kCancelled);
    EXPECT_TRUE(r->tokens.empty());

    auto q = greedy(16);
    int calls = 0;
    q.on_text = [&](std::string_view) { return ++calls < 3; };
    ctx_->clear();
    auto s = generate(*ctx_, *bundle_->tokenizer, encode("And God saw"), q);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->finish, FinishReason::kCancelled);
    EXPECT_EQ(calls, 3);
}

TEST_F(GenerateTest, ContextLimits) {
    std::vector<int32_t> too_long(200, encode("a").back());
    auto r = generate(*ctx_, *bundle_->tokenizer, too_long, greedy(4));
    ASSERT_FALSE(r);
    EXPECT_NE(r.message().find("context"), std::string::npos) << r.message();
    // Generation stops at the context end without an error.
    std::vector<int32_t> near_full(90, encode("a").back());
    auto s = generate(*ctx_, *bundle_->tokenizer, near_full, greedy(-1));
    ASSERT_TRUE(s) << s.message();
    EXPECT_TRUE(s->finish == FinishReason::kContext || s->finish == FinishReason::kEog);
    EXPECT_LE(ctx_->seq_tokens(0).size(), 96u);
}

}  // namespace
}  // namespace rf::engine
