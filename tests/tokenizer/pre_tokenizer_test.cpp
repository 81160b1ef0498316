// Pre-tokenizer regexes: every family compiles, whitespace rewriting, and PCRE2 splits equal
// those of an independent regex engine (fixture made by make_pretokenizer_splits.py).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tokenizer/pre_tokenizer.h"

namespace rf::tok {
namespace {

std::vector<std::string> split(const RegexSplitter& splitter, std::string_view text) {
    std::vector<std::string_view> views;
    splitter.split(text, views);
    return {views.begin(), views.end()};
}

RegexSplitter splitter_for(std::string_view pre) {
    auto config = pre_tokenizer_config(pre);
    EXPECT_TRUE(config.is_ok()) << config.message();
    auto splitter = RegexSplitter::create(config->regexes);
    EXPECT_TRUE(splitter.is_ok()) << splitter.message();
    return std::move(splitter).value();
}

TEST(PreTokenizer, EveryKnownNameCompiles) {
    for (const std::string_view name : known_pre_tokenizers()) {
        SCOPED_TRACE(std::string(name));
        auto config = pre_tokenizer_config(name);
        if (!config.is_ok()) {
            EXPECT_NE(config.message().find("not supported"), std::string::npos);
            continue;
        }
        EXPECT_FALSE(config->regexes.empty());
        auto splitter = RegexSplitter::create(config->regexes);
        EXPECT_TRUE(splitter.is_ok()) << splitter.message();
    }
}

TEST(PreTokenizer, FamilyFlags) {
    auto llama3 = pre_tokenizer_config("llama-bpe");
    ASSERT_TRUE(llama3.is_ok());
    EXPECT_TRUE(llama3->ignore_merges);
    EXPECT_TRUE(llama3->add_bos);
    auto qwen2 = pre_tokenizer_config("qwen2");
    ASSERT_TRUE(qwen2.is_ok());
    EXPECT_FALSE(qwen2->clean_spaces);
    EXPECT_FALSE(qwen2->ignore_merges);
    auto unknown = pre_tokenizer_config("no-such-pre-tokenizer");
    ASSERT_TRUE(unknown.is_ok());
    EXPECT_EQ(unknown->name, "default");
    EXPECT_FALSE(pre_tokenizer_config("gemma4").is_ok());
}

TEST(PreTokenizer, WhitespaceEscapesBecomeWhiteSpaceSet) {
    const std::string out = rewrite_whitespace_escapes(R"(a\s+(?!\S)|[^\s\p{L}]|\\s)");
    EXPECT_EQ(out.find("\\s"), out.rfind("\\s"));  // only the escaped backslash remains
    EXPECT_NE(out.find("[^\\t\\n"), std::string::npos);
    EXPECT_NE(out.find("[^\\t\\n\\x0B"), std::string::npos);
    EXPECT_NE(out.find("\\p{L}]"), std::string::npos);
}

TEST(PreTokenizer, Gpt2Splits) {
    const RegexSplitter s = splitter_for("gpt-2");
    EXPECT_EQ(split(s, "Hello world"), (std::vector<std::string>{"Hello", " world"}));
    EXPECT_EQ(split(s, "a   b"), (std::vector<std::string>{"a", "  ", " b"}));
    EXPECT_EQ(split(s, "I'm 123!!"), (std::vector<std::string>{"I", "'m", " 123", "!!"}));
    EXPECT_EQ(split(s, "x  "), (std::vector<std::string>{"x", "  "}));
}

TEST(PreTokenizer, Llama3Splits) {
    const RegexSplitter s = splitter_for("llama3");
    EXPECT_EQ(split(s, "I'M 12345"), (std::vector<std::string>{"I", "'M", " ", "123", "45"}));
    EXPECT_EQ(split(s, "a \n\n b"), (std::vector<std::string>{"a", " \n\n", " b"}));
    EXPECT_EQ(split(s, "...\n\nx"), (std::vector<std::string>{"...\n\n", "x"}));
}

TEST(PreTokenizer, InvalidUtf8PiecesTileTheInput) {
    const std::string text = "ab\xff\xfe cd \xe2\x82 \xc3\xa9t\xc3";
    for (const std::string_view pre : {"gpt-2", "llama3", "qwen2", "deepseek-llm", "gpt-4o"}) {
        SCOPED_TRACE(std::string(pre));
        std::string joined;
        for (const std::string& piece : split(splitter_for(pre), text)) {
            EXPECT_FALSE(piece.empty());
            joined += piece;
        }
        EXPECT_EQ(joined, text);
    }
}

TEST(PreTokenizer, ZeroWidthPatternCutsDigitGroups) {
    const RegexSplitter s = splitter_for("superbpe");
    EXPECT_EQ(split(s, "1234567"), (std::vector<std::string>{"1", "234", "567"}));
}

TEST(PreTokenizer, SplitsMatchIndependentEngine) {
    const std::string path = std::string(RF_FIXTURES_DIR) + "/tokenizer/pretokenizer_splits.json";
    std::ifstream in(path, std::ios::binary);
    ASSERT_TRUE(in) << "missing fixture " << path;
    const nlohmann::json spec = nlohmann::json::parse(in);
    const auto& texts = spec["texts"];
    size_t n_checked = 0;
    for (const auto& family : spec["families"]) {
        const std::string pre = family["pre"];
        SCOPED_TRACE(pre);
        auto config = pre_tokenizer_config(pre);
        ASSERT_TRUE(config.is_ok()) << config.message();
        std::vector<std::string> rewritten;
        for (const std::string& regex : config->regexes) {
            rewritten.push_back(rewrite_whitespace_escapes(regex));
        }
        ASSERT_EQ(rewritten, family["regexes"].get<std::vector<std::string>>())
            << "regexes changed: update the fixture and rerun make_pretokenizer_splits.py";
        auto splitter = RegexSplitter::create(config->regexes);
        ASSERT_TRUE(splitter.is_ok()) << splitter.message();
        for (size_t i = 0; i < texts.size(); ++i) {
            const std::string text = texts[i];
            EXPECT_EQ(split(*splitter, text),
                      family["splits"][i].get<std::vector<std::string>>())
                << "text #" << i;
            ++n_checked;
        }
    }
    EXPECT_GT(n_checked, 1000u);
}

}  // namespace
}  // namespace rf::tok
