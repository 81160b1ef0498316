// Small valid GGUF files for tests and fuzz seeds, built with GgufWriter.
#pragma once

#include <cstdint>
#include <vector>

#include "gguf/gguf_writer.h"

namespace rf::gguf::testing {

// Metadata of every value type (scalars, strings, arrays, nested arrays) and no tensors.
GgufWriter metadata_sample();
// A tiny LLaMA-like file: general.* / llama.* / tokenizer.* keys and a few tensors of
// F32, F16, Q4_0 and Q8_0 types, with deterministic contents.
GgufWriter model_sample(uint32_t alignment = 32);
// `n` deterministic pseudo-random bytes.
std::vector<uint8_t> pattern_bytes(size_t n, uint32_t seed);

}  // namespace rf::gguf::testing
