// A small SentencePiece-style vocabulary GGUF for synth / quantize tests.
#pragma once

#include <string>

namespace rf::convert::testing {

// Writes tokenizer.* keys (model "llama", tokens, scores, token types, bos/eos ids, a chat
// template) for `n_tokens` tokens to `path`, plus a general.architecture that synth must ignore.
void write_test_vocab(const std::string& path, int n_tokens = 300);

// A fresh path under the test temp dir.
std::string temp_path(const std::string& name);

}  // namespace rf::convert::testing
