// The continuous-batching engine loop: admission (prefix reuse, free blocks), step planning
// (decodes first, then prefill chunks within a token budget), preemption when the KV pool runs
// out, sampling and streaming of each sequence's text.
#include "engine/scheduler.h"

#include <algorithm>

#include "core/check.h"
#include "core/log.h"
#include "sampling/stop_string_matcher.h"

namespace rf::engine {

struct Scheduler::Sequence {
    Sequence(std::shared_ptr<RequestHandle> h, int32_t idx, SequenceParams p,
             const tok::Tokenizer& tokenizer)
        : handle(std::move(h)), index(idx), params(std::move(p)),
          tokens(std::move(params.prompt)), n_prompt(static_cast<int32_t>(tokens.size())),
          sampler(params.sampling), decoder(tokenizer), matcher(params.stop) {}

    std::shared_ptr<RequestHandle> handle;
    int32_t index;
    SequenceParams params;       // params.prompt moved into `tokens`
    std::vector<int32_t> tokens; // prompt, then generated ids
    int32_t n_prompt;
    int32_t n_generated = 0;
    int32_t n_cached = 0;        // prompt tokens reused at first admission
    bool admitted_once = false;
    bool done = false;
    int32_t slot = -1;           // KV sequence id while running
    int32_t n_past = 0;          // tokens[0, n_past) are in the KV cache
    uint64_t admit_order = 0;
    sampling::Sampler sampler;
    tok::StreamingDecoder decoder;
    sampling::StopStringMatcher matcher;
    sampling::SampleLogprobs logprobs;  // scratch

    int32_t pending() const { return static_cast<int32_t>(tokens.size()) - n_past; }
};

namespace {

bool same_prompt(const Scheduler::Sequence& a, const Scheduler::Sequence& b);

}  // namespace

// ---- signal and handle ----------------------------------------------------------------------

void SchedulerSignal::notify() {
    {
        std::lock_guard<std::mutex> lock(mutex);
        pending = true;
    }
    cv.notify_one();
}

RequestHandle::RequestHandle(std::shared_ptr<SchedulerSignal> signal, int32_t n_sequences)
    : signal_(std::move(signal)), n_sequences_(n_sequences), submit_time_(SteadyClock::now()),
      n_open_(n_sequences) {}

void RequestHandle::wait(std::chrono::milliseconds timeout, std::vector<SequenceEvent>& out) {
    out.clear();
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait_for(lock, timeout, [&] { return !events_.empty() || n_open_ == 0; });
    out.swap(events_);
}

bool RequestHandle::finished() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return n_open_ == 0 && events_.empty();
}

void RequestHandle::cancel() {
    if (!cancelled_.exchange(true)) signal_->notify();
}

void RequestHandle::push(SequenceEvent event) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (event.kind != SequenceEvent::Kind::kToken) {
            RF_CHECK(n_open_ > 0);
            --n_open_;
        }
        events_.push_back(std::move(event));
    }
    cv_.notify_all();
}

// ---- construction and submission ------------------------------------------------------------

Result<std::unique_ptr<Scheduler>> Scheduler::create(Model& model, const tok::Tokenizer& tokenizer,
                                                     const SchedulerParams& p) {
    if (p.n_parallel <= 0 || p.n_batch <= 0 || p.block_size <= 0 || p.max_queue < 0) {
        return error("scheduler: parallel, batch and block size must be positive, the queue >= 0");
    }
    const ModelInfo& info = model.info();
    int32_t n_ctx = p.n_ctx;
    if (n_ctx <= 0) n_ctx = default_n_ctx(info.n_ctx_train);
    const int32_t n_cached = p.n_cached_seqs < 0 ? p.n_parallel : p.n_cached_seqs;
    ContextParams cp;
    cp.n_ctx = n_ctx;
    cp.n_batch = p.n_batch;
    cp.n_seq_max = p.n_parallel + n_cached;
    cp.kv_tokens = std::max<int64_t>(p.kv_tokens > 0 ? p.kv_tokens : int64_t{n_ctx} * p.n_parallel,
                                     n_ctx);
    cp.block_size = p.block_size;
    cp.n_outputs_max = p.n_parallel;  // at most one logits row per running sequence and step
    RF_ASSIGN_OR_RETURN(std::unique_ptr<Context> ctx, Context::create(model, cp));
    SchedulerParams resolved = p;
    resolved.n_ctx = n_ctx;
    resolved.n_cached_seqs = n_cached;
    auto s = std::unique_ptr<Scheduler>(new Scheduler(std::move(ctx), tokenizer, resolved));
    log::info("scheduler: {} parallel sequences, context {} tokens, KV pool {} blocks of {} tokens, "
              "step budget {} tokens", s->n_parallel_, s->n_ctx_, s->ctx_->kv().n_blocks_total(),
              s->ctx_->kv().block_size(), s->n_batch_);
    s->publish_stats();
    s->thread_ = std::thread([raw = s.get()] { raw->run(); });
    return s;
}

Scheduler::Scheduler(std::unique_ptr<Context> ctx, const tok::Tokenizer& tokenizer,
                     const SchedulerParams& p)
    : ctx_(std::move(ctx)), tokenizer_(tokenizer), n_ctx_(ctx_->n_ctx()),
      n_parallel_(p.n_parallel), n_batch_(ctx_->n_batch()), max_queue_(p.max_queue),
      n_cached_max_(p.n_cached_seqs), min_prefix_reuse_(std::max(1, p.min_prefix_reuse)),
      n_vocab_(ctx_->n_vocab()), signal_(std::make_shared<SchedulerSignal>()),
      slots_(static_cast<size_t>(ctx_->kv().max_seqs())) {}

Scheduler::~Scheduler() {
    {
        std::lock_guard<std::mutex> lock(signal_->mutex);
        stop_ = true;
    }
    signal_->cv.notify_one();
    if (thread_.joinable()) thread_.join();
    // Submissions that never reached the engine thread still owe their callers a final event.
    for (auto& s : incoming_) finish(*s, FinishReason::kCancelled);
    incoming_.clear();
}

Submission Scheduler::submit(std::vector<SequenceParams> sequences) {
    Submission out;
    auto refuse = [&out](SubmitError e, std::string message) {
        out.error = e;
        out.message = std::move(message);
        return std::move(out);
    };
    if (sequences.empty()) return refuse(SubmitError::kInvalid, "no sequences to generate");
    for (const SequenceParams& p : sequences) {
        if (p.prompt.empty()) return refuse(SubmitError::kInvalid, "the prompt is empty (no tokens)");
        if (static_cast<int64_t>(p.prompt.size()) >= n_ctx_) {
            return refuse(SubmitError::kInvalid,
                          fmt::format("the prompt is {} tokens but the context holds {} (the prompt "
                                      "must leave room for at least one generated token)",
                                      p.prompt.size(), n_ctx_));
        }
        for (int32_t id : p.prompt) {
            if (id < 0 || id >= n_vocab_) {
                return refuse(SubmitError::kInvalid,
                              fmt::format("token id {} is out of range [0, {})", id, n_vocab_));
            }
        }
    }
    const int32_t n = static_cast<int32_t>(sequences.size());
    const int32_t capacity = n_parallel_ + max_queue_;
    if (n > capacity) {
        return refuse(SubmitError::kInvalid,
                      fmt::format("the request asks for {} sequences; this server runs at most {} "
                                  "at once", n, capacity));
    }
    if (closed_.load()) return refuse(SubmitError::kShuttingDown, "the server is shutting down");
    int32_t active = n_active_.load();
    do {
        if (active + n > capacity) {
            return refuse(SubmitError::kQueueFull,
                          fmt::format("the server is busy ({} sequences running or queued, limit "
                                      "{}); retry later", active, capacity));
        }
    } while (!n_active_.compare_exchange_weak(active, active + n));

    out.handle = std::make_shared<RequestHandle>(signal_, n);
    std::vector<std::unique_ptr<Sequence>> seqs;
    seqs.reserve(sequences.size());
    for (int32_t i = 0; i < n; ++i) {
        seqs.push_back(std::make_unique<Sequence>(out.handle, i, std::move(sequences[static_cast<size_t>(i)]),
                                                  tokenizer_));
    }
    {
        std::lock_guard<std::mutex> lock(signal_->mutex);
        for (auto& s : seqs) incoming_.push_back(std::move(s));
        signal_->pending = true;
    }
    signal_->cv.notify_one();
    return out;
}

void Scheduler::close() { closed_.store(true); }

void Scheduler::cancel_all() {
    {
        std::lock_guard<std::mutex> lock(signal_->mutex);
        cancel_all_ = true;
        signal_->pending = true;
    }
    signal_->cv.notify_one();
}

SchedulerStats Scheduler::stats() const {
    SchedulerStats s;
    s.n_running = stats_.n_running.load();
    s.n_waiting = stats_.n_waiting.load();
    s.n_cached_seqs = stats_.n_cached_seqs.load();
    s.kv_blocks_used = stats_.kv_blocks_used.load();
    s.kv_blocks_total = stats_.kv_blocks_total.load();
    s.n_steps = stats_.n_steps.load();
    s.n_preemptions = stats_.n_preemptions.load();
    s.prompt_tokens_computed = stats_.prompt_tokens_computed.load();
    s.prompt_tokens_reused = stats_.prompt_tokens_reused.load();
    s.tokens_generated = stats_.tokens_generated.load();
    return s;
}

// ---- the engine thread ----------------------------------------------------------------------

void Scheduler::run() {
    while (take_incoming()) {
        reap_cancelled();
        admit();
        if (running_.empty()) {
            // Unreachable while the pool holds n_ctx tokens; never spin on a stuck head.
            if (!waiting_.empty()) {
                fail(*waiting_.front(), "the request could not be scheduled (KV cache too small)");
                waiting_.pop_front();
            }
            publish_stats();
            continue;
        }
        run_step();
        publish_stats();
    }
    end_all(FinishReason::kCancelled);
    publish_stats();
}

bool Scheduler::take_incoming() {
    bool cancel = false;
    {
        std::unique_lock<std::mutex> lock(signal_->mutex);
        if (running_.empty() && waiting_.empty() && incoming_.empty() && !stop_ && !cancel_all_) {
            signal_->cv.wait(lock, [&] {
                return stop_ || cancel_all_ || signal_->pending || !incoming_.empty();
            });
        }
        signal_->pending = false;
        if (stop_) return false;
        for (auto& s : incoming_) waiting_.push_back(std::move(s));
        incoming_.clear();
        cancel = cancel_all_;
        cancel_all_ = false;
    }
    if (cancel) end_all(FinishReason::kCancelled);
    return true;
}

void Scheduler::reap_cancelled() {
    for (auto& s : running_) {
        if (!s->done && s->handle->cancelled()) finish(*s, FinishReason::kCancelled);
    }
    remove_finished();
    for (auto it = waiting_.begin(); it != waiting_.end();) {
        if ((*it)->handle->cancelled()) {
            finish(**it, FinishReason::kCancelled);
            it = waiting_.erase(it);
        } else {
            ++it;
        }
    }
}

void Scheduler::admit() {
    while (!waiting_.empty() && static_cast<int32_t>(running_.size()) < n_parallel_) {
        if (!admit_one(*waiting_.front())) break;
        running_.push_back(std::move(waiting_.front()));
        waiting_.pop_front();
    }
}

// Gives `s` a KV slot holding the longest cached prefix of its tokens. False (changing nothing
// the sequence owns) when no slot or not enough blocks are free yet.
bool Scheduler::admit_one(Sequence& s) {
    // Siblings with the same prompt wait until one of them has prefilled it, then share it.
    for (const auto& r : running_) {
        if (r->handle == s.handle && r->n_past + 1 < r->n_prompt && same_prompt(*r, s)) return false;
    }
    int32_t src = -1;
    size_t common = 0;
    const size_t limit = s.tokens.size() - 1;  // the last token is recomputed for its logits
    for (int32_t slot = 0; slot < static_cast<int32_t>(slots_.size()); ++slot) {
        if (slots_[static_cast<size_t>(slot)].state == SlotState::kFree) continue;
        auto cached = ctx_->seq_tokens(slot);
        const size_t m = std::min(cached.size(), limit);
        size_t n = 0;
        while (n < m && cached[n] == s.tokens[n]) ++n;
        if (n > common) {
            common = n;
            src = slot;
        }
    }
    if (common < static_cast<size_t>(min_prefix_reuse_)) {
        src = -1;
        common = 0;
    }
    int32_t slot = find_free_slot(-1);
    if (slot < 0 && evict_lru_cached(src)) slot = find_free_slot(-1);
    if (slot < 0 && src >= 0 && slots_[static_cast<size_t>(src)].state == SlotState::kCached) {
        slot = src;  // reuse the cached sequence in place
    }
    if (slot < 0) return false;
    if (src >= 0 && src != slot) RF_CHECK(ctx_->fork(src, slot).is_ok());
    ctx_->truncate(slot, static_cast<int32_t>(common));
    slots_[static_cast<size_t>(slot)].state = SlotState::kRunning;
    // Admit when the rest of the prompt fits, keeping one block of headroom per running sequence.
    const int32_t need = ctx_->kv().blocks_needed(slot, static_cast<int32_t>(s.tokens.size())) +
                         static_cast<int32_t>(running_.size());
    if (!make_room(need) && !running_.empty()) {
        ctx_->truncate(slot, 0);
        slots_[static_cast<size_t>(slot)].state = SlotState::kFree;
        return false;
    }
    s.slot = slot;
    s.n_past = static_cast<int32_t>(common);
    s.admit_order = ++clock_;
    if (!s.admitted_once) {
        s.admitted_once = true;
        s.n_cached = static_cast<int32_t>(common);
        stats_.prompt_tokens_reused += common;
    }
    return true;
}

int32_t Scheduler::find_free_slot(int32_t keep) const {
    for (int32_t i = 0; i < static_cast<int32_t>(slots_.size()); ++i) {
        if (i != keep && slots_[static_cast<size_t>(i)].state == SlotState::kFree) return i;
    }
    return -1;
}

// Drops the least recently used cached sequence other than `keep`; false when there is none.
bool Scheduler::evict_lru_cached(int32_t keep) {
    int32_t victim = -1;
    for (int32_t i = 0; i < static_cast<int32_t>(slots_.size()); ++i) {
        const Slot& sl = slots_[static_cast<size_t>(i)];
        if (i == keep || sl.state != SlotState::kCached) continue;
        if (victim < 0 || sl.last_used < slots_[static_cast<size_t>(victim)].last_used) victim = i;
    }
    if (victim < 0) return false;
    ctx_->truncate(victim, 0);
    slots_[static_cast<size_t>(victim)].state = SlotState::kFree;
    return true;
}

bool Scheduler::make_room(int32_t blocks) {
    while (ctx_->kv().n_blocks_free() < blocks) {
        if (!evict_lru_cached(-1)) return false;
    }
    return true;
}

// Decodes (one token each) come first so running streams keep their pace; prompt chunks fill
// the rest of the token budget in admission order.
void Scheduler::plan_step() {
    plan_.clear();
    int32_t budget = n_batch_;
    for (const auto& s : running_) {
        if (budget > 0 && s->pending() == 1) {
            plan_.push_back({s.get(), 1, true, s->n_generated == 0});
            --budget;
        }
    }
    for (const auto& s : running_) {
        const int32_t pending = s->pending();
        if (budget > 0 && pending > 1) {
            const int32_t take = std::min(pending, budget);
            plan_.push_back({s.get(), take, take == pending, true});
            budget -= take;
        }
    }
}

// Makes the planned step fit the free blocks: evicts cached prefixes first, then preempts the
// most recently admitted sequences (recomputed later). False when nothing is left to run.
bool Scheduler::reserve_blocks() {
    for (;;) {
        plan_step();
        if (plan_.empty()) return false;
        int64_t need = 0;
        for (const PlanEntry& e : plan_) {
            need += ctx_->kv().blocks_needed(e.seq->slot, e.seq->n_past + e.n_tokens);
        }
        if (need <= ctx_->kv().n_blocks_free()) return true;
        if (evict_lru_cached(-1)) continue;
        if (running_.size() == 1) {
            fail(*running_.front(), "the sequence does not fit the KV cache");
            remove_finished();
            continue;
        }
        preempt_newest();
    }
}

void Scheduler::preempt_newest() {
    auto it = std::max_element(running_.begin(), running_.end(), [](const auto& a, const auto& b) {
        return a->admit_order < b->admit_order;
    });
    Sequence& s = **it;
    ctx_->truncate(s.slot, 0);
    slots_[static_cast<size_t>(s.slot)].state = SlotState::kFree;
    s.slot = -1;
    s.n_past = 0;
    log::debug("scheduler: KV cache full, preempting a sequence of {} tokens", s.tokens.size());
    waiting_.push_front(std::move(*it));
    running_.erase(it);
    ++stats_.n_preemptions;
}

void Scheduler::run_step() {
    if (!reserve_blocks()) return;
    batch_.clear();
    for (const PlanEntry& e : plan_) {
        const Sequence& s = *e.seq;
        for (int32_t i = 0; i < e.n_tokens; ++i) {
            const int32_t pos = s.n_past + i;
            batch_.add(s.tokens[static_cast<size_t>(pos)], s.slot, pos,
                       e.logits && i + 1 == e.n_tokens);
        }
    }
    // Every output row comes back whole, or (when all sequences allow) as its k best logits.
    const int32_t k = readout_size();
    std::span<const float> logits;
    std::span<const sampling::TokenLogit> top;
    Status status;
    if (k > 0) {
        adjust_.clear();
        int32_t row = 0;
        for (const PlanEntry& e : plan_) {
            if (e.logits) e.seq->sampler.logit_adjustments(e.seq->tokens, n_vocab_, row++, adjust_);
        }
        auto r = ctx_->decode_top(batch_, k, adjust_);
        status = r.status();
        if (r) top = *r;
    } else {
        auto r = ctx_->decode(batch_);
        status = r.status();
        if (r) logits = *r;
    }
    if (!status) {
        log::error("scheduler: forward step failed: {}", status.message());
        for (const PlanEntry& e : plan_) fail(*e.seq, "forward step failed: " + status.message());
        remove_finished();
        return;
    }
    ++stats_.n_steps;
    const size_t n_vocab = static_cast<size_t>(n_vocab_);
    const size_t n_top = static_cast<size_t>(k);
    size_t row = 0;
    for (const PlanEntry& e : plan_) {
        Sequence& s = *e.seq;
        s.n_past += e.n_tokens;
        if (e.prefill) stats_.prompt_tokens_computed += static_cast<uint64_t>(e.n_tokens);
        if (!e.logits) continue;
        const int32_t token = k > 0 ? draw(s, {}, top.subspan(row * n_top, n_top))
                                    : draw(s, logits.subspan(row * n_vocab, n_vocab), {});
        ++row;
        accept(s, token);
    }
    remove_finished();
}

int32_t Scheduler::readout_size() const {
    int32_t k = 0;
    for (const PlanEntry& e : plan_) {
        if (!e.logits) continue;
        const int32_t need = e.seq->sampler.top_logits_needed(n_vocab_, e.seq->params.n_logprobs >= 0);
        if (need == 0) return 0;
        k = std::max(k, need);
    }
    return k;
}

int32_t Scheduler::draw(Sequence& s, std::span<const float> logits, std::span<const sampling::TokenLogit> top) {
    const bool want_logprobs = s.params.n_logprobs >= 0;
    const int32_t n_logprobs = want_logprobs ? s.params.n_logprobs : 0;
    sampling::SampleLogprobs* logprobs = want_logprobs ? &s.logprobs : nullptr;
    return top.empty() ? s.sampler.sample(logits, s.tokens, n_logprobs, logprobs)
                       : s.sampler.sample_top(top, n_logprobs, logprobs);
}

void Scheduler::accept(Sequence& s, int32_t token) {
    const bool want_logprobs = s.params.n_logprobs >= 0;
    if (!s.params.ignore_eos && tokenizer_.is_eog(token)) {
        finish(s, FinishReason::kEog);
        return;
    }
    s.tokens.push_back(token);
    ++s.n_generated;
    ++stats_.tokens_generated;
    auto pushed = s.matcher.push(s.decoder.push(token));
    SequenceEvent ev;
    ev.kind = SequenceEvent::Kind::kToken;
    ev.index = s.index;
    ev.token = token;
    ev.text = std::move(pushed.text);
    if (want_logprobs) {
        ev.logprob = s.logprobs.chosen_logprob;
        ev.top = s.logprobs.top;
    }
    ev.time = SteadyClock::now();
    s.handle->push(std::move(ev));
    if (pushed.stopped) {
        finish(s, FinishReason::kStop);
    } else if (s.params.max_tokens >= 0 && s.n_generated >= s.params.max_tokens) {
        finish(s, FinishReason::kLength);
    } else if (static_cast<int32_t>(s.tokens.size()) > n_ctx_) {
        finish(s, FinishReason::kContext);  // the new token has no position left to run at
    }
}

void Scheduler::finish(Sequence& s, FinishReason reason) {
    SequenceEvent ev;
    ev.kind = SequenceEvent::Kind::kFinish;
    if (reason != FinishReason::kStop && reason != FinishReason::kCancelled) {
        auto tail = s.matcher.push(s.decoder.flush());
        ev.text = std::move(tail.text);
        if (tail.stopped) reason = FinishReason::kStop;
        else ev.text += s.matcher.flush();
    }
    ev.index = s.index;
    ev.finish = reason;
    ev.n_prompt = s.n_prompt;
    ev.n_cached = s.n_cached;
    ev.n_generated = s.n_generated;
    ev.time = SteadyClock::now();
    s.handle->push(std::move(ev));
    release(s, reason != FinishReason::kCancelled);
}

void Scheduler::fail(Sequence& s, const std::string& message) {
    SequenceEvent ev;
    ev.kind = SequenceEvent::Kind::kError;
    ev.index = s.index;
    ev.error = message;
    ev.time = SteadyClock::now();
    s.handle->push(std::move(ev));
    release(s, false);
}

// Ends the sequence's hold on the engine. A finished sequence's KV stays as a cached prefix
// (least recently used ones are dropped first); a cancelled or failed one frees its blocks now.
void Scheduler::release(Sequence& s, bool keep_cached) {
    if (s.done) return;
    s.done = true;
    n_active_.fetch_sub(1);
    if (s.slot < 0) return;
    Slot& slot = slots_[static_cast<size_t>(s.slot)];
    if (keep_cached && n_cached_max_ > 0) {
        slot.state = SlotState::kCached;
        slot.last_used = ++clock_;
        int32_t n_cached = 0;
        for (const Slot& sl : slots_) n_cached += sl.state == SlotState::kCached ? 1 : 0;
        if (n_cached > n_cached_max_) evict_lru_cached(s.slot);
    } else {
        ctx_->truncate(s.slot, 0);
        slot.state = SlotState::kFree;
    }
    s.slot = -1;
}

void Scheduler::remove_finished() {
    std::erase_if(running_, [](const std::unique_ptr<Sequence>& s) { return s->done; });
}

void Scheduler::end_all(FinishReason reason) {
    for (auto& s : running_) {
        if (!s->done) finish(*s, reason);
    }
    running_.clear();
    for (auto& s : waiting_) finish(*s, reason);
    waiting_.clear();
}

void Scheduler::publish_stats() {
    int32_t n_cached = 0;
    for (const Slot& sl : slots_) n_cached += sl.state == SlotState::kCached ? 1 : 0;
    stats_.n_running.store(static_cast<int32_t>(running_.size()));
    stats_.n_waiting.store(static_cast<int32_t>(waiting_.size()));
    stats_.n_cached_seqs.store(n_cached);
    stats_.kv_blocks_used.store(ctx_->kv().n_blocks_used());
    stats_.kv_blocks_total.store(ctx_->kv().n_blocks_total());
}

namespace {

bool same_prompt(const Scheduler::Sequence& a, const Scheduler::Sequence& b) {
    return a.n_prompt == b.n_prompt &&
           std::equal(a.tokens.begin(), a.tokens.begin() + a.n_prompt, b.tokens.begin());
}

}  // namespace

}  // namespace rf::engine
