// Transformer: per-step set-up around the architecture's forward pass, stage by stage.
#include "model/transformer.h"

#include <cmath>

#include "core/check.h"

namespace rf::model {
namespace {

// One Activations per stage, and the host copy of the residual stream between stages.
struct StagedActivations : engine::Workspace {
    std::vector<Activations> stages;
    std::vector<float> boundary;  // [n_embd, max_tokens]
};

}  // namespace

Transformer::Transformer(gguf::GgufFile file, Placement placement, const ArchSpec& arch, HParams hp,
                         Weights weights, engine::ModelInfo info)
    : file_(std::move(file)),
      placement_(std::move(placement)),
      arch_(arch),
      hp_(std::move(hp)),
      weights_(std::move(weights)),
      info_(std::move(info)) {
    for (size_t i = 0; i < placement_.stages().size(); ++i) {
        engine::RopeParams rope = hp_.rope_params();
        rope.freq_factors = weights_.rope_freqs[i];
        rope_.push_back(rope);
    }
    attn_.n_head = hp_.n_head;
    attn_.n_head_kv = hp_.n_head_kv;
    attn_.head_dim_k = hp_.head_dim_k;
    attn_.head_dim_v = hp_.head_dim_v;
    attn_.scale = 1.0f / std::sqrt(static_cast<float>(hp_.head_dim_k));
}

Status Transformer::alloc_kv(const engine::KvLayout& layout) {
    RF_CHECK(layout.n_layer == hp_.n_layer);
    for (const Stage& stage : placement_.stages()) {
        engine::KvLayout part = layout;
        part.n_layer = stage.n_layers();
        RF_RETURN_IF_ERROR(stage.backend->alloc_kv(part));
    }
    return Status::ok();
}

void Transformer::copy_kv_block(int32_t src, int32_t dst) {
    for (const Stage& stage : placement_.stages()) stage.backend->copy_kv_block(src, dst);
}

std::unique_ptr<engine::Workspace> Transformer::create_workspace(int32_t max_tokens,
                                                                 int32_t max_outputs) {
    auto ws = std::make_unique<StagedActivations>();
    ws->stages.resize(placement_.stages().size());
    for (size_t i = 0; i < ws->stages.size(); ++i) {
        // Only the last stage computes logits.
        const bool last = i + 1 == ws->stages.size();
        alloc_activations(*placement_.stages()[i].backend, hp_, max_tokens, last ? max_outputs : 0,
                          ws->stages[i]);
    }
    if (ws->stages.size() > 1) ws->boundary.resize(static_cast<size_t>(hp_.n_embd) * max_tokens);
    return ws;
}

void Transformer::set_batch(const engine::BatchInfo& batch) {
    for (const Stage& stage : placement_.stages()) stage.backend->set_batch(batch);
}

Tensor Transformer::forward(engine::Workspace& ws, const engine::BatchInfo& batch) {
    auto* staged = dynamic_cast<StagedActivations*>(&ws);
    RF_CHECK_MSG(staged != nullptr, "workspace from another model");
    const std::vector<Stage>& stages = placement_.stages();
    const size_t n_x = static_cast<size_t>(hp_.n_embd) * static_cast<size_t>(batch.n_tokens);
    Tensor out;
    for (size_t i = 0; i < stages.size(); ++i) {
        Activations& a = staged->stages[i];
        RF_CHECK(batch.n_tokens <= a.x.ne[1]);
        if (i > 0) {
            // The residual stream crosses from the previous stage's backend.
            Tensor x = a.x.first_rows(batch.n_tokens);
            stages[i].backend->write(x, std::span<const float>(staged->boundary.data(), n_x));
        }
        ForwardState s{*stages[i].backend,
                       hp_,
                       weights_,
                       a,
                       rope_[i],
                       attn_,
                       batch.n_tokens,
                       static_cast<int32_t>(batch.output_rows.size()),
                       stages[i].layer_begin,
                       stages[i].layer_end};
        out = arch_.forward(s);
        if (i + 1 < stages.size())
            stages[i].backend->read(out, std::span<float>(staged->boundary.data(), n_x));
    }
    RF_CHECK(static_cast<int64_t>(batch.output_rows.size()) <= staged->stages.back().logits.ne[1]);
    return out;
}

void Transformer::read_logits(const Tensor& logits, std::span<float> host) {
    placement_.last().backend->read(logits, host);
}

void Transformer::read_top_logits(Tensor& logits, int32_t k, std::span<const sampling::LogitAdjust> adjust,
                                  std::span<sampling::TokenLogit> host) {
    placement_.last().backend->read_top_logits(logits, k, adjust, host);
}

void Transformer::finish_step() {
    for (const Stage& stage : placement_.stages()) stage.backend->finish_step();
}

}  // namespace rf::model
