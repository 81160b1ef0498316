// Internal: the resolved vocabulary every encoder/decoder part reads (not a public header).
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/bpe.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/special_tokens.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/word_cache.h"

namespace rf::tok {

// Heterogeneous hashing so string_view lookups need no temporary std::string.
struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using TokenMap = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

struct Tokenizer::State {
    VocabType type = VocabType::kSpm;
    std::string pre;  // pre-tokenizer family (BPE only)

    std::vector<std::string> tokens;  // [n_vocab] text as stored
    std::vector<float> scores;        // [n_vocab]
    std::vector<uint32_t> attrs;      // [n_vocab] attr:: bits
    std::vector<std::string> pieces;  // [n_vocab] decoded bytes, control tokens rendered
    TokenMap token_to_id;

    int32_t bos = kNoToken, eos = kNoToken, eot = kNoToken, eom = kNoToken;
    int32_t unk = kNoToken, sep = kNoToken, pad = kNoToken, mask = kNoToken;
    int32_t fim_pre = kNoToken, fim_suf = kNoToken, fim_mid = kNoToken;
    int32_t fim_pad = kNoToken, fim_rep = kNoToken, fim_sep = kNoToken;
    std::vector<int32_t> eog;  // sorted

    bool add_bos = false, add_eos = false, add_sep = false;
    bool add_space_prefix = false, remove_extra_whitespaces = false;
    bool clean_spaces = false;
    bool wpm_lowercase = true, wpm_strip_accents = true;  // WordPiece normalizer
    size_t max_token_bytes = 0;

    // SPM byte fallback: byte -> "<0xNN>" token (or the 1-byte token), kNoToken if none.
    std::array<int32_t, 256> byte_tokens{};

    // SPM: no token has U+2581 after another character, so merges never cross the start of
    // a "▁word" and each such word can be encoded (and cached) on its own.
    bool spm_split_words = false;
    WordCache spm_cache;

    SpecialTokenMatcher special;
    std::optional<RegexSplitter> splitter;  // BPE
    std::optional<BpeModel> bpe;            // BPE

    int32_t n_vocab() const { return static_cast<int32_t>(tokens.size()); }
    bool valid(int32_t id) const { return id >= 0 && id < n_vocab(); }
    int32_t find(std::string_view text) const {
        const auto it = token_to_id.find(text);
        return it == token_to_id.end() ? kNoToken : it->second;
    }
};

// Builds the state from a validated vocabulary (defaults, EOG set, attributes, caches).
Result<std::unique_ptr<Tokenizer::State>> resolve_vocab(Vocab vocab);

// SentencePiece-style encoding of one text fragment (already space-prefixed and escaped).
void spm_encode(const Tokenizer::State& state, std::string_view text, std::vector<int32_t>& out);

// WordPiece encoding of one text fragment.
void wpm_encode(const Tokenizer::State& state, std::string_view text, std::vector<int32_t>& out);

// The piece of a token as llama.cpp's token_to_piece computes it (render special = true).
std::string compute_piece(const Tokenizer::State& state, int32_t id);

}  // namespace rf::tok
