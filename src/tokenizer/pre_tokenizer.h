// Byte-level BPE pre-tokenization: the regex sequence each `tokenizer.ggml.pre` value names,
// run by PCRE2 (UTF + UCP, JIT when available) to cut text into words before merging.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

struct pcre2_real_code_8;

namespace rf::tok {

// What a pre-tokenizer name implies: its regexes plus the defaults the reference loader ties
// to it.
struct PreTokenizerConfig {
    std::string name;                  // canonical family name, for messages
    std::vector<std::string> regexes;  // applied in order; each splits the previous pieces
    bool ignore_merges = false;        // a word that is itself a token is emitted whole
    bool add_bos = false;              // default of add_bos_token
    bool add_sep = false;              // default of add_sep_token
    bool clean_spaces = true;          // decode-time clean-up of " ," " ." ... (HF default)
    bool clear_bos = false;            // the family has no BOS token
};

// The configuration for `pre` ("" = the default set). Unknown names fall back to the default
// set with a warning; names of families that need another algorithm are errors.
Result<PreTokenizerConfig> pre_tokenizer_config(std::string_view pre);

// Every `tokenizer.ggml.pre` value the table knows (supported or not).
std::vector<std::string_view> known_pre_tokenizers();

// Rewrites `\s` / `\S` to the Unicode White_Space set (what the reference regex engines
// match), since PCRE2's own \s also accepts U+180E.
std::string rewrite_whitespace_escapes(std::string_view pattern);

// A compiled regex sequence. Splitting keeps the text between matches as pieces of its own,
// so the pieces always tile the input exactly (invalid UTF-8 bytes included).
class RegexSplitter {
public:
    static Result<RegexSplitter> create(std::span<const std::string> regexes);

    RegexSplitter(RegexSplitter&&) noexcept;
    RegexSplitter& operator=(RegexSplitter&&) noexcept;
    ~RegexSplitter();

    // Appends the pieces of `text` (views into it) to `words`; safe to call concurrently.
    void split(std::string_view text, std::vector<std::string_view>& words) const;

private:
    struct CodeDeleter {
        void operator()(pcre2_real_code_8* code) const;
    };
    struct Pattern {
        std::unique_ptr<pcre2_real_code_8, CodeDeleter> code;
        bool jit = false;
    };
    RegexSplitter() = default;
    void split_one(const Pattern& pattern, std::string_view chunk,
                   std::vector<std::string_view>& out) const;

    std::vector<Pattern> patterns_;
};

}  // namespace rf::tok
