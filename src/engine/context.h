// Context: one model's KV cache and scratch; decode(Batch) runs forward steps and returns logits.
// The CLI uses one sequence; the server runs many sequences through the same Context.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/status.h"
#include "engine/batch.h"
#include "engine/kv_cache.h"
#include "engine/model_api.h"

namespace rf::engine {

// Tokens per sequence when none are asked for: the training context, at most 4096.
inline int32_t default_n_ctx(int32_t n_ctx_train) {
    return n_ctx_train > 0 ? std::min(n_ctx_train, 4096) : 4096;
}

struct ContextParams {
    int32_t n_ctx = 0;       // max tokens per sequence; 0 = min(training context, 4096)
    int32_t n_batch = 512;   // max tokens per forward step (larger batches are split)
    int32_t n_seq_max = 1;   // sequence ids 0 .. n_seq_max - 1
    int64_t kv_tokens = 0;   // KV pool size in tokens; 0 = n_ctx * n_seq_max
    int32_t block_size = 16; // tokens per KV block
    int32_t n_outputs_max = 0; // max logits rows per step (0 = n_batch); larger asks are split
    quant::GgmlType kv_type = quant::GgmlType::kF16;
};

class Context {
public:
    static Result<std::unique_ptr<Context>> create(Model& model, const ContextParams& params);

    // Runs `batch`; returns the logits rows of the tokens flagged want_logits, in batch order,
    // n_vocab floats each (valid until the next decode). Rejects bad token ids, sequence ids,
    // positions that do not continue their sequence, and steps past n_ctx or a full cache.
    Result<std::span<const float>> decode(const Batch& batch);
    // As decode(), but each output row comes back as its k largest logits after `adjust` (whose
    // rows count the output rows in batch order): k entries a row, in any order. This is the
    // sampler's top-logits readout (sampling/top_logits.h): a GPU copies back k entries instead
    // of the row. 1 <= k <= min(n_vocab, kMaxTopLogits).
    Result<std::span<const sampling::TokenLogit>> decode_top(const Batch& batch, int32_t k,
                                                             std::span<const sampling::LogitAdjust> adjust);

    // Tokens currently held in the cache for `seq` (prefix reuse, penalties).
    std::span<const int32_t> seq_tokens(int32_t seq) const;
    // Keeps the first n tokens of `seq`; frees the rest of its blocks.
    void truncate(int32_t seq, int32_t n);
    void clear();
    // `dst` continues from a copy of `src` (shared KV blocks, copy-on-write on later writes).
    Status fork(int32_t src, int32_t dst);

    Model& model() { return model_; }
    const ModelInfo& info() const { return model_.info(); }
    KvCache& kv() { return kv_; }
    int32_t n_ctx() const { return n_ctx_; }
    int32_t n_batch() const { return n_batch_; }
    int32_t n_vocab() const { return model_.info().n_vocab; }

private:
    Context(Model& model, int32_t n_ctx, int32_t n_batch, int32_t n_outputs_max, KvCache kv);
    // How a step's output rows come back: whole rows into logits_ (k == 0) or top-k into top_.
    struct Readout {
        int32_t k = 0;
        std::span<const sampling::LogitAdjust> adjust;  // rows numbered over the whole batch
    };
    Status validate(const Batch& batch);
    // Splits `batch` into steps of at most n_batch tokens and n_outputs_max output rows.
    Status run_batch(const Batch& batch, const Readout& readout);
    // Reserves KV for tokens [begin, end) of `batch`, runs them as one step and reads its output
    // rows, the batch's rows [out_first, ...).
    Status run_step(const Batch& batch, int32_t begin, int32_t end, size_t out_first, const Readout& readout);

    Model& model_;
    int32_t n_ctx_;
    int32_t n_batch_;
    int32_t n_outputs_max_;
    KvCache kv_;
    std::unique_ptr<Workspace> workspace_;
    std::vector<std::vector<int32_t>> seq_tokens_;
    std::vector<float> logits_;                 // [n_outputs][n_vocab] of decode()
    std::vector<sampling::TokenLogit> top_;     // [n_outputs][k] of decode_top()
    std::vector<sampling::LogitAdjust> step_adjust_;  // a step's share of the readout's changes
    // Per-step scratch (reused; grows only).
    std::vector<int32_t> slots_, token_seq_, output_rows_, table_offsets_, tables_, seq_list_;
    std::vector<BlockCopy> copies_;
    std::vector<int32_t> next_pos_;
};

}  // namespace rf::engine
