// Layer placement over backends (see placement.h).
#include "model/placement.h"

#include "core/check.h"
#include "gguf/tensor_names.h"

namespace rf::model {

Placement Placement::single(engine::Backend& backend, int32_t n_layer) {
    Placement p;
    p.stages_.push_back({&backend, 0, n_layer});
    return p;
}

Placement Placement::split(engine::Backend& first, engine::Backend& rest, int32_t n_first,
                           int32_t n_layer) {
    RF_CHECK(n_first >= 0 && n_first <= n_layer);
    if (n_first == 0) return single(rest, n_layer);
    if (n_first == n_layer) return single(first, n_layer);
    Placement p;
    p.stages_.push_back({&first, 0, n_first});
    p.stages_.push_back({&rest, n_first, n_layer});
    return p;
}

size_t Placement::stage_of_layer(int32_t il) const {
    for (size_t i = 0; i < stages_.size(); ++i) {
        if (il < stages_[i].layer_end) return i;
    }
    return stages_.size() - 1;
}

engine::Backend& Placement::backend_for_tensor(std::string_view name) const {
    if (const int32_t il = gguf::tensor_layer(name); il >= 0)
        return *stages_[stage_of_layer(il)].backend;
    if (name.starts_with("token_embd.")) return *first().backend;
    return *last().backend;
}

std::string Placement::describe() const {
    if (stages_.size() == 1) return first().backend->name();
    std::string s;
    for (const Stage& st : stages_) {
        if (!s.empty()) s += " + ";
        s += st.backend->name() + " " + std::to_string(st.n_layers()) + " layers";
    }
    return s;
}

}  // namespace rf::model
