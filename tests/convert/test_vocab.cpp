// A small SentencePiece-style vocabulary GGUF for synth / quantize tests.
#include "test_vocab.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fmt/format.h>

#include <vector>

#include "gguf/gguf_writer.h"
#include "gguf/keys.h"

namespace rf::convert::testing {

void write_test_vocab(const std::string& path, int n_tokens) {
    namespace k = gguf::keys;
    using gguf::Value;
    std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
    std::vector<int32_t> types = {2, 3, 3};
    for (int b = 0; b < 256 && static_cast<int>(tokens.size()) < n_tokens; ++b) {
        tokens.push_back(fmt::format("<0x{:02X}>", b));
        types.push_back(6);
    }
    while (static_cast<int>(tokens.size()) < n_tokens) {
        tokens.push_back(fmt::format("\xe2\x96\x81w{}", tokens.size()));
        types.push_back(1);
    }
    std::vector<float> scores(tokens.size());
    for (size_t i = 0; i < scores.size(); ++i) scores[i] = -static_cast<float>(i);
    gguf::GgufWriter w;
    w.set(std::string(k::kGeneralArchitecture), Value::string("not-a-model"));
    w.set(std::string(k::kTokenizerModel), Value::string("llama"));
    w.set(std::string(k::kTokenizerTokens), Value::string_array(tokens));
    w.set(std::string(k::kTokenizerScores), Value::f32_array(scores));
    w.set(std::string(k::kTokenizerTokenType), Value::i32_array(types));
    w.set(std::string(k::kTokenizerBosId), Value::u32(1));
    w.set(std::string(k::kTokenizerEosId), Value::u32(2));
    w.set(std::string(k::kTokenizerChatTemplate), Value::string("{{ bos_token }}"));
    ASSERT_TRUE(w.write_file(path).is_ok());
}

std::string temp_path(const std::string& name) {
    // The process id keeps tests that ctest runs in parallel off each other's files.
    return fmt::format("{}/rf_convert_{}_{}", ::testing::TempDir(), ::getpid(), name);
}

}  // namespace rf::convert::testing
