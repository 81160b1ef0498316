// UTF-8 validation and the GPT-2 byte mapping.
#include <gtest/gtest.h>

#include "tokenizer/unicode.h"

namespace rf::tok {
namespace {

TEST(Utf8, SequenceLength) {
    EXPECT_EQ(utf8_sequence_length("a"), 1);
    EXPECT_EQ(utf8_sequence_length("\xC3\xA9"), 2);
    EXPECT_EQ(utf8_sequence_length("\xE2\x82\xAC"), 3);
    EXPECT_EQ(utf8_sequence_length("\xF0\x9F\x98\x80"), 4);
    EXPECT_EQ(utf8_sequence_length("\xC3"), -1);            // cut short
    EXPECT_EQ(utf8_sequence_length("\xF0\x9F\x98"), -1);
    EXPECT_EQ(utf8_sequence_length("\x80"), 0);             // lone continuation
    EXPECT_EQ(utf8_sequence_length("\xC0\x80"), 0);         // overlong
    EXPECT_EQ(utf8_sequence_length("\xE0\x80\x80"), 0);     // overlong
    EXPECT_EQ(utf8_sequence_length("\xED\xA0\x80"), 0);     // surrogate
    EXPECT_EQ(utf8_sequence_length("\xF4\x90\x80\x80"), 0); // above U+10FFFF
    EXPECT_EQ(utf8_sequence_length("\xFF"), 0);
    EXPECT_EQ(utf8_sequence_length("\xC3x"), 0);
    EXPECT_EQ(utf8_sequence_length(""), -1);
}

TEST(Utf8, Sanitize) {
    EXPECT_EQ(sanitize_utf8("ok \xC3\xA9"), "ok \xC3\xA9");
    EXPECT_EQ(sanitize_utf8("a\xFF" "b"), "a\xEF\xBF\xBD" "b");
    EXPECT_EQ(sanitize_utf8("\xE2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(ByteLevel, MappingIsABijection) {
    const ByteLevelMap& map = ByteLevelMap::get();
    EXPECT_EQ(map.encode('A'), "A");
    EXPECT_EQ(map.encode(' '), "\xC4\xA0");   // U+0120 'Ġ'
    EXPECT_EQ(map.encode('\n'), "\xC4\x8A");  // U+010A 'Ċ'
    EXPECT_EQ(map.encode(0xAD), "\xC5\x83");  // U+0143, the last remapped byte
    std::string all, decoded;
    for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
    std::string encoded;
    for (const char c : all) encoded.append(map.encode(static_cast<uint8_t>(c)));
    append_byte_level_decoded(decoded, encoded);
    EXPECT_EQ(decoded, all);
    EXPECT_EQ(map.decode(0x100), 0);
    EXPECT_EQ(map.decode(0x2581), -1);
}

}  // namespace
}  // namespace rf::tok
