// StreamingDecoder: characters split across tokens are held back, never emitted in part.
#include <gtest/gtest.h>

#include "test_vocabs.h"

namespace rf::tok {
namespace {

constexpr int32_t kByte0 = 3;  // <0x00> in the SPM test vocabulary

Tokenizer spm() {
    auto t = Tokenizer::create(testing::make_spm_vocab());
    EXPECT_TRUE(t.is_ok()) << t.message();
    return std::move(t).value();
}

TEST(StreamingDecoder, HoldsSplitCharacters) {
    const Tokenizer t = spm();
    StreamingDecoder d(t);
    // "€" = E2 82 AC, then "😀" = F0 9F 98 80, one byte token each.
    EXPECT_EQ(d.push(kByte0 + 0xE2), "");
    EXPECT_EQ(d.push(kByte0 + 0x82), "");
    EXPECT_EQ(d.pending_bytes(), 2u);
    EXPECT_EQ(d.push(kByte0 + 0xAC), "\xE2\x82\xAC");
    EXPECT_EQ(d.push(kByte0 + 0xF0), "");
    EXPECT_EQ(d.push(kByte0 + 0x9F), "");
    EXPECT_EQ(d.push(kByte0 + 0x98), "");
    EXPECT_EQ(d.push(kByte0 + 0x80), "\xF0\x9F\x98\x80");
    EXPECT_EQ(d.flush(), "");
}

TEST(StreamingDecoder, InvalidBytesBecomeReplacementCharacters) {
    const Tokenizer t = spm();
    StreamingDecoder d(t);
    EXPECT_EQ(d.push(kByte0 + 0xFF), "\xEF\xBF\xBD");  // can never start a character
    EXPECT_EQ(d.push(kByte0 + 0xE2), "");
    EXPECT_EQ(d.push(kByte0 + 'A'), "\xEF\xBF\xBD" "A");  // the held lead byte was broken
    EXPECT_EQ(d.push(kByte0 + 0xC3), "");
    EXPECT_EQ(d.flush(), "\xEF\xBF\xBD");  // cut off at the end
    EXPECT_EQ(d.pending_bytes(), 0u);
}

TEST(StreamingDecoder, TextPiecesAndSpecialTokens) {
    const Tokenizer t = spm();
    const auto ids = t.encode("Hello world", true, false);
    StreamingDecoder plain(t);
    std::string out;
    for (const int32_t id : ids) out += plain.push(id);
    EXPECT_EQ(out, " Hello world");  // BOS not rendered by default; the space is real here

    StreamingDecoder::Options options;
    options.render_special = true;
    options.strip_leading_space = true;
    StreamingDecoder prompt(t, options);
    out.clear();
    for (const int32_t id : ids) out += prompt.push(id);
    EXPECT_EQ(out, "<s>Hello world");
}

TEST(StreamingDecoder, MatchesDecodeOnSplitUtf8Text) {
    const Tokenizer t = spm();
    const std::string text = "H\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80!";  // only bytes
    const auto ids = t.encode(text, false, false);
    StreamingDecoder::Options options;
    options.strip_leading_space = true;
    StreamingDecoder d(t, options);
    std::string out;
    for (const int32_t id : ids) {
        const std::string chunk = d.push(id);
        EXPECT_EQ(sanitize_utf8(chunk), chunk);
        out += chunk;
    }
    out += d.flush();
    EXPECT_EQ(out, text);
    EXPECT_EQ(t.decode(ids), text);
}

}  // namespace
}  // namespace rf::tok
