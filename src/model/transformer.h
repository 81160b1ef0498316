// Transformer: a loaded decoder-only model (hparams + weights + its architecture's forward),
// implementing engine::Model.
#pragma once

#include <memory>

#include "engine/model_api.h"
#include "gguf/gguf_file.h"
#include "model/arch.h"
#include "model/hparams.h"
#include "model/weights.h"

namespace rf::model {

class Transformer final : public engine::Model {
public:
    Transformer(gguf::GgufFile file, engine::Backend& backend, const ArchSpec& arch,
                HParams hp, Weights weights, engine::ModelInfo info);

    const engine::ModelInfo& info() const override { return info_; }
    engine::Backend& backend() override { return backend_; }
    std::unique_ptr<engine::Workspace> create_workspace(int32_t max_tokens,
                                                        int32_t max_outputs) override;
    Tensor forward(engine::Workspace& ws, const engine::BatchInfo& batch) override;

    const HParams& hparams() const { return hp_; }

private:
    gguf::GgufFile file_;  // keeps the mapping behind zero-copy weights alive
    engine::Backend& backend_;
    const ArchSpec& arch_;
    HParams hp_;
    Weights weights_;
    engine::ModelInfo info_;
    engine::RopeParams rope_;
    engine::AttentionParams attn_;
};

}  // namespace rf::model
