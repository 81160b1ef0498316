// RegexSplitter: PCRE2-compiled pre-tokenizer regexes applied in sequence.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/pre_tokenizer.h"

#include <pcre2.h>

#include "core/check.h"
#include "core/log.h"
#include "tokenizer/unicode.h"

namespace rf::tok {
namespace {

// Unicode White_Space: what `\s` means to the regex engines the patterns were written for.
constexpr std::string_view kWhiteSpace =
    R"(\t\n\x0B\f\r\x20\x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000})";

constexpr uint32_t kCompileOptions =
    PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF | PCRE2_DOLLAR_ENDONLY;

// Per-thread match state, so that const splitting can run on many threads at once.
struct MatchState {
    pcre2_match_data* data = nullptr;
    pcre2_jit_stack* jit_stack = nullptr;
    pcre2_match_context* context = nullptr;

    MatchState() {
        data = pcre2_match_data_create(1, nullptr);
        context = pcre2_match_context_create(nullptr);
        jit_stack = pcre2_jit_stack_create(32 * 1024, 4 * 1024 * 1024, nullptr);
        RF_CHECK(data != nullptr && context != nullptr);
        if (jit_stack != nullptr) pcre2_jit_stack_assign(context, nullptr, jit_stack);
    }
    ~MatchState() {
        pcre2_match_data_free(data);
        pcre2_match_context_free(context);
        pcre2_jit_stack_free(jit_stack);
    }
    MatchState(const MatchState&) = delete;
    MatchState& operator=(const MatchState&) = delete;
};

MatchState& match_state() {
    thread_local MatchState state;
    return state;
}

// Bytes of the character at `pos` (1 for bytes that start no valid character).
size_t char_length_at(std::string_view s, size_t pos) {
    const int n = utf8_sequence_length(s.substr(pos));
    return n > 0 ? static_cast<size_t>(n) : 1;
}

}  // namespace

std::string rewrite_whitespace_escapes(std::string_view pattern) {
    std::string out;
    out.reserve(pattern.size() + 64);
    bool in_class = false;
    for (size_t i = 0; i < pattern.size(); ++i) {
        const char c = pattern[i];
        if (c == '\\' && i + 1 < pattern.size()) {
            const char next = pattern[++i];
            if (next == 's') {
                out += in_class ? std::string(kWhiteSpace) : "[" + std::string(kWhiteSpace) + "]";
            } else if (next == 'S' && !in_class) {
                out += "[^" + std::string(kWhiteSpace) + "]";
            } else {
                out += c;
                out += next;
            }
            continue;
        }
        if (c == '[' && !in_class) {
            in_class = true;
            out += c;
            // A ']' right after '[' or '[^' is a literal member, not the end of the class.
            if (i + 1 < pattern.size() && pattern[i + 1] == '^') out += pattern[++i];
            if (i + 1 < pattern.size() && pattern[i + 1] == ']') out += pattern[++i];
            continue;
        }
        if (c == ']' && in_class) in_class = false;
        out += c;
    }
    return out;
}

void RegexSplitter::CodeDeleter::operator()(pcre2_real_code_8* code) const {
    pcre2_code_free(code);
}

RegexSplitter::RegexSplitter(RegexSplitter&&) noexcept = default;
RegexSplitter& RegexSplitter::operator=(RegexSplitter&&) noexcept = default;
RegexSplitter::~RegexSplitter() = default;

Result<RegexSplitter> RegexSplitter::create(std::span<const std::string> regexes) {
    RegexSplitter splitter;
    for (const std::string& regex : regexes) {
        const std::string rewritten = rewrite_whitespace_escapes(regex);
        int error_code = 0;
        PCRE2_SIZE error_offset = 0;
        pcre2_code* code =
            pcre2_compile(reinterpret_cast<PCRE2_SPTR>(rewritten.data()), rewritten.size(),
                          kCompileOptions, &error_code, &error_offset, nullptr);
        if (code == nullptr) {
            PCRE2_UCHAR message[256];
            pcre2_get_error_message(error_code, message, sizeof(message));
            return error("pre-tokenizer regex '{}' does not compile at offset {}: {}", regex,
                         error_offset, reinterpret_cast<const char*>(message));
        }
        Pattern pattern;
        pattern.code.reset(code);
        pattern.jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
        splitter.patterns_.push_back(std::move(pattern));
    }
    return splitter;
}

// Splits one chunk by one pattern: matches and the gaps between them become pieces; an
// empty match marks a cut point (zero-width patterns such as digit grouping).
void RegexSplitter::split_one(const Pattern& pattern, std::string_view chunk,
                              std::vector<std::string_view>& out) const {
    MatchState& state = match_state();
    const auto* subject = reinterpret_cast<PCRE2_SPTR>(chunk.data());
    size_t piece_start = 0;
    size_t search = 0;
    while (search <= chunk.size()) {
        const int rc = pattern.jit ? pcre2_jit_match(pattern.code.get(), subject, chunk.size(),
                                                     search, 0, state.data, state.context)
                                   : pcre2_match(pattern.code.get(), subject, chunk.size(),
                                                 search, 0, state.data, state.context);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) {
            // Resource limits on hostile input: keep the rest as one piece rather than fail.
            log::debug("tokenizer: regex match failed ({}); rest of chunk kept whole", rc);
            break;
        }
        const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(state.data);
        const size_t begin = ovector[0];
        const size_t end = ovector[1];
        if (begin > piece_start) out.push_back(chunk.substr(piece_start, begin - piece_start));
        if (end > begin) {
            out.push_back(chunk.substr(begin, end - begin));
            piece_start = end;
            search = end;
        } else {
            piece_start = begin;
            if (begin >= chunk.size()) break;
            search = begin + char_length_at(chunk, begin);
        }
    }
    if (piece_start < chunk.size()) out.push_back(chunk.substr(piece_start));
}

void RegexSplitter::split(std::string_view text, std::vector<std::string_view>& words) const {
    if (text.empty()) return;
    if (patterns_.empty()) {
        words.push_back(text);
        return;
    }
    std::vector<std::string_view> current{text};
    std::vector<std::string_view> next;
    for (size_t p = 0; p < patterns_.size(); ++p) {
        const bool last = p + 1 == patterns_.size();
        std::vector<std::string_view>& target = last ? words : next;
        for (const std::string_view chunk : current) split_one(patterns_[p], chunk, target);
        if (!last) {
            current.swap(next);
            next.clear();
        }
    }
}

}  // namespace rf::tok
