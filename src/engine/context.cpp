// Context: validates a Batch, reserves its KV slots, runs it in steps and collects logits rows.
#include "engine/context.h"

#include <algorithm>
#include <cstring>

#include "core/check.h"
#include "core/log.h"

namespace rf::engine {

Result<std::unique_ptr<Context>> Context::create(Model& model, const ContextParams& params) {
    const ModelInfo& info = model.info();
    int32_t n_ctx = params.n_ctx;
    if (n_ctx <= 0) n_ctx = default_n_ctx(info.n_ctx_train);
    if (params.n_batch <= 0 || params.n_seq_max <= 0 || params.block_size <= 0) {
        return error("context: n_batch, n_seq_max and block_size must be positive");
    }
    if (params.kv_type != quant::GgmlType::kF16 && params.kv_type != quant::GgmlType::kF32) {
        return error("context: KV cache type must be f16 or f32");
    }
    const int64_t kv_tokens =
        params.kv_tokens > 0 ? params.kv_tokens : int64_t{n_ctx} * params.n_seq_max;
    const int64_t n_blocks = (kv_tokens + params.block_size - 1) / params.block_size;
    if (n_blocks > (int64_t{1} << 30) / params.block_size) {
        return error("context: KV cache of {} tokens is too large", kv_tokens);
    }
    KvLayout layout;
    layout.n_layer = info.n_layer;
    layout.n_blocks = static_cast<int32_t>(n_blocks);
    layout.block_size = params.block_size;
    layout.n_head_kv = info.n_head_kv;
    layout.head_dim_k = info.head_dim_k;
    layout.head_dim_v = info.head_dim_v;
    layout.type = params.kv_type;
    RF_RETURN_IF_ERROR(model.alloc_kv(layout));

    const int32_t n_batch = std::min(params.n_batch, n_ctx * params.n_seq_max);
    const int32_t n_out = params.n_outputs_max > 0 ? std::min(params.n_outputs_max, n_batch)
                                                   : n_batch;
    auto ctx = std::unique_ptr<Context>(new Context(
        model, n_ctx, n_batch, n_out,
        KvCache(static_cast<int32_t>(n_blocks), params.block_size, params.n_seq_max)));
    ctx->workspace_ = model.create_workspace(n_batch, n_out);
    log::debug("context: n_ctx {}, n_batch {}, {} KV blocks of {} tokens", n_ctx, n_batch,
               n_blocks, params.block_size);
    return ctx;
}

Context::Context(Model& model, int32_t n_ctx, int32_t n_batch, int32_t n_outputs_max, KvCache kv)
    : model_(model), n_ctx_(n_ctx), n_batch_(n_batch), n_outputs_max_(n_outputs_max),
      kv_(std::move(kv)), seq_tokens_(static_cast<size_t>(kv_.max_seqs())) {}

std::span<const int32_t> Context::seq_tokens(int32_t seq) const {
    RF_CHECK(kv_.valid_seq(seq));
    return seq_tokens_[static_cast<size_t>(seq)];
}

void Context::truncate(int32_t seq, int32_t n) {
    RF_CHECK(kv_.valid_seq(seq));
    auto& tokens = seq_tokens_[static_cast<size_t>(seq)];
    if (n < static_cast<int32_t>(tokens.size())) tokens.resize(static_cast<size_t>(std::max(n, 0)));
    kv_.truncate(seq, n);
}

void Context::clear() {
    kv_.clear();
    for (auto& t : seq_tokens_) t.clear();
}

Status Context::fork(int32_t src, int32_t dst) {
    RF_RETURN_IF_ERROR(kv_.fork(src, dst));
    if (src != dst) seq_tokens_[static_cast<size_t>(dst)] = seq_tokens_[static_cast<size_t>(src)];
    return Status::ok();
}

Status Context::validate(const Batch& batch) {
    const int32_t n = batch.size();
    if (batch.seq_ids.size() != batch.tokens.size() || batch.positions.size() != batch.tokens.size() ||
        batch.want_logits.size() != batch.tokens.size()) {
        return error("batch: tokens, seq_ids, positions and want_logits differ in length");
    }
    std::vector<int32_t>& next = next_pos_;
    next.assign(static_cast<size_t>(kv_.max_seqs()), -1);
    for (int32_t i = 0; i < n; ++i) {
        const int32_t token = batch.tokens[static_cast<size_t>(i)];
        const int32_t seq = batch.seq_ids[static_cast<size_t>(i)];
        const int32_t pos = batch.positions[static_cast<size_t>(i)];
        if (token < 0 || token >= n_vocab()) {
            return error("batch token {}: id {} out of range [0, {})", i, token, n_vocab());
        }
        if (!kv_.valid_seq(seq)) {
            return error("batch token {}: sequence id {} out of range [0, {})", i, seq,
                         kv_.max_seqs());
        }
        int32_t& expected = next[static_cast<size_t>(seq)];
        if (expected < 0) expected = kv_.seq_length(seq);
        if (pos != expected) {
            return error("batch token {}: position {} of sequence {} must be {}", i, pos, seq,
                         expected);
        }
        if (pos >= n_ctx_) {
            return error("sequence {} reached the context size ({} tokens)", seq, n_ctx_);
        }
        ++expected;
    }
    int64_t needed = 0;
    for (int32_t seq = 0; seq < kv_.max_seqs(); ++seq) {
        if (next[static_cast<size_t>(seq)] >= 0) {
            needed += kv_.blocks_needed(seq, next[static_cast<size_t>(seq)]);
        }
    }
    if (needed > kv_.n_blocks_free()) {
        return error("KV cache full: the batch needs {} blocks, {} free", needed,
                     kv_.n_blocks_free());
    }
    return Status::ok();
}

Result<std::span<const float>> Context::decode(const Batch& batch) {
    RF_RETURN_IF_ERROR(validate(batch));
    const size_t n_values = static_cast<size_t>(batch.n_outputs()) * static_cast<size_t>(n_vocab());
    if (logits_.size() < n_values) logits_.resize(n_values);
    RF_RETURN_IF_ERROR(run_batch(batch, Readout{}));
    return std::span<const float>(logits_.data(), n_values);
}

Result<std::span<const sampling::TokenLogit>> Context::decode_top(const Batch& batch, int32_t k,
                                                                  std::span<const sampling::LogitAdjust> adjust) {
    RF_RETURN_IF_ERROR(validate(batch));
    if (k < 1 || k > std::min(n_vocab(), sampling::kMaxTopLogits)) {
        return error("top-logits readout of {} per row: must be in [1, {}]", k,
                     std::min(n_vocab(), sampling::kMaxTopLogits));
    }
    for (const sampling::LogitAdjust& a : adjust) {
        if (a.row < 0 || a.row >= batch.n_outputs() || a.id < 0 || a.id >= n_vocab()) {
            return error("logit change for row {}, token {}: outside {} rows of {} tokens", a.row, a.id,
                         batch.n_outputs(), n_vocab());
        }
    }
    const size_t n_values = static_cast<size_t>(batch.n_outputs()) * static_cast<size_t>(k);
    if (top_.size() < n_values) top_.resize(n_values);
    RF_RETURN_IF_ERROR(run_batch(batch, Readout{k, adjust}));
    return std::span<const sampling::TokenLogit>(top_.data(), n_values);
}

Status Context::run_batch(const Batch& batch, const Readout& readout) {
    int32_t begin = 0;
    size_t out_done = 0;
    while (begin < batch.size()) {
        int32_t end = begin;
        int32_t outs = 0;
        while (end < batch.size() && end - begin < n_batch_) {
            const int32_t w = batch.want_logits[static_cast<size_t>(end)];
            if (outs + w > n_outputs_max_) break;
            outs += w;
            ++end;
        }
        RF_RETURN_IF_ERROR(run_step(batch, begin, end, out_done, readout));
        out_done += static_cast<size_t>(outs);
        begin = end;
    }
    return Status::ok();
}

Status Context::run_step(const Batch& batch, int32_t begin, int32_t end, size_t out_first, const Readout& readout) {
    const int32_t n = end - begin;
    seq_list_.clear();
    token_seq_.assign(static_cast<size_t>(n), 0);
    output_rows_.clear();
    for (int32_t i = 0; i < n; ++i) {
        const size_t bi = static_cast<size_t>(begin + i);
        const int32_t seq = batch.seq_ids[bi];
        auto it = std::find(seq_list_.begin(), seq_list_.end(), seq);
        token_seq_[static_cast<size_t>(i)] = static_cast<int32_t>(it - seq_list_.begin());
        if (it == seq_list_.end()) seq_list_.push_back(seq);
        if (batch.want_logits[bi]) output_rows_.push_back(i);
    }
    // Reserve slots: each sequence grows to its last position in this step + 1.
    copies_.clear();
    for (int32_t i = 0; i < n; ++i) {
        const size_t bi = static_cast<size_t>(begin + i);
        RF_RETURN_IF_ERROR(kv_.grow(batch.seq_ids[bi], batch.positions[bi] + 1, copies_));
    }
    for (const BlockCopy& c : copies_) model_.copy_kv_block(c.src, c.dst);
    slots_.resize(static_cast<size_t>(n));
    for (int32_t i = 0; i < n; ++i) {
        const size_t bi = static_cast<size_t>(begin + i);
        slots_[static_cast<size_t>(i)] = kv_.slot(batch.seq_ids[bi], batch.positions[bi]);
    }
    table_offsets_.assign(1, 0);
    tables_.clear();
    for (int32_t seq : seq_list_) {
        auto table = kv_.block_table(seq);
        tables_.insert(tables_.end(), table.begin(), table.end());
        table_offsets_.push_back(static_cast<int32_t>(tables_.size()));
    }
    BatchInfo info;
    info.n_tokens = n;
    info.tokens = std::span<const int32_t>(batch.tokens).subspan(static_cast<size_t>(begin), static_cast<size_t>(n));
    info.positions = std::span<const int32_t>(batch.positions).subspan(static_cast<size_t>(begin), static_cast<size_t>(n));
    info.kv_slots = slots_;
    info.token_seq = token_seq_;
    info.output_rows = output_rows_;
    info.n_seqs = static_cast<int32_t>(seq_list_.size());
    info.block_table_offsets = table_offsets_;
    info.block_tables = tables_;

    model_.set_batch(info);
    Tensor logits = model_.forward(*workspace_, info);
    const size_t n_out = output_rows_.size();
    if (n_out > 0 && readout.k == 0) {
        const auto width = static_cast<size_t>(n_vocab());
        model_.read_logits(logits, std::span<float>(logits_).subspan(out_first * width, n_out * width));
    } else if (n_out > 0) {
        step_adjust_.clear();
        for (sampling::LogitAdjust a : readout.adjust) {
            const auto row = static_cast<size_t>(a.row);
            if (row < out_first || row >= out_first + n_out) continue;
            a.row = static_cast<int32_t>(row - out_first);
            step_adjust_.push_back(a);
        }
        const auto k = static_cast<size_t>(readout.k);
        model_.read_top_logits(logits, readout.k, step_adjust_, std::span(top_).subspan(out_first * k, n_out * k));
    }
    model_.finish_step();
    for (int32_t i = 0; i < n; ++i) {
        const size_t bi = static_cast<size_t>(begin + i);
        seq_tokens_[static_cast<size_t>(batch.seq_ids[bi])].push_back(batch.tokens[bi]);
    }
    return Status::ok();
}

}  // namespace rf::engine
