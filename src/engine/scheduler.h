// Continuous batching over one Context: requests join between forward steps, long prompts are
// prefilled in chunks beside running decodes, KV blocks are admitted by availability and shared
// between requests with a common prompt prefix. One engine thread owns the Context; other
// threads only submit requests and read their events through a RequestHandle.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "engine/context.h"
#include "engine/generate.h"
#include "sampling/sampler.h"
#include "tokenizer/tokenizer.h"

namespace rf::engine {

using SteadyClock = std::chrono::steady_clock;

struct SchedulerParams {
    int32_t n_parallel = 4;        // sequences decoded together at most
    int32_t n_ctx = 0;             // max tokens per sequence; 0 = min(training context, 4096)
    int32_t n_batch = 512;         // token budget of one step: decodes first, then prefill chunks
    int64_t kv_tokens = 0;         // KV pool in tokens; 0 = n_ctx * n_parallel (at least n_ctx)
    int32_t block_size = 16;       // tokens per KV block
    int32_t max_queue = 64;        // sequences that may wait beyond the n_parallel running ones
    int32_t n_cached_seqs = -1;    // finished sequences kept for prefix reuse; < 0 = n_parallel
    int32_t min_prefix_reuse = 8;  // shortest cached prefix worth sharing, in tokens
};

// One sequence to generate (an OpenAI "choice").
struct SequenceParams {
    std::vector<int32_t> prompt;
    int32_t max_tokens = 16;          // < 0: until the context is full
    std::vector<std::string> stop;    // stop strings (not part of the text)
    sampling::SamplerParams sampling;
    int32_t n_logprobs = -1;          // < 0: none; n >= 0: the chosen token's and the top n
    bool ignore_eos = false;          // end-of-generation tokens are ordinary tokens
};

// What a sequence reports, in order: token events, then exactly one finish or error event.
struct SequenceEvent {
    enum class Kind : uint8_t { kToken, kFinish, kError };
    Kind kind = Kind::kToken;
    int32_t index = 0;   // which sequence of the request
    int32_t token = -1;  // kToken: the sampled id
    std::string text;    // text released now (kToken: "" while held back; kFinish: the tail)
    float logprob = 0.0f;                      // kToken, when logprobs were asked for
    std::vector<sampling::TokenLogprob> top;   // kToken, when logprobs were asked for
    FinishReason finish = FinishReason::kLength;  // kFinish
    std::string error;                            // kError
    int32_t n_prompt = 0;     // kFinish: prompt tokens
    int32_t n_cached = 0;     // kFinish: of which reused from the prefix cache
    int32_t n_generated = 0;  // kFinish: sampled tokens (an end-of-generation token excluded)
    SteadyClock::time_point time;  // when the engine produced the event
};

// Wakes the engine thread: shared by the scheduler and every handle so a handle can cancel
// safely even while the scheduler shuts down.
struct SchedulerSignal {
    std::mutex mutex;
    std::condition_variable cv;
    bool pending = false;
    void notify();
};

// The caller's side of one submitted request (one or more sequences).
class RequestHandle {
public:
    RequestHandle(std::shared_ptr<SchedulerSignal> signal, int32_t n_sequences);

    // Waits up to `timeout` for events and moves them into `out` (cleared first).
    void wait(std::chrono::milliseconds timeout, std::vector<SequenceEvent>& out);
    // True when every sequence has ended and all events were taken.
    bool finished() const;
    // Ends the request's sequences at the next step and frees their KV blocks.
    void cancel();
    bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }
    int32_t n_sequences() const { return n_sequences_; }
    SteadyClock::time_point submit_time() const { return submit_time_; }

    // Engine side.
    void push(SequenceEvent event);

private:
    std::shared_ptr<SchedulerSignal> signal_;
    const int32_t n_sequences_;
    const SteadyClock::time_point submit_time_;
    std::atomic<bool> cancelled_{false};
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<SequenceEvent> events_;
    int32_t n_open_;  // sequences without their final event yet
};

// Counters and gauges for /metrics, updated by the engine thread after every step.
struct SchedulerStats {
    int32_t n_running = 0;
    int32_t n_waiting = 0;
    int32_t n_cached_seqs = 0;       // finished sequences kept for prefix reuse
    int32_t kv_blocks_used = 0;
    int32_t kv_blocks_total = 0;
    uint64_t n_steps = 0;
    uint64_t n_preemptions = 0;
    uint64_t prompt_tokens_computed = 0;  // prompt (and recomputed) tokens run through the model
    uint64_t prompt_tokens_reused = 0;    // prompt tokens taken from the prefix cache
    uint64_t tokens_generated = 0;
};

enum class SubmitError { kNone, kInvalid, kQueueFull, kShuttingDown };

struct Submission {
    std::shared_ptr<RequestHandle> handle;  // null on error
    SubmitError error = SubmitError::kNone;
    std::string message;
};

class Scheduler {
public:
    // The model and tokenizer must outlive the scheduler. Starts the engine thread.
    static Result<std::unique_ptr<Scheduler>> create(Model& model, const tok::Tokenizer& tokenizer,
                                                     const SchedulerParams& params);
    ~Scheduler();  // cancels whatever is left and joins the engine thread
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;

    // Queues the sequences of one request. Prompts must be non-empty, hold valid ids and be
    // shorter than n_ctx. Refused with kQueueFull beyond n_parallel + max_queue sequences.
    Submission submit(std::vector<SequenceParams> sequences);
    // Refuses further submissions (draining before shutdown).
    void close();
    // Ends every queued and running sequence now (kCancelled), e.g. at a shutdown deadline.
    void cancel_all();
    // Sequences queued or running.
    int32_t n_active() const { return n_active_.load(std::memory_order_relaxed); }
    SchedulerStats stats() const;

    int32_t n_ctx() const { return n_ctx_; }
    int32_t n_parallel() const { return n_parallel_; }
    int32_t n_vocab() const { return n_vocab_; }
    const tok::Tokenizer& tokenizer() const { return tokenizer_; }

    struct Sequence;  // engine-side state of one sequence (scheduler.cpp)

private:
    enum class SlotState : uint8_t { kFree, kRunning, kCached };
    struct Slot {
        SlotState state = SlotState::kFree;
        uint64_t last_used = 0;  // LRU order of cached slots
    };
    struct PlanEntry {
        Sequence* seq;
        int32_t n_tokens;  // tokens fed this step
        bool logits;       // the step reaches the sequence's last token
        bool prefill;      // prompt (or recomputed) tokens rather than a decode
    };

    Scheduler(std::unique_ptr<Context> ctx, const tok::Tokenizer& tokenizer,
              const SchedulerParams& params);

    void run();  // the engine thread
    bool take_incoming();  // false when stopping
    void reap_cancelled();
    void admit();
    bool admit_one(Sequence& s);
    int32_t find_free_slot(int32_t keep) const;
    bool evict_lru_cached(int32_t keep);
    bool make_room(int32_t blocks);
    void plan_step();
    bool reserve_blocks();
    void preempt_newest();
    void run_step();
    // Candidates per row of the step's top-logits readout; 0 when a sequence needs whole rows.
    int32_t readout_size() const;
    // Draws `s`'s next token from its output row: whole logits, or the readout's k candidates.
    int32_t draw(Sequence& s, std::span<const float> logits, std::span<const sampling::TokenLogit> top);
    // Takes a drawn token: stream it, then finish the sequence on a stop condition.
    void accept(Sequence& s, int32_t token);
    void finish(Sequence& s, FinishReason reason);
    void fail(Sequence& s, const std::string& message);
    void release(Sequence& s, bool keep_cached);
    void remove_finished();
    void end_all(FinishReason reason);
    void publish_stats();

    std::unique_ptr<Context> ctx_;
    const tok::Tokenizer& tokenizer_;
    const int32_t n_ctx_;
    const int32_t n_parallel_;
    const int32_t n_batch_;
    const int32_t max_queue_;
    const int32_t n_cached_max_;
    const int32_t min_prefix_reuse_;
    const int32_t n_vocab_;

    // Shared with submitters (guarded by signal_->mutex).
    std::shared_ptr<SchedulerSignal> signal_;
    std::vector<std::unique_ptr<Sequence>> incoming_;
    bool stop_ = false;
    bool cancel_all_ = false;
    std::atomic<bool> closed_{false};
    std::atomic<int32_t> n_active_{0};

    // Engine thread only.
    std::deque<std::unique_ptr<Sequence>> waiting_;
    std::vector<std::unique_ptr<Sequence>> running_;  // in admission order
    std::vector<Slot> slots_;
    std::vector<PlanEntry> plan_;
    Batch batch_;
    std::vector<sampling::LogitAdjust> adjust_;  // the step's logit changes, row by output row
    uint64_t clock_ = 0;  // admission / LRU counter

    // Published stats.
    struct AtomicStats {
        std::atomic<int32_t> n_running{0}, n_waiting{0}, n_cached_seqs{0};
        std::atomic<int32_t> kv_blocks_used{0}, kv_blocks_total{0};
        std::atomic<uint64_t> n_steps{0}, n_preemptions{0}, prompt_tokens_computed{0},
            prompt_tokens_reused{0}, tokens_generated{0};
    } stats_;

    std::thread thread_;
};

}  // namespace rf::engine
