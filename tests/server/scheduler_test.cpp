// The continuous-batching scheduler without HTTP: batched greedy output equals solo output,
// prefix reuse (copy-on-write) keeps results exact, preemption under a small KV pool, prompt
// chunking, cancellation frees blocks, the queue limit.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "engine/scheduler.h"
#include "model/model_bundle.h"
#include "server_harness.h"

namespace rf::testing {
namespace {

using engine::Scheduler;
using engine::SchedulerParams;
using engine::SequenceEvent;
using engine::SequenceParams;
using namespace std::chrono_literals;

struct Outcome {
    std::vector<int32_t> tokens;
    std::string text;
    engine::FinishReason finish = engine::FinishReason::kLength;
    int32_t n_cached = 0;
    bool error = false;
};

// Drains a request's events into one outcome per sequence.
std::vector<Outcome> collect(engine::RequestHandle& h) {
    std::vector<Outcome> out(static_cast<size_t>(h.n_sequences()));
    std::vector<SequenceEvent> events;
    while (!h.finished()) {
        h.wait(100ms, events);
        for (SequenceEvent& e : events) {
            Outcome& o = out[static_cast<size_t>(e.index)];
            o.text += e.text;
            if (e.kind == SequenceEvent::Kind::kToken) o.tokens.push_back(e.token);
            if (e.kind == SequenceEvent::Kind::kFinish) {
                o.finish = e.finish;
                o.n_cached = e.n_cached;
            }
            if (e.kind == SequenceEvent::Kind::kError) o.error = true;
        }
    }
    return out;
}

// Stats are published after each engine step, just after the step's events.
int32_t settled_blocks_used(const Scheduler& s) {
    const auto deadline = std::chrono::steady_clock::now() + 2s;
    while (s.stats().n_running + s.stats().n_waiting > 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(1ms);
    }
    std::this_thread::sleep_for(5ms);
    return s.stats().kv_blocks_used;
}

// One model has one KV cache, so only one scheduler may exist per model at a time: reference
// outputs are computed by a scheduler that is gone before the one under test is created.
class SchedulerTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        auto b = model::open_model(server_test_model_path(), {1});
        ASSERT_TRUE(b.is_ok()) << b.message();
        bundle_ = new model::ModelBundle(std::move(b).value());
    }
    static void TearDownTestSuite() {
        delete bundle_;
        bundle_ = nullptr;
    }

    std::unique_ptr<Scheduler> make(SchedulerParams p) {
        auto s = Scheduler::create(*bundle_->model, *bundle_->tokenizer, p);
        EXPECT_TRUE(s.is_ok()) << s.message();
        return s.is_ok() ? std::move(s).value() : nullptr;
    }
    static SequenceParams greedy(const std::string& prompt, int max_tokens) {
        SequenceParams p;
        p.prompt = bundle_->tokenizer->encode(prompt, true, true);
        p.max_tokens = max_tokens;
        p.sampling.temperature = 0.0f;
        p.ignore_eos = true;
        return p;
    }
    // Each prompt run alone on a fresh scheduler with `p`.
    std::vector<Outcome> solo(SchedulerParams p, const std::vector<SequenceParams>& seqs) {
        p.n_cached_seqs = 0;
        auto s = make(p);
        std::vector<Outcome> out;
        for (const SequenceParams& q : seqs) out.push_back(run_one(*s, q));
        return out;
    }
    static Outcome run_one(Scheduler& s, SequenceParams p) {
        std::vector<SequenceParams> v;
        v.push_back(std::move(p));
        auto sub = s.submit(std::move(v));
        EXPECT_TRUE(sub.handle) << sub.message;
        return sub.handle ? collect(*sub.handle)[0] : Outcome{};
    }

    static model::ModelBundle* bundle_;
};

model::ModelBundle* SchedulerTest::bundle_ = nullptr;

std::string prompt_of(int i) {
    return "sequence " + std::to_string(i) + " tells the story of the green river and the stone";
}

TEST_F(SchedulerTest, BatchedGreedyEqualsSolo) {
    SchedulerParams p;
    p.n_parallel = 8;
    p.n_ctx = 256;
    p.n_cached_seqs = 0;
    auto s = make(p);
    ASSERT_TRUE(s);
    std::vector<Outcome> alone;
    for (int i = 0; i < 8; ++i) alone.push_back(run_one(*s, greedy(prompt_of(i), 20)));
    std::vector<std::shared_ptr<engine::RequestHandle>> handles;
    for (int i = 0; i < 8; ++i) {
        std::vector<SequenceParams> v{greedy(prompt_of(i), 20)};
        auto sub = s->submit(std::move(v));
        ASSERT_TRUE(sub.handle) << sub.message;
        handles.push_back(sub.handle);
    }
    for (int i = 0; i < 8; ++i) {
        const Outcome o = collect(*handles[static_cast<size_t>(i)])[0];
        EXPECT_EQ(o.tokens, alone[static_cast<size_t>(i)].tokens) << "sequence " << i;
        EXPECT_EQ(o.tokens.size(), 20u);
    }
    EXPECT_EQ(settled_blocks_used(*s), 0) << "no prefix cache: everything freed";
}

TEST_F(SchedulerTest, PrefixReuseIsExact) {
    SchedulerParams cached;
    cached.n_parallel = 2;
    cached.n_ctx = 256;
    cached.min_prefix_reuse = 4;
    SchedulerParams plain = cached;
    plain.n_cached_seqs = 0;
    const std::string system = "system you are the green river story and the stone world";
    const Outcome b = solo(plain, {greedy(system + " world and you", 16)})[0];
    auto with_cache = make(cached);
    run_one(*with_cache, greedy(system + " hello", 8));
    const Outcome a = run_one(*with_cache, greedy(system + " world and you", 16));
    EXPECT_GT(a.n_cached, 4);
    EXPECT_EQ(b.n_cached, 0);
    EXPECT_EQ(a.tokens, b.tokens);
    EXPECT_GT(with_cache->stats().prompt_tokens_reused, 0u);
}

TEST_F(SchedulerTest, SiblingChoicesShareThePrompt) {
    SchedulerParams p;
    p.n_parallel = 4;
    p.n_ctx = 256;
    auto s = make(p);
    std::vector<SequenceParams> v;
    for (int i = 0; i < 3; ++i) {
        SequenceParams q = greedy(prompt_of(42), 6);
        q.sampling.temperature = 1.0f;
        q.sampling.seed = 100 + static_cast<uint64_t>(i);
        v.push_back(q);
    }
    auto sub = s->submit(std::move(v));
    ASSERT_TRUE(sub.handle);
    auto out = collect(*sub.handle);
    EXPECT_EQ(out[0].n_cached, 0);
    EXPECT_GT(out[1].n_cached, 0);
    EXPECT_GT(out[2].n_cached, 0);
    for (const Outcome& o : out) EXPECT_EQ(o.tokens.size(), 6u);
}

TEST_F(SchedulerTest, PreemptionUnderASmallKvPoolKeepsResults) {
    SchedulerParams small;
    small.n_parallel = 4;
    small.n_ctx = 96;
    small.kv_tokens = 96;  // room for about one full sequence: the others get preempted
    small.n_cached_seqs = 0;
    small.n_batch = 32;    // prompts are prefilled in chunks
    SchedulerParams roomy = small;
    roomy.kv_tokens = 0;
    std::vector<SequenceParams> seqs;
    for (int i = 0; i < 4; ++i) seqs.push_back(greedy(prompt_of(i), 50));
    const std::vector<Outcome> reference = solo(roomy, seqs);
    auto s = make(small);
    std::vector<std::shared_ptr<engine::RequestHandle>> handles;
    for (int i = 0; i < 4; ++i) {
        std::vector<SequenceParams> v{greedy(prompt_of(i), 50)};
        auto sub = s->submit(std::move(v));
        ASSERT_TRUE(sub.handle) << sub.message;
        handles.push_back(sub.handle);
    }
    for (int i = 0; i < 4; ++i) {
        const Outcome o = collect(*handles[static_cast<size_t>(i)])[0];
        EXPECT_FALSE(o.error);
        EXPECT_EQ(o.tokens, reference[static_cast<size_t>(i)].tokens) << "sequence " << i;
    }
    EXPECT_GT(s->stats().n_preemptions, 0u);
    EXPECT_EQ(settled_blocks_used(*s), 0);
}

// Decode tokens of `running` produced after `since` and before the first token of `other`.
struct PrefillOverlap {
    int32_t decodes_during_prefill = 0;
    bool other_got_token = false;
};

PrefillOverlap decodes_while_prefilling(engine::RequestHandle& running, engine::RequestHandle& other) {
    PrefillOverlap r;
    std::vector<SequenceEvent> events;
    engine::SteadyClock::time_point first;
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (!r.other_got_token && !other.finished() && std::chrono::steady_clock::now() < deadline) {
        other.wait(100ms, events);
        for (const SequenceEvent& e : events) {
            if (e.kind == SequenceEvent::Kind::kToken && !r.other_got_token) {
                r.other_got_token = true;
                first = e.time;
            }
        }
    }
    running.cancel();
    other.cancel();
    while (!running.finished()) {
        running.wait(100ms, events);
        for (const SequenceEvent& e : events) {
            if (e.kind == SequenceEvent::Kind::kToken && e.time > other.submit_time() && e.time < first) {
                ++r.decodes_during_prefill;
            }
        }
    }
    collect(other);
    return r;
}

// Chunked prefill: a long prompt arriving beside a running stream is fed in chunks of the step
// budget, and every one of those steps still decodes the running stream.
TEST_F(SchedulerTest, LongPromptPrefillDoesNotStallRunningDecodes) {
    constexpr int32_t kPromptTokens = 600;
    for (const int32_t n_batch : {32, 1024}) {
        SchedulerParams p;
        p.n_parallel = 2;
        p.n_ctx = 1024;
        p.n_batch = n_batch;
        p.n_cached_seqs = 0;
        auto s = make(p);
        ASSERT_TRUE(s);
        auto running = s->submit({greedy(prompt_of(1), 900)});
        ASSERT_TRUE(running.handle) << running.message;
        std::vector<SequenceEvent> first;
        while (first.empty()) running.handle->wait(100ms, first);  // it is decoding now
        SequenceParams long_prompt = greedy("x", 4);
        long_prompt.prompt.resize(kPromptTokens, 5);
        const uint64_t computed_before = s->stats().prompt_tokens_computed;
        auto other = s->submit({long_prompt});
        ASSERT_TRUE(other.handle) << other.message;
        const PrefillOverlap o = decodes_while_prefilling(*running.handle, *other.handle);
        ASSERT_TRUE(o.other_got_token);
        EXPECT_GE(s->stats().prompt_tokens_computed - computed_before, static_cast<uint64_t>(kPromptTokens));
        if (n_batch == 32) {
            // 600 prompt tokens at 31 per step (one slot of the budget goes to the decode).
            EXPECT_GE(o.decodes_during_prefill, kPromptTokens / (n_batch - 1) - 1);
        } else {
            // One step takes the whole prompt. Besides its own decode, the step in flight when the
            // prompt arrived and one whose batch was already formed may also decode first.
            EXPECT_LE(o.decodes_during_prefill, 3) << "the prompt was fed in several steps";
        }
        EXPECT_EQ(settled_blocks_used(*s), 0);
    }
}

TEST_F(SchedulerTest, CancelFreesBlocksAtOnce) {
    SchedulerParams p;
    p.n_parallel = 2;
    p.n_ctx = 1024;
    auto s = make(p);
    std::vector<SequenceParams> v{greedy(prompt_of(7), 1000)};
    auto sub = s->submit(std::move(v));
    ASSERT_TRUE(sub.handle);
    std::vector<SequenceEvent> events;
    while (events.empty()) sub.handle->wait(100ms, events);
    // Stats are published after the step whose token was just seen.
    const auto deadline = std::chrono::steady_clock::now() + 2s;
    while (s->stats().kv_blocks_used == 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(1ms);
    }
    EXPECT_GT(s->stats().kv_blocks_used, 0);
    sub.handle->cancel();
    auto out = collect(*sub.handle);
    EXPECT_EQ(out[0].finish, engine::FinishReason::kCancelled);
    EXPECT_EQ(settled_blocks_used(*s), 0);
    EXPECT_EQ(s->n_active(), 0);
}

TEST_F(SchedulerTest, QueueLimitAndValidation) {
    SchedulerParams p;
    p.n_parallel = 1;
    p.max_queue = 1;
    p.n_ctx = 1024;
    auto s = make(p);
    auto first = s->submit({greedy(prompt_of(1), 1000)});
    auto second = s->submit({greedy(prompt_of(2), 1000)});
    auto third = s->submit({greedy(prompt_of(3), 1000)});
    ASSERT_TRUE(first.handle);
    ASSERT_TRUE(second.handle);
    EXPECT_FALSE(third.handle);
    EXPECT_EQ(third.error, engine::SubmitError::kQueueFull);
    first.handle->cancel();
    second.handle->cancel();
    collect(*first.handle);
    collect(*second.handle);

    SequenceParams empty;
    EXPECT_EQ(s->submit({empty}).error, engine::SubmitError::kInvalid);
    SequenceParams bad = greedy("x", 1);
    bad.prompt.push_back(1 << 20);
    EXPECT_EQ(s->submit({bad}).error, engine::SubmitError::kInvalid);
    SequenceParams long_prompt = greedy("x", 1);
    long_prompt.prompt.assign(1024, 5);
    auto r = s->submit({long_prompt});
    EXPECT_EQ(r.error, engine::SubmitError::kInvalid);
    EXPECT_NE(r.message.find("context holds 1024"), std::string::npos) << r.message;
    s->close();
    EXPECT_EQ(s->submit({greedy("x", 1)}).error, engine::SubmitError::kShuttingDown);
}

TEST_F(SchedulerTest, StopStringsAndEndOfGeneration) {
    SchedulerParams p;
    p.n_ctx = 256;
    auto s = make(p);
    const Outcome full = run_one(*s, greedy(prompt_of(3), 30));
    std::string stop;
    for (size_t i = full.text.size() / 2; i + 1 < full.text.size() && stop.empty(); ++i) {
        if (static_cast<unsigned char>(full.text[i]) < 0x80 && static_cast<unsigned char>(full.text[i + 1]) < 0x80) {
            stop = full.text.substr(i, 2);
        }
    }
    if (stop.empty()) GTEST_SKIP() << "no ASCII pair in the random text";
    SequenceParams q = greedy(prompt_of(3), 30);
    q.stop = {stop};
    const Outcome cut = run_one(*s, q);
    EXPECT_EQ(cut.finish, engine::FinishReason::kStop);
    EXPECT_EQ(cut.text, full.text.substr(0, full.text.find(stop)));

    // A logit bias that forces </s> ends the sequence at once without text.
    SequenceParams eos = greedy(prompt_of(3), 30);
    eos.ignore_eos = false;
    eos.sampling.logit_bias[2] = 1000.0f;
    const Outcome ended = run_one(*s, eos);
    EXPECT_EQ(ended.finish, engine::FinishReason::kEog);
    EXPECT_TRUE(ended.tokens.empty());
}

}  // namespace
}  // namespace rf::testing
