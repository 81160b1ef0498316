// Transformer: per-step set-up around the architecture's forward pass.
#include "model/transformer.h"

#include <cmath>

#include "core/check.h"

namespace rf::model {

Transformer::Transformer(gguf::GgufFile file, engine::Backend& backend, const ArchSpec& arch,
                         HParams hp, Weights weights, engine::ModelInfo info)
    : file_(std::move(file)), backend_(backend), arch_(arch), hp_(std::move(hp)),
      weights_(std::move(weights)), info_(std::move(info)) {
    rope_ = hp_.rope_params();
    rope_.freq_factors = weights_.rope_freqs;
    attn_.n_head = hp_.n_head;
    attn_.n_head_kv = hp_.n_head_kv;
    attn_.head_dim_k = hp_.head_dim_k;
    attn_.head_dim_v = hp_.head_dim_v;
    attn_.scale = 1.0f / std::sqrt(static_cast<float>(hp_.head_dim_k));
}

std::unique_ptr<engine::Workspace> Transformer::create_workspace(int32_t max_tokens,
                                                                 int32_t max_outputs) {
    auto a = std::make_unique<Activations>();
    alloc_activations(backend_, hp_, max_tokens, max_outputs, *a);
    return a;
}

Tensor Transformer::forward(engine::Workspace& ws, const engine::BatchInfo& batch) {
    auto* a = dynamic_cast<Activations*>(&ws);
    RF_CHECK_MSG(a != nullptr, "workspace from another model");
    RF_CHECK(batch.n_tokens <= a->x.ne[1]);
    RF_CHECK(static_cast<int64_t>(batch.output_rows.size()) <= a->logits.ne[1]);
    ForwardState s{backend_, hp_, weights_, *a, rope_, attn_, batch.n_tokens,
                   static_cast<int32_t>(batch.output_rows.size())};
    return arch_.forward(s);
}

}  // namespace rf::model
