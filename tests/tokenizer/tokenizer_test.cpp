// Tokenizer behaviour on hand-built vocabularies: SPM merges and byte fallback, BPE merge
// order, special-token parsing, BOS/EOS, EOG detection and decode options.
#include <gtest/gtest.h>

#include <thread>

#include "test_vocabs.h"

namespace rf::tok {
namespace {

using testing::byte_id;
using testing::make_bpe_vocab;
using testing::make_spm_vocab;

Tokenizer make(Vocab vocab) {
    auto t = Tokenizer::create(std::move(vocab));
    EXPECT_TRUE(t.is_ok()) << t.message();
    return std::move(t).value();
}

constexpr int32_t kSpmByte0 = 3;  // id of <0x00> in the SPM test vocabulary
int32_t spm_id(std::string_view piece) {
    for (size_t i = 0; i < testing::kSpmPieces.size(); ++i) {
        if (testing::kSpmPieces[i] == piece) return static_cast<int32_t>(259 + i);
    }
    return -1;
}

TEST(SpmTokenizer, MergesByScoreWithSpacePrefix) {
    const Tokenizer t = make(make_spm_vocab());
    EXPECT_EQ(t.type(), VocabType::kSpm);
    EXPECT_EQ(t.encode("Hello world", false, false),
              (std::vector<int32_t>{spm_id("\xE2\x96\x81Hello"), spm_id("\xE2\x96\x81world")}));
    EXPECT_EQ(t.encode("Hello", true, false),
              (std::vector<int32_t>{1, spm_id("\xE2\x96\x81Hello")}));
    EXPECT_TRUE(t.encode("", false, false).empty());
    EXPECT_EQ(t.encode("", true, false), (std::vector<int32_t>{1}));
}

TEST(SpmTokenizer, ByteFallbackAndInvalidUtf8) {
    const Tokenizer t = make(make_spm_vocab());
    // "é" is no piece: its two UTF-8 bytes become <0xC3> <0xA9>.
    EXPECT_EQ(t.encode("\xC3\xA9", false, false),
              (std::vector<int32_t>{spm_id("\xE2\x96\x81"), kSpmByte0 + 0xC3, kSpmByte0 + 0xA9}));
    const std::string bad = "H\xFF\xE2\x96 x\xC3";
    EXPECT_EQ(t.decode(t.encode(bad, false, false)), bad);
}

TEST(SpmTokenizer, SpecialTokens) {
    const Tokenizer t = make(make_spm_vocab());
    const int32_t end = spm_id("<|end|>");
    const int32_t user = spm_id("<|user|>");
    const auto parsed = t.encode("Hello<|end|>world", false, true);
    EXPECT_EQ(parsed, (std::vector<int32_t>{spm_id("\xE2\x96\x81Hello"), end,
                                            spm_id("\xE2\x96\x81world")}));
    // Control-token text stays text without parse_special.
    const auto plain = t.encode("Hello<|end|>", false, false);
    EXPECT_EQ(std::count(plain.begin(), plain.end(), end), 0);
    EXPECT_EQ(t.decode(plain), "Hello<|end|>");
    // User-defined tokens are always matched, as the reference does.
    const auto with_user = t.encode("<|user|>Hello", false, false);
    EXPECT_EQ(with_user, (std::vector<int32_t>{user, spm_id("\xE2\x96\x81Hello")}));
}

TEST(SpmTokenizer, DecodeLeadingSpace) {
    const Tokenizer t = make(make_spm_vocab());
    const auto ids = t.encode("Hello world", true, false);  // <s> ▁Hello ▁world
    EXPECT_EQ(t.decode(ids), "<s> Hello world");
    DecodeOptions remove;
    remove.remove_special = true;
    EXPECT_EQ(t.decode(ids, remove), " Hello world");  // the reference keeps it after BOS
    remove.strip_space_after_bos = true;
    EXPECT_EQ(t.decode(ids, remove), "Hello world");
    DecodeOptions hide;
    hide.render_special = false;
    hide.strip_space_after_bos = true;
    EXPECT_EQ(t.decode(ids, hide), "Hello world");
    EXPECT_EQ(t.decode(std::vector<int32_t>{spm_id("\xE2\x96\x81Hello")}), "Hello");
    EXPECT_EQ(t.token_to_piece(spm_id("\xE2\x96\x81Hello")), " Hello");
    EXPECT_EQ(t.token_to_piece(1), "<s>");
    EXPECT_EQ(t.token_to_piece(1, false), "");
    EXPECT_EQ(t.token_to_piece(kSpmByte0 + 'A'), "A");
    EXPECT_EQ(t.token_to_piece(-1), "");
    EXPECT_EQ(t.token_to_piece(t.n_vocab()), "");
}

TEST(SpmTokenizer, SpecialIdsAndEog) {
    const Tokenizer t = make(make_spm_vocab());
    EXPECT_EQ(t.bos(), 1);
    EXPECT_EQ(t.eos(), 2);
    EXPECT_EQ(t.unk(), 0);
    EXPECT_TRUE(t.add_bos());
    EXPECT_FALSE(t.add_eos());
    EXPECT_TRUE(t.is_eog(2));
    EXPECT_TRUE(t.is_eog(spm_id("<|end|>")));  // end-of-turn text, detected by name
    EXPECT_EQ(t.eot(), spm_id("<|end|>"));
    EXPECT_FALSE(t.is_eog(1));
    EXPECT_FALSE(t.is_eog(-1));
}

TEST(BpeTokenizer, LowestRankMergesFirst) {
    const Tokenizer ab_first = make(make_bpe_vocab("gpt-2", {{"a", "b"}, {"b", "c"}}));
    const Tokenizer bc_first = make(make_bpe_vocab("gpt-2", {{"b", "c"}, {"a", "b"}}));
    const int32_t ab = *ab_first.find_token("ab");
    const int32_t bc = *bc_first.find_token("bc");
    EXPECT_EQ(ab_first.encode("abc", false, false), (std::vector<int32_t>{ab, byte_id('c')}));
    EXPECT_EQ(bc_first.encode("abc", false, false), (std::vector<int32_t>{byte_id('a'), bc}));
}

TEST(BpeTokenizer, TiesGoLeftmostAndMergesChain) {
    const Tokenizer t = make(make_bpe_vocab("gpt-2", {{"a", "a"}, {"aa", "a"}}));
    const int32_t aa = *t.find_token("aa");
    const int32_t aaa = *t.find_token("aaa");
    EXPECT_EQ(t.encode("aaa", false, false), (std::vector<int32_t>{aaa}));
    EXPECT_EQ(t.encode("aaaa", false, false), (std::vector<int32_t>{aa, aa}));
    EXPECT_EQ(t.encode("aaaaa", false, false), (std::vector<int32_t>{aa, aaa}));
}

TEST(BpeTokenizer, SpaceMappingAndWords) {
    const Tokenizer t = make(make_bpe_vocab("gpt-2", {{"\xC4\xA0", "w"}, {"h", "i"}}));
    const int32_t space_w = *t.find_token("\xC4\xA0w");  // "Ġw"
    const int32_t hi = *t.find_token("hi");
    EXPECT_EQ(t.encode("hi w", false, false), (std::vector<int32_t>{hi, space_w}));
    EXPECT_EQ(t.decode(t.encode("hi w", false, false)), "hi w");
}

TEST(BpeTokenizer, IgnoreMergesEmitsWholeWordTokens) {
    Vocab v = make_bpe_vocab("llama-bpe", {{"a", "b"}});
    v.tokens.push_back("xyz");  // reachable by no merge
    v.types.push_back(1);
    v.special.bos = 0;
    const Tokenizer t = make(std::move(v));
    const int32_t xyz = *t.find_token("xyz");
    EXPECT_EQ(t.encode("xyz", false, false), (std::vector<int32_t>{xyz}));
    const Tokenizer plain = make(make_bpe_vocab("gpt-2", {{"a", "b"}}));
    EXPECT_EQ(plain.encode("xyz", false, false).size(), 3u);
}

TEST(BpeTokenizer, BytesRoundTripIncludingInvalidUtf8) {
    const Tokenizer t = make(make_bpe_vocab("llama3", {{"a", "b"}}));
    std::string all;
    for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
    all += "ab \xF0\x9F\x98\x80 \xE2\x82";
    EXPECT_EQ(t.decode(t.encode(all, false, false)), all);
}

TEST(BpeTokenizer, SpecialTokensAndAddSpecial) {
    const Tokenizer t = make(make_bpe_vocab("gpt-2", {{"a", "b"}}));
    const int32_t eot = *t.find_token("<|endoftext|>");
    const int32_t tool = *t.find_token("<tool>");
    EXPECT_EQ(t.encode("ab<|endoftext|>", false, true),
              (std::vector<int32_t>{*t.find_token("ab"), eot}));
    EXPECT_EQ(t.encode("<|endoftext|>", false, false).size(), 13u);
    EXPECT_EQ(t.encode("<tool>", false, false), (std::vector<int32_t>{tool}));
    EXPECT_FALSE(t.add_bos());  // gpt-2 adds no BOS
    EXPECT_EQ(t.encode("ab", true, false), (std::vector<int32_t>{*t.find_token("ab")}));
    EXPECT_TRUE(t.is_eog(eot));
}

TEST(BpeTokenizer, LongestSpecialTokenWins) {
    Vocab v = make_bpe_vocab("gpt-2", {});
    v.tokens.push_back("<a>");
    v.types.push_back(3);
    v.tokens.push_back("<a><b>");
    v.types.push_back(3);
    const Tokenizer t = make(std::move(v));
    EXPECT_EQ(t.encode("x<a><b><a>", false, true),
              (std::vector<int32_t>{byte_id('x'), *t.find_token("<a><b>"), *t.find_token("<a>")}));
}

TEST(BpeTokenizer, RstripForPhi3StyleModels) {
    Vocab v = make_spm_vocab();
    v.name = "Phi-3-mini";
    const Tokenizer t = make(std::move(v));
    const int32_t end = spm_id("<|end|>");
    const auto ids = t.encode("Hello<|end|>   world", false, true);
    EXPECT_EQ(ids, (std::vector<int32_t>{spm_id("\xE2\x96\x81Hello"), end,
                                         spm_id("\xE2\x96\x81world")}));
}

TEST(BpeTokenizer, CleanSpacesOnRequest) {
    const Tokenizer t = make(make_bpe_vocab("gpt-2", {}));
    const auto ids = t.encode("Hello , world . I 'm here ' x", false, false);
    EXPECT_EQ(t.decode(ids), "Hello , world . I 'm here ' x");
    DecodeOptions clean;
    clean.clean_spaces = true;
    EXPECT_EQ(t.decode(ids, clean), "Hello, world. I'm here'x");
}

TEST(BpeTokenizer, ConcurrentEncodeAgrees) {
    const Tokenizer t = make(make_bpe_vocab("qwen2", {{"a", "b"}, {"ab", "c"}, {"\xC4\xA0", "a"}}));
    std::string text;
    for (int i = 0; i < 2000; ++i) text += "abc ab a abcabc " + std::to_string(i) + "\n";
    const auto expected = t.encode(text, false, false);
    std::vector<std::thread> threads;
    std::vector<int> ok(4, 0);
    for (int k = 0; k < 4; ++k) {
        threads.emplace_back([&, k] { ok[k] = t.encode(text, false, false) == expected; });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(ok, std::vector<int>(4, 1));
    EXPECT_EQ(t.decode(expected), text);
}

TEST(TokenizerErrors, InvalidVocabularies) {
    Vocab dup = make_spm_vocab();
    dup.tokens[5] = dup.tokens[6];
    auto r = Tokenizer::create(dup);
    ASSERT_FALSE(r.is_ok());
    EXPECT_NE(r.message().find("appears twice"), std::string::npos) << r.message();

    Vocab scores = make_spm_vocab();
    scores.scores.pop_back();
    EXPECT_FALSE(Tokenizer::create(scores).is_ok());

    Vocab model = make_spm_vocab();
    model.model = "rwkv-world";
    r = Tokenizer::create(model);
    ASSERT_FALSE(r.is_ok());
    EXPECT_NE(r.message().find("rwkv-world"), std::string::npos);

    Vocab no_bos = make_bpe_vocab("llama3", {});  // llama3 adds BOS by default
    no_bos.special.bos.reset();
    no_bos.tokens.resize(11);
    no_bos.types.resize(11);
    r = Tokenizer::create(no_bos);
    ASSERT_FALSE(r.is_ok());
    EXPECT_NE(r.message().find("BOS"), std::string::npos) << r.message();

    Vocab empty;
    empty.model = "gpt2";
    EXPECT_FALSE(Tokenizer::create(empty).is_ok());
}

TEST(TokenizerErrors, OutOfRangeSpecialIdsAreIgnored) {
    Vocab v = make_spm_vocab();
    v.special.pad = 1000000;
    v.special.eos = -5;  // a file that says "none"
    const Tokenizer t = make(std::move(v));
    EXPECT_EQ(t.pad(), kNoToken);
    EXPECT_EQ(t.eos(), 2);
}

TEST(VocabParsing, Merges) {
    auto ok = parse_merge("\xC4\xA0 t", 0);
    ASSERT_TRUE(ok.is_ok());
    EXPECT_EQ(ok->first, "\xC4\xA0");
    EXPECT_EQ(ok->second, "t");
    auto space_token = parse_merge("  x", 3);  // left side is itself a space
    ASSERT_TRUE(space_token.is_ok());
    EXPECT_EQ(space_token->first, " ");
    EXPECT_EQ(space_token->second, "x");
    auto bad = parse_merge("abc", 7);
    ASSERT_FALSE(bad.is_ok());
    EXPECT_NE(bad.message().find("merges[7]"), std::string::npos);
    EXPECT_FALSE(parse_merge("ab ", 1).is_ok());
    EXPECT_FALSE(parse_merge("", 1).is_ok());
}

}  // namespace
}  // namespace rf::tok
