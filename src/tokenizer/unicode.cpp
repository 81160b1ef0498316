// UTF-8 validation/encoding and the GPT-2 byte-level character mapping.
#include "tokenizer/unicode.h"

namespace rf::tok {

int utf8_sequence_length(std::string_view s) {
    if (s.empty()) return -1;
    const auto b0 = static_cast<uint8_t>(s[0]);
    if (b0 < 0x80) return 1;
    int n = 0;
    uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte (RFC 3629 table)
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        n = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        n = 3;
        if (b0 == 0xE0) lo = 0xA0;  // no overlong forms
        if (b0 == 0xED) hi = 0x9F;  // no surrogates
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        n = 4;
        if (b0 == 0xF0) lo = 0x90;
        if (b0 == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
    } else {
        return 0;
    }
    for (int i = 1; i < n; ++i) {
        if (static_cast<size_t>(i) >= s.size()) return -1;
        const auto b = static_cast<uint8_t>(s[i]);
        const uint8_t min = i == 1 ? lo : 0x80;
        const uint8_t max = i == 1 ? hi : 0xBF;
        if (b < min || b > max) return 0;
    }
    return n;
}

void append_utf8(std::string& out, uint32_t cpt) {
    if (cpt < 0x80) {
        out += static_cast<char>(cpt);
    } else if (cpt < 0x800) {
        out += static_cast<char>(0xC0 | (cpt >> 6));
        out += static_cast<char>(0x80 | (cpt & 0x3F));
    } else if (cpt < 0x10000) {
        out += static_cast<char>(0xE0 | (cpt >> 12));
        out += static_cast<char>(0x80 | ((cpt >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cpt & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cpt >> 18));
        out += static_cast<char>(0x80 | ((cpt >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cpt >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cpt & 0x3F));
    }
}

uint32_t next_code_point(std::string_view s, size_t& pos) {
    const int n = utf8_sequence_length(s.substr(pos));
    if (n <= 0) {
        ++pos;
        return kReplacementChar;
    }
    static constexpr uint8_t kLeadMask[5] = {0, 0x7F, 0x1F, 0x0F, 0x07};
    uint32_t cpt = static_cast<uint8_t>(s[pos]) & kLeadMask[n];
    for (int i = 1; i < n; ++i) cpt = (cpt << 6) | (static_cast<uint8_t>(s[pos + i]) & 0x3F);
    pos += static_cast<size_t>(n);
    return cpt;
}

std::string sanitize_utf8(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    size_t i = 0;
    while (i < s.size()) {
        const int n = utf8_sequence_length(s.substr(i));
        if (n > 0) {
            out.append(s.substr(i, static_cast<size_t>(n)));
            i += static_cast<size_t>(n);
        } else {
            out.append(kReplacementUtf8);
            ++i;
        }
    }
    return out;
}

ByteLevelMap::ByteLevelMap() {
    byte_of_cpt_.fill(-1);
    int next_extra = 0;
    for (int b = 0; b < 256; ++b) {
        const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
        const uint32_t cpt = printable ? static_cast<uint32_t>(b) : 256u + next_extra++;
        std::string utf8;
        append_utf8(utf8, cpt);
        lengths_[b] = static_cast<uint8_t>(utf8.size());
        for (size_t i = 0; i < utf8.size(); ++i) chars_[b][i] = utf8[i];
        byte_of_cpt_[cpt] = static_cast<int16_t>(b);
    }
}

const ByteLevelMap& ByteLevelMap::get() {
    static const ByteLevelMap kMap;
    return kMap;
}

int ByteLevelMap::decode(uint32_t cpt) const {
    return cpt < byte_of_cpt_.size() ? byte_of_cpt_[cpt] : -1;
}

void append_byte_level_decoded(std::string& out, std::string_view text) {
    const ByteLevelMap& map = ByteLevelMap::get();
    size_t i = 0;
    while (i < text.size()) {
        const int n = utf8_sequence_length(text.substr(i));
        if (n <= 0) {  // not valid UTF-8: pass the byte through
            out += text[i++];
            continue;
        }
        uint32_t cpt = static_cast<uint8_t>(text[i]);
        if (n == 2) cpt = ((cpt & 0x1F) << 6) | (static_cast<uint8_t>(text[i + 1]) & 0x3F);
        const int byte = n <= 2 ? map.decode(cpt) : -1;
        if (byte >= 0) {
            out += static_cast<char>(byte);
        } else {
            out.append(text.substr(i, static_cast<size_t>(n)));
        }
        i += static_cast<size_t>(n);
    }
}

}  // namespace rf::tok
