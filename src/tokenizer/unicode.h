// UTF-8 helpers and the GPT-2 byte <-> printable-character mapping of byte-level BPE.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace rf::tok {

inline constexpr uint32_t kReplacementChar = 0xFFFD;
inline constexpr std::string_view kReplacementUtf8 = "\xEF\xBF\xBD";
inline constexpr std::string_view kSpmSpace = "\xE2\x96\x81";  // U+2581, SentencePiece's space

// Bytes a character occupies judging by its lead byte alone (1 for continuation or invalid
// bytes): how the SentencePiece-style tokenizer cuts text into symbols.
inline size_t utf8_lead_length(uint8_t lead) {
    static constexpr uint8_t kLength[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return kLength[lead >> 4];
}

// Strict RFC 3629 check of the sequence starting at s[0]: its length (1-4) when valid, 0 when
// it can never become valid, -1 when it is a valid prefix cut short by the end of `s`.
int utf8_sequence_length(std::string_view s);

void append_utf8(std::string& out, uint32_t cpt);

// The code point at `pos` (advancing it); a byte that starts no valid character gives
// U+FFFD and advances by one.
uint32_t next_code_point(std::string_view s, size_t& pos);

// Valid UTF-8 out: each byte that starts no valid sequence (a cut-off tail included)
// becomes U+FFFD.
std::string sanitize_utf8(std::string_view s);

// GPT-2's reversible byte -> character mapping: printable Latin-1 bytes map to themselves,
// the other 68 bytes to U+0100.. in byte order, so every byte string becomes visible text.
class ByteLevelMap {
public:
    static const ByteLevelMap& get();
    std::string_view encode(uint8_t byte) const { return {chars_[byte].data(), lengths_[byte]}; }
    // The byte a code point stands for, or -1 if it is not one of the 256 mapped characters.
    int decode(uint32_t cpt) const;

private:
    ByteLevelMap();
    std::array<std::array<char, 2>, 256> chars_{};
    std::array<uint8_t, 256> lengths_{};
    std::array<int16_t, 324> byte_of_cpt_{};  // code points 0..323 cover every mapped char
};

// Maps a byte-level token's text back to raw bytes; characters outside the mapping are
// copied through unchanged.
void append_byte_level_decoded(std::string& out, std::string_view token_text);

}  // namespace rf::tok
