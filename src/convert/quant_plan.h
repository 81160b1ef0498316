// Per-tensor type choice for a quantization preset (Q4_K_M, Q5_K_S, Q8_0, ...), following the
// rules llama.cpp's quantizer uses, so our files mix types the way llama.cpp's do.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "gguf/file_type.h"
#include "gguf/gguf_file.h"
#include "quant/types.h"

namespace rf::convert {

// What the mixing rules need to know about the model.
struct ModelFacts {
    std::string arch;          // general.architecture ("llama", "qwen2", "falcon" ...)
    int n_layer = 0;           // <arch>.block_count
    int n_head = 1;            // <arch>.attention.head_count
    int n_head_kv = 1;         // <arch>.attention.head_count_kv
    int n_expert = 0;          // <arch>.expert_count (0: dense)
    bool tied_output = false;  // no output.weight: token_embd doubles as the output matrix

    int n_gqa() const { return n_head_kv > 0 ? n_head / n_head_kv : 1; }
};

// Reads ModelFacts from a file's metadata and tensor list.
Result<ModelFacts> model_facts(const gguf::GgufFile& file);

// Parses a preset name: file-type names ("Q4_K_M", "q8_0", "F16", "MOSTLY_Q6_K") and the
// llama-quantize aliases "Q3_K", "Q4_K", "Q5_K" (the _M mixes).
Result<gguf::FileType> parse_preset(std::string_view name);

// The choice for one tensor, with the reason when its shape forced a fallback type.
struct TensorChoice {
    quant::GgmlType type;
    std::string note;  // empty, or e.g. "ne[0] 896 is not a multiple of 256 for q4_K -> q5_0"
};

class QuantPlan {
  public:
    // Errors for presets that need an importance matrix or types without a quantizer.
    static Result<QuantPlan> make(gguf::FileType ftype, bool pure, ModelFacts facts);

    gguf::FileType file_type() const { return ftype_; }
    quant::GgmlType default_type() const { return default_type_; }

    // The target type of tensor `name` of shape ne[0..n_dims) now stored as `current`.
    // Tensors that are not quantized (1-D, norms, ...) keep `current`.
    TensorChoice choose(std::string_view name, const std::array<uint64_t, 4>& ne, uint32_t n_dims,
                        quant::GgmlType current) const;

  private:
    QuantPlan(gguf::FileType ftype, bool pure, ModelFacts facts, quant::GgmlType default_type)
        : ftype_(ftype), pure_(pure), facts_(std::move(facts)), default_type_(default_type) {}
    quant::GgmlType mix(std::string_view name, uint64_t ne0, quant::GgmlType type) const;
    quant::GgmlType mix_attn_v(int il, quant::GgmlType type) const;
    quant::GgmlType mix_ffn_down(int il, quant::GgmlType type) const;
    quant::GgmlType mix_attn_output(quant::GgmlType type) const;

    gguf::FileType ftype_;
    bool pure_;
    ModelFacts facts_;
    quant::GgmlType default_type_;
};

// True for tensors a preset converts: 2-D+ weights except norms, MoE routers, position and
// token-type embeddings (they keep their stored type).
bool allows_quantization(std::string_view name, uint32_t n_dims);

}  // namespace rf::convert
