// Every case of every shared vocabulary vector file: exact ids, decode round trip, and
// streaming decode one token at a time.
#include <gtest/gtest.h>

#include "gguf/gguf_file.h"
#include "test_vectors.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

namespace rf::tok {
namespace {

using testing::load_vector_files;
using testing::shared_vocab_dir;

std::string ids_string(const std::vector<int32_t>& ids) {
    std::string s;
    for (const int32_t id : ids) {
        s += ' ';
        s += std::to_string(id);
    }
    return s;
}

std::string printable(const std::string& text) {
    std::string out;
    for (const char c : text) {
        if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else {
            out += c;
        }
    }
    return out;
}

TEST(TokenizerVectors, AllSharedVocabulariesMatchExactly) {
    const auto dir = shared_vocab_dir();
    if (dir.empty()) GTEST_SKIP() << "shared test data absent: " << RF_SHARED_TESTDATA << "/vocab";
    const auto files = load_vector_files(dir);
    if (files.empty()) GTEST_SKIP() << "no vocabulary vector files in " << dir;
    size_t n_cases = 0;
    for (const auto& file : files) {
        SCOPED_TRACE(file.gguf.filename().string());
        ASSERT_TRUE(file.error.empty()) << file.error;
        auto gguf = gguf::GgufFile::open(file.gguf.string());
        ASSERT_TRUE(gguf.is_ok()) << gguf.message();
        auto tokenizer = Tokenizer::from_gguf(*gguf);
        ASSERT_TRUE(tokenizer.is_ok()) << tokenizer.message();
        size_t n_failed = 0;
        for (const auto& c : file.cases) {
            const std::vector<int32_t> ids = tokenizer->encode(c.text, false, false);
            EXPECT_EQ(ids, c.ids) << "text: '" << printable(c.text) << "'\n  got:     "
                                  << ids_string(ids) << "\n  expected:" << ids_string(c.ids);
            n_failed += ids != c.ids;
            ++n_cases;
        }
        std::printf("[ vectors  ] %s: %zu/%zu cases exact\n", file.gguf.filename().c_str(),
                    file.cases.size() - n_failed, file.cases.size());
    }
    EXPECT_GT(n_cases, 0u);
}

TEST(TokenizerVectors, DecodeRoundTripsAndStreams) {
    const auto dir = shared_vocab_dir();
    if (dir.empty()) GTEST_SKIP() << "shared test data absent: " << RF_SHARED_TESTDATA << "/vocab";
    for (const auto& file : load_vector_files(dir)) {
        SCOPED_TRACE(file.gguf.filename().string());
        auto gguf = gguf::GgufFile::open(file.gguf.string());
        ASSERT_TRUE(gguf.is_ok()) << gguf.message();
        auto tokenizer = Tokenizer::from_gguf(*gguf);
        ASSERT_TRUE(tokenizer.is_ok()) << tokenizer.message();
        if (tokenizer->type() == VocabType::kWpm) continue;  // WordPiece normalizes: lossy
        for (const auto& c : file.cases) {
            const std::vector<int32_t> ids = tokenizer->encode(c.text, false, false);
            EXPECT_EQ(tokenizer->decode(ids), c.text) << "text: '" << printable(c.text) << "'";

            StreamingDecoder::Options options;
            options.strip_leading_space = true;
            StreamingDecoder stream(*tokenizer, options);
            std::string streamed;
            for (const int32_t id : ids) {
                const std::string chunk = stream.push(id);
                EXPECT_EQ(sanitize_utf8(chunk), chunk) << "partial UTF-8 emitted";
                streamed += chunk;
            }
            streamed += stream.flush();
            EXPECT_EQ(streamed, c.text) << "text: '" << printable(c.text) << "'";
        }
    }
}

}  // namespace
}  // namespace rf::tok
