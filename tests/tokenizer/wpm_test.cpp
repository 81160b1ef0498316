// WordPiece (BERT) vocabularies: BertNormalizer cleaning, punctuation/CJK splits, greedy
// longest-match pieces and the unknown token.
#include <gtest/gtest.h>

#include "tokenizer/tokenizer.h"

namespace rf::tok {
namespace {

#define SP "\xE2\x96\x81"  // U+2581 marks a word's first piece in GGUF WordPiece vocabularies

Result<Tokenizer> make_bert() {
    Vocab v;
    v.model = "bert";
    v.tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", SP "hello", SP "world", SP "ap",
                "fel", SP "!", SP ",", SP "\xE6\x88\x91", SP "\xE6\x83\xB3", SP "un", "aff",
                "able", SP "una", SP "\xCF\x83", SP "i"};
    v.types.assign(v.tokens.size(), 1);
    v.types[0] = v.types[2] = v.types[3] = v.types[4] = 3;
    v.types[1] = 2;
    v.special.bos = 2;
    v.special.unk = 1;
    v.special.sep = 3;
    v.special.pad = 0;
    return Tokenizer::create(std::move(v));
}

TEST(WordPiece, NormalizesAndSplits) {
    auto t = make_bert();
    if (!t.is_ok()) GTEST_SKIP() << t.message();  // built without ICU
    EXPECT_EQ(t->type(), VocabType::kWpm);
    EXPECT_EQ(t->encode("Hello, World!", false, false), (std::vector<int32_t>{5, 10, 6, 9}));
    EXPECT_EQ(t->encode("  hello\tworld\n", false, false), (std::vector<int32_t>{5, 6}));
    EXPECT_EQ(t->encode("\xC3\x84pfel", false, false), (std::vector<int32_t>{7, 8}));  // Äpfel
    EXPECT_EQ(t->encode("\xE6\x88\x91\xE6\x83\xB3", false, false),
              (std::vector<int32_t>{11, 12}));                                   // 我想
    EXPECT_EQ(t->encode("\xC4\xB0", false, false), (std::vector<int32_t>{18}));  // İ -> i
    EXPECT_EQ(t->encode("\xCE\xA3", false, false), (std::vector<int32_t>{17}));  // Σ -> σ
}

TEST(WordPiece, GreedyLongestMatchAndUnknown) {
    auto t = make_bert();
    if (!t.is_ok()) GTEST_SKIP() << t.message();
    // "▁una" is the longest first piece, then nothing matches "ffable": the whole word is
    // unknown (no backtracking to "▁un" + "aff" + "able").
    EXPECT_EQ(t->encode("unaffable", false, false), (std::vector<int32_t>{1}));
    EXPECT_EQ(t->encode("hello\x0Bworld", false, false), (std::vector<int32_t>{1}));  // VT dropped
    EXPECT_EQ(t->encode(std::string(101, 'a'), false, false), (std::vector<int32_t>{1}));
    EXPECT_EQ(t->encode("hello \xFF world", false, false), (std::vector<int32_t>{5, 6}));
}

TEST(WordPiece, SpecialTokensAndDecode) {
    auto t = make_bert();
    if (!t.is_ok()) GTEST_SKIP() << t.message();
    EXPECT_EQ(t->encode("hello", true, false), (std::vector<int32_t>{2, 5, 3}));
    EXPECT_EQ(t->encode("[MASK] hello", false, true), (std::vector<int32_t>{4, 5}));
    EXPECT_EQ(t->decode(std::vector<int32_t>{5, 6}), " hello world");
    EXPECT_EQ(t->sep(), 3);
}

#undef SP

}  // namespace
}  // namespace rf::tok
