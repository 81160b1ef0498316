// Hugging Face tokenizer files -> GGUF tokenizer metadata (tokenizer.ggml.*, chat template).
// Reads tokenizer.json (BPE), tokenizer_config.json and chat_template.jinja when present.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "gguf/value.h"
#include "hf/hf_config.h"

namespace rf::hf {

struct TokenizerMetadata {
    std::vector<std::pair<std::string, gguf::Value>> entries;  // key -> value, in writing order
    std::vector<std::string> warnings;
    std::string summary;  // one line for the log: "gpt2 BPE, 4096 tokens, 3839 merges, pre gpt-2"
};

// The llama.cpp tokenizer.ggml.pre name for a tokenizer.json pre_tokenizer section (JSON text),
// from its split regexes: "gpt-2", "llama-bpe", "qwen2", or "default" when not recognised.
std::string detect_pre_tokenizer(const std::string& pre_tokenizer_json);

// Reads the tokenizer files of `dir`. Without a usable tokenizer.json, returns the minimal
// vocabulary (with a warning) so the converted file still loads.
Result<TokenizerMetadata> import_tokenizer(const std::string& dir, const HfConfig& config);

// A vocabulary of `n_vocab` tokens: the 256 byte tokens of byte-level BPE (no merges), then
// "[PAD<i>]" placeholders. For checkpoints without tokenizer files (ids in, logits out).
TokenizerMetadata minimal_vocab(uint32_t n_vocab, const HfConfig& config);

}  // namespace rf::hf
