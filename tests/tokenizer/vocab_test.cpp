// load_vocab on in-memory GGUF images: every key read, and precise errors for bad metadata.
#include <gtest/gtest.h>

#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "tokenizer/tokenizer.h"

namespace rf::tok {
namespace {

using gguf::GgufWriter;
using gguf::Value;
using gguf::ValueType;

// A small valid SPM vocabulary as GGUF metadata.
GgufWriter spm_writer() {
    GgufWriter w;
    w.set("general.name", Value::string("tiny"));
    w.set("tokenizer.ggml.model", Value::string("llama"));
    w.set("tokenizer.ggml.tokens",
          Value::string_array({"<unk>", "<s>", "</s>", "\xE2\x96\x81", "a", "\xE2\x96\x81" "a"}));
    w.set("tokenizer.ggml.scores", Value::f32_array({0, 0, 0, -1, -2, -0.5f}));
    w.set("tokenizer.ggml.token_type", Value::i32_array({2, 3, 3, 1, 1, 1}));
    w.set("tokenizer.ggml.bos_token_id", Value::u32(1));
    w.set("tokenizer.ggml.eos_token_id", Value::u32(2));
    w.set("tokenizer.ggml.unknown_token_id", Value::u32(0));
    w.set("tokenizer.ggml.add_bos_token", Value::boolean(false));
    w.set("tokenizer.ggml.add_space_prefix", Value::boolean(true));
    return w;
}

Result<Vocab> load(const GgufWriter& w, std::vector<uint8_t>& bytes) {
    bytes = w.write_to_memory();
    RF_ASSIGN_OR_RETURN(gguf::GgufFile file, gguf::GgufFile::parse(bytes));
    return load_vocab(file);
}

TEST(LoadVocab, ReadsEveryKey) {
    std::vector<uint8_t> bytes;
    auto v = load(spm_writer(), bytes);
    ASSERT_TRUE(v.is_ok()) << v.message();
    EXPECT_EQ(v->model, "llama");
    EXPECT_EQ(v->name, "tiny");
    EXPECT_EQ(v->tokens.size(), 6u);
    EXPECT_EQ(v->scores.size(), 6u);
    EXPECT_FLOAT_EQ(v->scores[5], -0.5f);
    EXPECT_EQ(v->types[1], 3);
    EXPECT_EQ(v->special.bos, 1);
    EXPECT_EQ(v->special.unk, 0);
    EXPECT_FALSE(v->special.pad.has_value());
    EXPECT_EQ(v->add_bos, false);
    EXPECT_EQ(v->add_space_prefix, true);
    EXPECT_FALSE(v->add_eos.has_value());

    auto t = Tokenizer::create(std::move(v).value());
    ASSERT_TRUE(t.is_ok()) << t.message();
    EXPECT_FALSE(t->add_bos());
    EXPECT_EQ(t->encode("a", true, false), (std::vector<int32_t>{5}));
}

TEST(LoadVocab, BpeMergesAndIntegerScores) {
    GgufWriter w;
    w.set("tokenizer.ggml.model", Value::string("gpt2"));
    w.set("tokenizer.ggml.pre", Value::string("gpt-2"));
    w.set("tokenizer.ggml.tokens", Value::string_array({"a", "b", "ab", "<|endoftext|>"}));
    w.set("tokenizer.ggml.scores", Value::i32_array({0, 0, 0, 0}));
    w.set("tokenizer.ggml.merges", Value::string_array({"a b"}));
    w.set("tokenizer.ggml.eos_token_id", Value::i32(3));
    w.set("tokenizer.ggml.padding_token_id", Value::i32(-1));
    std::vector<uint8_t> bytes;
    auto v = load(w, bytes);
    ASSERT_TRUE(v.is_ok()) << v.message();
    ASSERT_EQ(v->merges.size(), 1u);
    EXPECT_EQ(v->merges[0].first, "a");
    EXPECT_FALSE(v->special.pad.has_value());  // negative means none
    EXPECT_TRUE(v->types.empty());
    auto t = Tokenizer::create(std::move(v).value());
    ASSERT_TRUE(t.is_ok()) << t.message();
    EXPECT_EQ(t->encode("ab", false, false), (std::vector<int32_t>{2}));
    EXPECT_EQ(t->eos(), 3);
    EXPECT_EQ(t->bos(), kNoToken);  // the BPE default id 11 does not exist here
}

struct BadCase {
    const char* what;
    std::function<void(GgufWriter&)> edit;
    const char* message;  // expected substring
};

TEST(LoadVocab, PreciseErrors) {
    const std::vector<BadCase> cases = {
        {"no model", [](GgufWriter& w) { w.remove("tokenizer.ggml.model"); },
         "tokenizer.ggml.model"},
        {"no tokens", [](GgufWriter& w) { w.remove("tokenizer.ggml.tokens"); },
         "tokenizer.ggml.tokens"},
        {"tokens not strings",
         [](GgufWriter& w) { w.set("tokenizer.ggml.tokens", Value::i32_array({1, 2})); },
         "array of strings"},
        {"short scores",
         [](GgufWriter& w) { w.set("tokenizer.ggml.scores", Value::f32_array({0, 0})); },
         "tokenizer.ggml.scores"},
        {"string scores",
         [](GgufWriter& w) { w.set("tokenizer.ggml.scores", Value::string_array({"x"})); },
         "f32 or i32"},
        {"short types",
         [](GgufWriter& w) { w.set("tokenizer.ggml.token_type", Value::i32_array({1})); },
         "tokenizer.ggml.token_type"},
        {"bad merge",
         [](GgufWriter& w) { w.set("tokenizer.ggml.merges", Value::string_array({"ab"})); },
         "merges[0]"},
        {"string id",
         [](GgufWriter& w) { w.set("tokenizer.ggml.bos_token_id", Value::string("1")); },
         "bos_token_id"},
        {"bool flag as int",
         [](GgufWriter& w) { w.set("tokenizer.ggml.add_bos_token", Value::u32(1)); },
         "add_bos_token"},
        {"duplicate token",
         [](GgufWriter& w) {
             w.set("tokenizer.ggml.tokens",
                   Value::string_array({"<unk>", "<s>", "</s>", "a", "a", "b"}));
         },
         "appears twice"},
    };
    for (const BadCase& c : cases) {
        SCOPED_TRACE(c.what);
        GgufWriter w = spm_writer();
        c.edit(w);
        std::vector<uint8_t> bytes;
        auto v = load(w, bytes);
        ASSERT_FALSE(v.is_ok());
        EXPECT_NE(v.message().find(c.message), std::string::npos) << v.message();
    }
}

TEST(LoadVocab, EmptyTokensGetPlaceholderNames) {
    GgufWriter w = spm_writer();
    w.set("tokenizer.ggml.tokens", Value::string_array({"<unk>", "<s>", "</s>", "", "a", "b"}));
    std::vector<uint8_t> bytes;
    auto v = load(w, bytes);
    ASSERT_TRUE(v.is_ok()) << v.message();
    EXPECT_EQ(v->tokens[3], "[EMPTY_3]");
}

TEST(LoadVocab, UnsupportedModelsAreClearErrors) {
    for (const char* model : {"bert-x", "t5", "no_vocab"}) {
        GgufWriter w = spm_writer();
        w.set("tokenizer.ggml.model", Value::string(model));
        std::vector<uint8_t> bytes;
        auto v = load(w, bytes);
        ASSERT_TRUE(v.is_ok()) << v.message();
        auto t = Tokenizer::create(std::move(v).value());
        EXPECT_FALSE(t.is_ok());
    }
}

}  // namespace
}  // namespace rf::tok
