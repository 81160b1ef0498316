// The vocabulary as a plain struct (tokens, scores, types, merges, special ids, flags), read
// from GGUF `tokenizer.ggml.*` metadata or built by hand in tests, and its validation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace rf::gguf {
class GgufFile;
}

namespace rf::tok {

inline constexpr int32_t kNoToken = -1;

// Values equal the GGUF `tokenizer.ggml.token_type` ids.
enum class TokenType : int32_t {
    kUndefined = 0,
    kNormal = 1,
    kUnknown = 2,
    kControl = 3,
    kUserDefined = 4,
    kUnused = 5,
    kByte = 6,
};

// Token attribute bits, derived from the type (plus strip flags some models need).
namespace attr {
inline constexpr uint32_t kUndefined = 0;
inline constexpr uint32_t kUnknown = 1u << 0;
inline constexpr uint32_t kUnused = 1u << 1;
inline constexpr uint32_t kNormal = 1u << 2;
inline constexpr uint32_t kControl = 1u << 3;
inline constexpr uint32_t kUserDefined = 1u << 4;
inline constexpr uint32_t kByte = 1u << 5;
inline constexpr uint32_t kLstrip = 1u << 7;  // eat whitespace left of the token when matched
inline constexpr uint32_t kRstrip = 1u << 8;  // eat whitespace right of the token when matched
}  // namespace attr

uint32_t attr_from_type(TokenType type);

// `tokenizer.ggml.model`: llama = SentencePiece-style, gpt2 = byte-level BPE, bert = WordPiece.
enum class VocabType { kSpm, kBpe, kWpm };

// Special token ids as stored in the file; nullopt = key absent (model defaults then apply).
struct SpecialIds {
    std::optional<int64_t> bos, eos, eot, eom, unk, sep, pad, mask;
    std::optional<int64_t> fim_pre, fim_suf, fim_mid, fim_pad, fim_rep, fim_sep;
};

// Everything the tokenizer needs, exactly as the file says it (defaults resolved later).
struct Vocab {
    std::string model;  // tokenizer.ggml.model
    std::string pre;    // tokenizer.ggml.pre ("" when absent)
    std::string name;   // general.name (a few models need per-name token attributes)
    std::vector<std::string> tokens;
    std::vector<float> scores;                               // empty or one per token
    std::vector<int32_t> types;                              // empty or one per token (TokenType)
    std::vector<std::pair<std::string, std::string>> merges; // rank order, BPE only
    SpecialIds special;
    std::optional<bool> add_bos, add_eos, add_sep;
    std::optional<bool> add_space_prefix, remove_extra_whitespaces;
    std::optional<bool> lowercase, strip_accents;  // WordPiece normalizer
};

// Structural checks on untrusted data: sizes agree, tokens unique, merges well formed.
// Special ids out of range are not an error here (real files carry some; see Tokenizer).
Status validate_vocab(const Vocab& vocab);

// Parses one `tokenizer.ggml.merges` entry "left right"; the separator is the first space
// after the first byte (a token may itself be a space in non-byte-level vocabularies).
Result<std::pair<std::string, std::string>> parse_merge(std::string_view merge, size_t index);

// Reads and validates the `tokenizer.ggml.*` keys of a GGUF file.
Result<Vocab> load_vocab(const gguf::GgufFile& file);

}  // namespace rf::tok
