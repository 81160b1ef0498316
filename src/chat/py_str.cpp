// Python `str` semantics on UTF-8 text. Case tables cover Latin, Greek, Cyrillic, Armenian,
// Georgian and full-width forms: the scripts chat templates meet in practice.
#include "chat/py_str.h"

#include <algorithm>
#include <array>

namespace rf::chat::py {
namespace {

// One block of upper-case letters whose lower-case forms are at a fixed distance, or (pairs)
// alternating upper/lower code points starting with an upper one at `lo`.
struct CaseBlock {
    char32_t lo;
    char32_t hi;
    int32_t delta;  // lower = upper + delta; 1 for pairs
    bool pairs;
};

constexpr std::array<CaseBlock, 42> kCaseBlocks = {{
    {0x41, 0x5A, 32, false},        {0xC0, 0xD6, 32, false},       {0xD8, 0xDE, 32, false},
    {0x100, 0x12E, 1, true},        {0x132, 0x136, 1, true},       {0x139, 0x147, 1, true},
    {0x14A, 0x176, 1, true},        {0x179, 0x17D, 1, true},       {0x182, 0x184, 1, true},
    {0x1A0, 0x1A4, 1, true},        {0x1CD, 0x1DB, 1, true},       {0x1DE, 0x1EE, 1, true},
    {0x1F8, 0x21E, 1, true},        {0x222, 0x232, 1, true},       {0x246, 0x24E, 1, true},
    {0x370, 0x372, 1, true},        {0x388, 0x38A, 37, false},     {0x38E, 0x38F, 63, false},
    {0x391, 0x3A1, 32, false},      {0x3A3, 0x3AB, 32, false},     {0x3D8, 0x3EE, 1, true},
    {0x400, 0x40F, 80, false},      {0x410, 0x42F, 32, false},     {0x460, 0x480, 1, true},
    {0x48A, 0x4BE, 1, true},        {0x4C1, 0x4CD, 1, true},       {0x4D0, 0x52E, 1, true},
    {0x531, 0x556, 48, false},      {0x10A0, 0x10C5, 7264, false}, {0x13A0, 0x13EF, 38864, false},
    {0x1E00, 0x1E94, 1, true},      {0x1EA0, 0x1EFE, 1, true},     {0x1F08, 0x1F0F, -8, false},
    {0x1F18, 0x1F1D, -8, false},    {0x1F28, 0x1F2F, -8, false},   {0x1F38, 0x1F3F, -8, false},
    {0x2160, 0x216F, 16, false},    {0x24B6, 0x24CF, 26, false},   {0x2C00, 0x2C2F, 48, false},
    {0xA640, 0xA66C, 1, true},      {0xFF21, 0xFF3A, 32, false},   {0x10400, 0x10427, 40, false},
}};

bool in_pair_upper(const CaseBlock& b, char32_t c) { return c >= b.lo && c <= b.hi && ((c - b.lo) % 2 == 0); }

// Simple (one code point) lower-case mapping.
// The Latin digraphs DŽ Dž dž, LJ Lj lj, NJ Nj nj, DZ Dz dz come in upper / title / lower triples.
int digraph_index(char32_t c) {
    if (c >= 0x1C4 && c <= 0x1CC) return static_cast<int>(c - 0x1C4) % 3;
    if (c >= 0x1F1 && c <= 0x1F3) return static_cast<int>(c - 0x1F1);
    return -1;
}

char32_t digraph_form(char32_t c, int form) {
    const int i = digraph_index(c);
    return static_cast<char32_t>(static_cast<int>(c) - i + form);
}

char32_t simple_lower(char32_t c) {
    if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
    if (digraph_index(c) >= 0) return digraph_form(c, 2);
    if (c == 0x130) return 'i';
    if (c == 0x178) return 0xFF;
    if (c == 0x386) return 0x3AC;
    if (c == 0x38C) return 0x3CC;
    if (c == 0x4C0) return 0x4CF;
    if (c == 0x1E9E) return 0xDF;
    for (const auto& b : kCaseBlocks) {
        if (b.pairs ? in_pair_upper(b, c) : (c >= b.lo && c <= b.hi)) {
            return static_cast<char32_t>(static_cast<int64_t>(c) + b.delta);
        }
    }
    return c;
}

// Simple upper-case mapping (the inverse of simple_lower plus a few one-way letters).
char32_t simple_upper(char32_t c) {
    if (c < 0x80) return (c >= 'a' && c <= 'z') ? c - 32 : c;
    if (digraph_index(c) >= 0) return digraph_form(c, 0);
    switch (c) {
        case 0xB5: return 0x39C;
        case 0xFF: return 0x178;
        case 0x131: return 'I';
        case 0x17F: return 'S';
        case 0x3AC: return 0x386;
        case 0x3CC: return 0x38C;
        case 0x3C2: return 0x3A3;
        case 0x4CF: return 0x4C0;
        default: break;
    }
    for (const auto& b : kCaseBlocks) {
        const int64_t lower_lo = static_cast<int64_t>(b.lo) + b.delta;
        const int64_t lower_hi = static_cast<int64_t>(b.hi) + b.delta;
        if (static_cast<int64_t>(c) < lower_lo || static_cast<int64_t>(c) > lower_hi) continue;
        const char32_t up = static_cast<char32_t>(static_cast<int64_t>(c) - b.delta);
        if (!b.pairs || in_pair_upper(b, up)) return up;
    }
    return c;
}

bool is_case_ignorable(char32_t c) {
    return c == '\'' || c == '.' || c == ':' || c == 0xAD || c == 0x2019 || (c >= 0x300 && c <= 0x36F);
}

// Greek capital sigma lowers to final sigma at the end of a word (Python's rule).
bool final_sigma(const std::vector<char32_t>& cps, size_t i) {
    size_t j = i;
    bool cased_before = false;
    while (j > 0) {
        --j;
        if (is_case_ignorable(cps[j])) continue;
        cased_before = is_cased(cps[j]);
        break;
    }
    if (!cased_before) return false;
    for (size_t k = i + 1; k < cps.size(); ++k) {
        if (is_case_ignorable(cps[k])) continue;
        return !is_cased(cps[k]);
    }
    return true;
}

std::vector<std::string> to_strings(std::string_view s, const std::vector<std::pair<size_t, size_t>>& spans) {
    std::vector<std::string> out;
    out.reserve(spans.size());
    for (const auto& [b, e] : spans) out.emplace_back(s.substr(b, e - b));
    return out;
}

// Byte spans of the code points of s.
std::vector<std::pair<size_t, size_t>> code_point_spans(std::string_view s) {
    std::vector<std::pair<size_t, size_t>> spans;
    size_t pos = 0;
    while (pos < s.size()) {
        const size_t start = pos;
        decode_utf8(s, pos);
        spans.emplace_back(start, pos);
    }
    return spans;
}

bool in_char_set(const std::vector<char32_t>& set, char32_t c) {
    return std::find(set.begin(), set.end(), c) != set.end();
}

}  // namespace

// --- UTF-8 -----------------------------------------------------------------------------------

bool is_valid_utf8(std::string_view s) {
    size_t i = 0;
    const size_t n = s.size();
    while (i < n) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            ++i;
            continue;
        }
        size_t len = 0;
        char32_t cp = 0;
        if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + len > n) return false;
        for (size_t k = 1; k < len; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        const char32_t min_for_len[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min_for_len[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += len;
    }
    return true;
}

char32_t decode_utf8(std::string_view s, size_t& pos) {
    const auto c = static_cast<unsigned char>(s[pos]);
    if (c < 0x80) {
        ++pos;
        return c;
    }
    size_t len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
    if (pos + len > s.size()) len = 1;
    char32_t cp = len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : len == 4 ? (c & 0x07) : c;
    for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[pos + k]) & 0x3F);
    pos += len;
    return cp;
}

void append_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

bool is_ascii(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

size_t code_point_count(std::string_view s) {
    size_t n = 0;
    for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
    return n;
}

std::vector<char32_t> to_code_points(std::string_view s) {
    std::vector<char32_t> cps;
    cps.reserve(s.size());
    size_t pos = 0;
    while (pos < s.size()) cps.push_back(decode_utf8(s, pos));
    return cps;
}

std::string from_code_points(const std::vector<char32_t>& cps, size_t begin, size_t end) {
    std::string out;
    for (size_t i = begin; i < end && i < cps.size(); ++i) append_utf8(out, cps[i]);
    return out;
}

size_t byte_offset_of(std::string_view s, size_t cp_index) {
    size_t pos = 0;
    for (size_t i = 0; i < cp_index && pos < s.size(); ++i) decode_utf8(s, pos);
    return pos;
}

size_t code_point_index_of(std::string_view s, size_t byte_pos) {
    return code_point_count(s.substr(0, std::min(byte_pos, s.size())));
}

// --- character classes -----------------------------------------------------------------------

bool is_space(char32_t c) {
    if (c < 0x80) return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20);
    return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
           c == 0x202F || c == 0x205F || c == 0x3000;
}

bool is_linebreak(char32_t c) {
    return (c >= 0x0A && c <= 0x0D) || (c >= 0x1C && c <= 0x1E) || c == 0x85 || c == 0x2028 || c == 0x2029;
}

bool is_printable(char32_t c) {
    if (c < 0x20 || (c >= 0x7F && c <= 0xA0) || c == 0xAD) return false;
    if (c < 0x300) return true;
    if (is_space(c)) return false;
    if ((c >= 0x600 && c <= 0x605) || c == 0x61C || c == 0x6DD || c == 0x70F || c == 0x180E) return false;
    if ((c >= 0x200B && c <= 0x200F) || (c >= 0x202A && c <= 0x202E) || (c >= 0x2060 && c <= 0x206F)) return false;
    if (c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFB) || (c >= 0xFDD0 && c <= 0xFDEF)) return false;
    if ((c & 0xFFFE) == 0xFFFE) return false;
    if ((c >= 0xD800 && c <= 0xF8FF) || c >= 0xF0000) return false;  // surrogates, private use
    if (c == 0x110BD || c == 0x110CD || (c >= 0x13430 && c <= 0x1343F) || (c >= 0x1BCA0 && c <= 0x1BCA3)) return false;
    if ((c >= 0x1D173 && c <= 0x1D17A) || (c >= 0xE0000 && c <= 0xE0FFF)) return false;
    if (c >= 0x40000 && c < 0xE0000) return false;  // unassigned planes
    return c != 0x378 && c != 0x379;
}

bool is_digit(char32_t c) {
    return (c >= '0' && c <= '9') || c == 0xB2 || c == 0xB3 || c == 0xB9 || (c >= 0x660 && c <= 0x669) ||
           (c >= 0x6F0 && c <= 0x6F9) || (c >= 0x966 && c <= 0x96F) || (c >= 0xFF10 && c <= 0xFF19);
}

bool is_alpha(char32_t c) {
    if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (c < 0xC0) return c == 0xAA || c == 0xB5 || c == 0xBA;
    if (c == 0xD7 || c == 0xF7 || is_space(c) || is_digit(c)) return false;
    if ((c >= 0x2000 && c <= 0x2BFF) || (c >= 0x3000 && c <= 0x303F) || (c >= 0xFE00 && c <= 0xFE6F)) return false;
    if ((c >= 0xFF00 && c <= 0xFF20) || (c >= 0xFF3B && c <= 0xFF40) || (c >= 0xFF5B && c <= 0xFF65)) return false;
    if ((c >= 0x300 && c <= 0x36F) || (c >= 0x1F000 && c <= 0x1FAFF) || !is_printable(c)) return false;
    return true;
}

bool is_alnum(char32_t c) { return is_alpha(c) || is_digit(c); }
bool is_word(char32_t c) { return c == '_' || is_alnum(c); }
bool is_upper_char(char32_t c) { return simple_lower(c) != c || c == 0x130; }
bool is_lower_char(char32_t c) {
    return simple_upper(c) != c || c == 0xDF || c == 0x138 || c == 0x149 || (c >= 0xFB00 && c <= 0xFB06);
}
bool is_cased(char32_t c) { return is_upper_char(c) || is_lower_char(c); }

// --- case mapping ----------------------------------------------------------------------------

void append_upper(std::string& out, char32_t c) {
    if (c == 0xDF) {
        out += "SS";
    } else if (c == 0x149) {
        append_utf8(out, 0x2BC);
        out.push_back('N');
    } else if (c >= 0xFB00 && c <= 0xFB06) {
        static const char* const kLigatures[] = {"FF", "FI", "FL", "FFI", "FFL", "ST", "ST"};
        out += kLigatures[c - 0xFB00];
    } else {
        append_utf8(out, simple_upper(c));
    }
}

void append_title(std::string& out, char32_t c) {
    if (digraph_index(c) >= 0) {
        append_utf8(out, digraph_form(c, 1));
    } else if (c == 0xDF) {
        out += "Ss";
    } else if (c >= 0xFB00 && c <= 0xFB06) {
        static const char* const kLigatures[] = {"Ff", "Fi", "Fl", "Ffi", "Ffl", "St", "St"};
        out += kLigatures[c - 0xFB00];
    } else {
        append_upper(out, c);
    }
}

void append_lower(std::string& out, char32_t c) {
    if (c == 0x130) {
        out.push_back('i');
        append_utf8(out, 0x307);
    } else {
        append_utf8(out, simple_lower(c));
    }
}

std::string upper(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    size_t pos = 0;
    while (pos < s.size()) append_upper(out, decode_utf8(s, pos));
    return out;
}

std::string lower(std::string_view s) {
    if (is_ascii(s)) {
        std::string out(s);
        for (char& c : out) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
        return out;
    }
    const std::vector<char32_t> cps = to_code_points(s);
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < cps.size(); ++i) {
        if (cps[i] == 0x3A3 && final_sigma(cps, i)) {
            append_utf8(out, 0x3C2);
        } else {
            append_lower(out, cps[i]);
        }
    }
    return out;
}

std::string capitalize(std::string_view s) {
    if (s.empty()) return std::string();
    size_t pos = 0;
    const char32_t first = decode_utf8(s, pos);
    std::string out;
    append_title(out, first);
    out += lower(s.substr(pos));
    return out;
}

std::string title(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    bool previous_cased = false;
    size_t pos = 0;
    while (pos < s.size()) {
        const char32_t c = decode_utf8(s, pos);
        if (previous_cased) {
            append_lower(out, c);
        } else {
            append_title(out, c);
        }
        previous_cased = is_cased(c);
    }
    return out;
}

std::string swapcase(std::string_view s) {
    std::string out;
    size_t pos = 0;
    while (pos < s.size()) {
        const char32_t c = decode_utf8(s, pos);
        if (is_upper_char(c)) {
            append_lower(out, c);
        } else if (is_lower_char(c)) {
            append_upper(out, c);
        } else {
            append_utf8(out, c);
        }
    }
    return out;
}

bool is_lower(std::string_view s) {
    bool any_cased = false;
    size_t pos = 0;
    while (pos < s.size()) {
        const char32_t c = decode_utf8(s, pos);
        if (is_upper_char(c)) return false;
        any_cased = any_cased || is_lower_char(c);
    }
    return any_cased;
}

bool is_upper(std::string_view s) {
    bool any_cased = false;
    size_t pos = 0;
    while (pos < s.size()) {
        const char32_t c = decode_utf8(s, pos);
        if (is_lower_char(c)) return false;
        any_cased = any_cased || is_upper_char(c);
    }
    return any_cased;
}

// --- methods ---------------------------------------------------------------------------------

std::string strip(std::string_view s, const std::optional<std::string>& chars, StripSide side) {
    const std::vector<char32_t> set = chars ? to_code_points(*chars) : std::vector<char32_t>{};
    auto strippable = [&](char32_t c) { return chars ? in_char_set(set, c) : is_space(c); };
    // Only the stripped ends are decoded: forwards from the front, backwards from the back.
    size_t begin = 0;
    if (side != StripSide::kRight) {
        while (begin < s.size()) {
            size_t next = begin;
            if (!strippable(decode_utf8(s, next))) break;
            begin = next;
        }
    }
    size_t end = s.size();
    if (side != StripSide::kLeft) {
        while (end > begin) {
            size_t start = end - 1;
            while (start > begin && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
            size_t next = start;
            if (!strippable(decode_utf8(s, next))) break;
            end = start;
        }
    }
    return std::string(s.substr(begin, end - begin));
}

std::vector<std::string> split(std::string_view s, const std::optional<std::string>& sep, int64_t maxsplit) {
    std::vector<std::pair<size_t, size_t>> spans;
    int64_t budget = maxsplit < 0 ? INT64_MAX : maxsplit;
    if (sep) {
        size_t start = 0;
        while (budget-- > 0) {
            const size_t hit = s.find(*sep, start);
            if (hit == std::string_view::npos) break;
            spans.emplace_back(start, hit);
            start = hit + sep->size();
        }
        spans.emplace_back(start, s.size());
        return to_strings(s, spans);
    }
    const auto cps = code_point_spans(s);
    size_t i = 0;
    auto space_at = [&](size_t k) {
        size_t p = cps[k].first;
        return is_space(decode_utf8(s, p));
    };
    while (budget-- > 0) {
        while (i < cps.size() && space_at(i)) ++i;
        if (i == cps.size()) break;
        const size_t j = i;
        while (i < cps.size() && !space_at(i)) ++i;
        spans.emplace_back(cps[j].first, cps[i - 1].second);
    }
    while (i < cps.size() && space_at(i)) ++i;
    if (i < cps.size()) spans.emplace_back(cps[i].first, s.size());
    return to_strings(s, spans);
}

std::vector<std::string> rsplit(std::string_view s, const std::optional<std::string>& sep, int64_t maxsplit) {
    std::vector<std::pair<size_t, size_t>> spans;
    int64_t budget = maxsplit < 0 ? INT64_MAX : maxsplit;
    if (sep) {
        size_t end = s.size();
        while (budget-- > 0 && end >= sep->size()) {
            const size_t hit = s.rfind(*sep, end - sep->size());
            if (hit == std::string_view::npos) break;
            spans.emplace_back(hit + sep->size(), end);
            end = hit;
        }
        spans.emplace_back(0, end);
        std::reverse(spans.begin(), spans.end());
        return to_strings(s, spans);
    }
    const auto cps = code_point_spans(s);
    auto space_at = [&](int64_t k) {
        size_t p = cps[static_cast<size_t>(k)].first;
        return is_space(decode_utf8(s, p));
    };
    int64_t i = static_cast<int64_t>(cps.size()) - 1;
    while (budget-- > 0) {
        while (i >= 0 && space_at(i)) --i;
        if (i < 0) break;
        const int64_t j = i;
        while (i >= 0 && !space_at(i)) --i;
        spans.emplace_back(cps[static_cast<size_t>(i + 1)].first, cps[static_cast<size_t>(j)].second);
    }
    while (i >= 0 && space_at(i)) --i;
    if (i >= 0) spans.emplace_back(0, cps[static_cast<size_t>(i)].second);
    std::reverse(spans.begin(), spans.end());
    return to_strings(s, spans);
}

std::vector<std::string> splitlines(std::string_view s, bool keepends) {
    std::vector<std::string> lines;
    size_t line_start = 0;
    size_t pos = 0;
    while (pos < s.size()) {
        const size_t start = pos;
        const char32_t c = decode_utf8(s, pos);
        if (!is_linebreak(c)) continue;
        size_t end_of_break = pos;
        if (c == '\r' && pos < s.size() && s[pos] == '\n') end_of_break = ++pos;
        lines.emplace_back(s.substr(line_start, (keepends ? end_of_break : start) - line_start));
        line_start = end_of_break;
    }
    if (line_start < s.size()) lines.emplace_back(s.substr(line_start));
    return lines;
}

std::optional<std::string> replace(std::string_view s, std::string_view old_text, std::string_view new_text,
                                   int64_t count, size_t max_bytes) {
    std::string out;
    int64_t budget = count < 0 ? INT64_MAX : count;
    if (old_text.empty()) {
        size_t pos = 0;
        while (true) {
            if (budget-- > 0) out += new_text;
            if (pos >= s.size()) break;
            const size_t start = pos;
            decode_utf8(s, pos);
            out += s.substr(start, pos - start);
            if (out.size() > max_bytes) return std::nullopt;
        }
        if (out.size() > max_bytes) return std::nullopt;
        return out;
    }
    size_t start = 0;
    while (budget-- > 0) {
        const size_t hit = s.find(old_text, start);
        if (hit == std::string_view::npos) break;
        out += s.substr(start, hit - start);
        out += new_text;
        start = hit + old_text.size();
        if (out.size() > max_bytes) return std::nullopt;
    }
    out += s.substr(start);
    if (out.size() > max_bytes) return std::nullopt;
    return out;
}

int64_t find(std::string_view s, std::string_view sub, std::optional<int64_t> start, std::optional<int64_t> end,
             bool reverse) {
    const auto len = static_cast<int64_t>(code_point_count(s));
    auto adjust = [len](int64_t v) { return v < 0 ? std::max<int64_t>(0, v + len) : v; };
    const int64_t b = start ? adjust(*start) : 0;
    const int64_t e = std::min(end ? adjust(*end) : len, len);
    if (b > len || b > e) return -1;
    const size_t byte_b = byte_offset_of(s, static_cast<size_t>(b));
    const size_t byte_e = byte_offset_of(s, static_cast<size_t>(e));
    const std::string_view window = s.substr(byte_b, byte_e - byte_b);
    const size_t hit = reverse ? window.rfind(sub) : window.find(sub);
    if (hit == std::string_view::npos) return -1;
    return static_cast<int64_t>(code_point_index_of(s, byte_b + hit));
}

int64_t count(std::string_view s, std::string_view sub) {
    if (sub.empty()) return static_cast<int64_t>(code_point_count(s)) + 1;
    int64_t n = 0;
    size_t start = 0;
    while (true) {
        const size_t hit = s.find(sub, start);
        if (hit == std::string_view::npos) break;
        ++n;
        start = hit + sub.size();
    }
    return n;
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }
bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string pad(std::string_view s, int64_t width, char32_t fill, char align) {
    const auto len = static_cast<int64_t>(code_point_count(s));
    if (width <= len) return std::string(s);
    const int64_t margin = width - len;
    int64_t left = 0;
    if (align == '^') {
        left = margin / 2 + (margin & width & 1);
    } else if (align == '>') {
        left = margin;
    }
    std::string fill_text;
    append_utf8(fill_text, fill);
    std::string out;
    for (int64_t i = 0; i < left; ++i) out += fill_text;
    out += s;
    for (int64_t i = 0; i < margin - left; ++i) out += fill_text;
    return out;
}

std::vector<int64_t> slice_indices(int64_t length, std::optional<int64_t> start, std::optional<int64_t> stop,
                                   int64_t step) {
    int64_t b = 0;
    int64_t e = 0;
    if (step > 0) {
        b = start.value_or(0);
        e = stop.value_or(length);
        if (b < 0) b = std::max<int64_t>(0, b + length);
        if (b > length) b = length;
        if (e < 0) e = std::max<int64_t>(0, e + length);
        if (e > length) e = length;
    } else {
        b = start.value_or(length - 1);
        e = stop.value_or(-1 - length);
        if (b < 0) {
            b += length;
            if (b < 0) b = -1;
        } else if (b >= length) {
            b = length - 1;
        }
        if (e < 0) {
            e += length;
            if (e < 0) e = -1;
        } else if (e >= length) {
            e = length - 1;
        }
    }
    std::vector<int64_t> indices;
    // Steps are compared before adding so a huge step cannot overflow.
    if (step > 0) {
        for (int64_t i = b; i < e; i += step) {
            indices.push_back(i);
            if (e - i <= step) break;
        }
    } else {
        for (int64_t i = b; i > e; i += step) {
            indices.push_back(i);
            if (i - e - 1 <= -(step + 1)) break;
        }
    }
    return indices;
}

}  // namespace rf::chat::py
