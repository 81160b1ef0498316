// Transformer: a loaded decoder-only model (hparams + weights + its architecture's forward),
// implementing engine::Model.
#pragma once

#include <memory>

#include "engine/model_api.h"
#include "gguf/gguf_file.h"
#include "model/arch.h"
#include "model/hparams.h"
#include "model/placement.h"
#include "model/weights.h"

namespace rf::model {

// Runs the architecture's forward pass stage by stage (placement.h): each stage on its backend
// with its own activations, the residual stream copied through host memory between stages.
class Transformer final : public engine::Model {
public:
    Transformer(gguf::GgufFile file, Placement placement, const ArchSpec& arch, HParams hp,
                Weights weights, engine::ModelInfo info);

    const engine::ModelInfo& info() const override { return info_; }
    std::string placement() const override { return placement_.describe(); }
    Status alloc_kv(const engine::KvLayout& layout) override;
    void copy_kv_block(int32_t src, int32_t dst) override;
    std::unique_ptr<engine::Workspace> create_workspace(int32_t max_tokens,
                                                        int32_t max_outputs) override;
    void set_batch(const engine::BatchInfo& batch) override;
    Tensor forward(engine::Workspace& ws, const engine::BatchInfo& batch) override;
    void read_logits(const Tensor& logits, std::span<float> host) override;
    void read_top_logits(Tensor& logits, int32_t k, std::span<const sampling::LogitAdjust> adjust,
                         std::span<sampling::TokenLogit> host) override;
    void finish_step() override;

    const HParams& hparams() const { return hp_; }

private:
    gguf::GgufFile file_;  // keeps the mapping behind zero-copy weights alive
    Placement placement_;
    const ArchSpec& arch_;
    HParams hp_;
    Weights weights_;
    engine::ModelInfo info_;
    std::vector<engine::RopeParams> rope_;  // per stage (its backend's frequency factors)
    engine::AttentionParams attn_;
};

}  // namespace rf::model
