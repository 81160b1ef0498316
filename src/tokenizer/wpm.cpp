// WordPiece (BERT) encoding: HF BertNormalizer cleaning (control characters dropped, CJK
// isolated, accents stripped through NFD, lower case) with ICU's Unicode data, a split on
// whitespace and punctuation, then greedy longest-match pieces. GGUF vocabularies mark a
// word's first piece with a leading U+2581 instead of marking continuations with "##".
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>

#include "tokenizer/tokenizer_state.h"
#include "tokenizer/unicode.h"

namespace rf::tok {
namespace {

constexpr size_t kMaxWordChars = 100;  // longer words become the unknown token, as in HF

bool is_other(UChar32 c) {
    switch (u_charType(c)) {
        case U_CONTROL_CHAR: case U_FORMAT_CHAR: case U_SURROGATE: case U_PRIVATE_USE_CHAR:
        case U_UNASSIGNED: return true;
        default: return false;
    }
}

bool is_punctuation(UChar32 c) {
    if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
        (c >= 123 && c <= 126)) {
        return true;  // all ASCII punctuation and symbols
    }
    switch (u_charType(c)) {
        case U_DASH_PUNCTUATION: case U_START_PUNCTUATION: case U_END_PUNCTUATION:
        case U_CONNECTOR_PUNCTUATION: case U_OTHER_PUNCTUATION: case U_INITIAL_PUNCTUATION:
        case U_FINAL_PUNCTUATION: return true;
        default: return false;
    }
}

// The CJK blocks BERT isolates as single-character words.
bool is_cjk(UChar32 c) {
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
           (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
           (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

// Canonical decomposition without non-spacing marks.
void append_stripped(UChar32 c, std::vector<UChar32>& out) {
    UErrorCode status = U_ZERO_ERROR;
    const UNormalizer2* nfd = unorm2_getNFDInstance(&status);
    UChar buffer[32];
    const int32_t n = U_SUCCESS(status) ? unorm2_getDecomposition(nfd, c, buffer, 32, &status) : -1;
    if (n < 0 || U_FAILURE(status)) {
        if (u_charType(c) != U_NON_SPACING_MARK) out.push_back(c);
        return;
    }
    for (int32_t i = 0; i < n;) {
        UChar32 d = 0;
        U16_NEXT(buffer, i, n, d);
        if (u_charType(d) != U_NON_SPACING_MARK) out.push_back(d);
    }
}

// Full (possibly expanding) lower case of one character, without context rules.
void append_lower(UChar32 c, std::string& out) {
    UChar in[2];
    int32_t in_len = 0;
    UBool error = false;
    U16_APPEND(in, in_len, 2, c, error);
    UChar lower[8];
    UErrorCode status = U_ZERO_ERROR;
    const int32_t n = u_strToLower(lower, 8, in, in_len, "", &status);
    if (U_FAILURE(status) || error) {
        append_utf8(out, static_cast<uint32_t>(c));
        return;
    }
    for (int32_t i = 0; i < n;) {
        UChar32 d = 0;
        U16_NEXT(lower, i, n, d);
        append_utf8(out, static_cast<uint32_t>(d));
    }
}

// BertNormalizer + BertPreTokenizer: text -> words.
std::vector<std::string> normalize_and_split(const Tokenizer::State& s, std::string_view text) {
    std::vector<UChar32> cleaned;
    for (size_t pos = 0; pos < text.size();) {
        const auto c = static_cast<UChar32>(next_code_point(text, pos));
        if (c == 0 || c == 0xFFFD) continue;
        if (c == '\t' || c == '\n' || c == '\r') {
            cleaned.push_back(' ');
        } else if (is_other(c)) {
            continue;
        } else if (u_isUWhiteSpace(c)) {
            cleaned.push_back(' ');
        } else if (is_cjk(c)) {
            cleaned.insert(cleaned.end(), {' ', c, ' '});
        } else if (s.wpm_strip_accents) {
            append_stripped(c, cleaned);
        } else {
            cleaned.push_back(c);
        }
    }
    std::vector<std::string> words(1);
    for (const UChar32 c : cleaned) {
        if (c == ' ' || u_isUWhiteSpace(c)) {
            if (!words.back().empty()) words.emplace_back();
            continue;
        }
        const bool punct = is_punctuation(c);
        if (punct && !words.back().empty()) words.emplace_back();
        if (s.wpm_lowercase) {
            append_lower(c, words.back());
        } else {
            append_utf8(words.back(), static_cast<uint32_t>(c));
        }
        if (punct) words.emplace_back();
    }
    if (words.back().empty()) words.pop_back();
    return words;
}

size_t count_chars(std::string_view word) {
    size_t n = 0;
    for (size_t pos = 0; pos < word.size(); ++n) next_code_point(word, pos);
    return n;
}

}  // namespace

void wpm_encode(const Tokenizer::State& s, std::string_view text, std::vector<int32_t>& out) {
    for (const std::string& word : normalize_and_split(s, text)) {
        const size_t start_size = out.size();
        bool ok = count_chars(word) <= kMaxWordChars;
        const std::string marked = std::string(kSpmSpace) + word;
        for (size_t i = 0; ok && i < marked.size();) {
            // Longest vocabulary entry starting at i.
            size_t best = 0;
            int32_t best_id = kNoToken;
            const size_t max_end = std::min(marked.size(), i + s.max_token_bytes);
            for (size_t end = max_end; end > i; --end) {
                const int32_t id = s.find(std::string_view(marked).substr(i, end - i));
                if (id != kNoToken) {
                    best = end;
                    best_id = id;
                    break;
                }
            }
            if (best_id == kNoToken) {
                ok = false;
                break;
            }
            out.push_back(best_id);
            i = best;
        }
        if (!ok) {
            out.resize(start_size);
            if (s.unk != kNoToken) out.push_back(s.unk);
        }
    }
}

}  // namespace rf::tok
