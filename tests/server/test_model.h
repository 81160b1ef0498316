// A tiny random-weight LLaMA model with a real SentencePiece-style vocabulary (byte fallback,
// control tokens, ChatML template) for driving the server end to end in tests.
#pragma once

#include <string>

#include "core/status.h"

namespace rf::testing {

struct ServerModelConfig {
    int n_ctx_train = 1024;
    int n_layer = 2;
    int n_embd = 64;
    unsigned seed = 7;
    bool chat_template = true;
};

// Writes the model to `path`. Vocabulary: <unk> <s> </s> <|im_start|> <|im_end|>, the 256 byte
// tokens, then letters, "▁" and a few words; </s> and <|im_end|> end generation.
Status write_server_test_model(const std::string& path, const ServerModelConfig& config = {});

}  // namespace rf::testing
