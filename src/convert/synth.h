// Random-weight LLaMA-family models of real shapes (`rocmforge synth`): exact llama.cpp tensor
// names and metadata, vocabulary copied from a vocab GGUF, weights streamed to disk.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "convert/quantize_model.h"
#include "core/status.h"
#include "gguf/file_type.h"

namespace rf::convert {

// One model shape. head_dim = n_embd / n_head.
struct SynthShape {
    std::string_view name;
    std::string_view arch;  // "llama" or "qwen2"
    int n_embd;
    int n_layer;
    int n_head;
    int n_head_kv;
    int n_ff;
    int n_vocab;  // replaced by the vocabulary's size when they differ
    int n_ctx;
    float rope_freq_base;
    float rms_eps;
    bool qkv_bias;         // attn_q/k/v.bias tensors (qwen2)
    bool tied_embeddings;  // no output.weight: token_embd is reused (qwen2-0.5b)
};

// tiny, tinyllama-1.1b, llama2-7b, llama3-8b, qwen2-0.5b, tiny-qwen2.
std::span<const SynthShape> synth_shapes();
const SynthShape* find_synth_shape(std::string_view name);

struct SynthOptions {
    std::string shape;
    gguf::FileType ftype = gguf::FileType::kMostlyQ4_0;
    std::string vocab_path;  // a GGUF whose tokenizer.* keys are copied
    std::string out_path;
    uint64_t seed = 0;
    int n_threads = 0;  // <= 0: all hardware threads
};

// Writes the model; the weights depend only on (shape, seed), not on the thread count.
Result<ConvertReport> synth_model(const SynthOptions& options);

}  // namespace rf::convert
