// Where a model runs: consecutive stages of layers, each on one backend. A model that fits one
// device has a single stage; hybrid offload puts the first layers on the GPU and the rest on
// the CPU, the residual stream crossing once per stage boundary. The first stage also looks up
// the embeddings; the last applies the output norm and LM head.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/backend.h"

namespace rf::model {

struct Stage {
    engine::Backend* backend = nullptr;  // not owned
    int32_t layer_begin = 0;             // layers [layer_begin, layer_end)
    int32_t layer_end = 0;
    int32_t n_layers() const { return layer_end - layer_begin; }
};

class Placement {
  public:
    // Every layer on `backend`.
    static Placement single(engine::Backend& backend, int32_t n_layer);
    // Layers [0, n_first) on `first`, the rest on `rest`; a stage without layers is dropped
    // (n_first = 0: all on `rest`; n_first = n_layer: all on `first`).
    static Placement split(engine::Backend& first, engine::Backend& rest, int32_t n_first,
                           int32_t n_layer);

    const std::vector<Stage>& stages() const { return stages_; }
    const Stage& first() const { return stages_.front(); }
    const Stage& last() const { return stages_.back(); }
    int32_t n_layer() const { return stages_.back().layer_end; }
    // The stage running layer `il`.
    size_t stage_of_layer(int32_t il) const;
    // The backend a GGUF tensor belongs on: "blk.N.*" with layer N, token_embd with the first
    // stage, everything else (output norm, LM head) with the last.
    engine::Backend& backend_for_tensor(std::string_view name) const;
    // "CPU" or "CUDA (NVIDIA H200) 16 layers + CPU 16 layers".
    std::string describe() const;

  private:
    std::vector<Stage> stages_;
};

}  // namespace rf::model
