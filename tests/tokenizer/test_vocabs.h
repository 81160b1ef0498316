// Small hand-built vocabularies for unit tests (no files needed).
#pragma once

#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

namespace rf::tok::testing {

// SentencePiece-style: <unk> <s> </s>, 256 byte tokens, then the pieces below.
// Ids: 0 <unk>, 1 <s>, 2 </s>, 3..258 <0x00>..<0xFF>, 259.. kSpmPieces in order.
inline const std::vector<std::string> kSpmPieces = {
    "\xE2\x96\x81",        // 259 "▁"
    "\xE2\x96\x81H",       // 260
    "\xE2\x96\x81He",      // 261
    "ll",                  // 262
    "llo",                 // 263
    "\xE2\x96\x81Hello",   // 264
    "H", "e", "l", "o",    // 265-268
    "w", "r", "d",         // 269-271
    "\xE2\x96\x81w",       // 272
    "or",                  // 273
    "ld",                  // 274
    "\xE2\x96\x81world",   // 275
    "<|user|>",            // 276 user-defined
    "<|end|>",             // 277 control
    "orld",                // 278
    "\xE2\x96\x81wor",     // 279
};

inline Vocab make_spm_vocab() {
    Vocab v;
    v.model = "llama";
    v.tokens = {"<unk>", "<s>", "</s>"};
    v.types = {2, 3, 3};
    v.scores = {0, 0, 0};
    for (int b = 0; b < 256; ++b) {
        v.tokens.push_back(fmt::format("<0x{:02X}>", b));
        v.types.push_back(6);
        v.scores.push_back(0);
    }
    for (size_t i = 0; i < kSpmPieces.size(); ++i) {
        v.tokens.push_back(kSpmPieces[i]);
        const bool user = kSpmPieces[i] == "<|user|>";
        const bool control = kSpmPieces[i] == "<|end|>";
        v.types.push_back(user ? 4 : control ? 3 : 1);
        // Longer pieces score higher so that whole words win.
        v.scores.push_back(static_cast<float>(kSpmPieces[i].size()) - 10.0f);
    }
    return v;
}

// Byte-level BPE: the 256 byte characters (id = byte), then merged tokens and two specials.
inline Vocab make_bpe_vocab(const std::string& pre,
                            const std::vector<std::pair<std::string, std::string>>& merges) {
    Vocab v;
    v.model = "gpt2";
    v.pre = pre;
    const ByteLevelMap& map = ByteLevelMap::get();
    for (int b = 0; b < 256; ++b) v.tokens.emplace_back(map.encode(static_cast<uint8_t>(b)));
    for (const auto& [left, right] : merges) {
        const std::string joined = left + right;
        bool present = false;
        for (const std::string& t : v.tokens) present = present || t == joined;
        if (!present) v.tokens.push_back(joined);
    }
    v.merges = merges;
    v.types.assign(v.tokens.size(), 1);
    v.tokens.push_back("<|endoftext|>");
    v.types.push_back(3);
    v.tokens.push_back("<tool>");
    v.types.push_back(4);
    v.special.bos = static_cast<int64_t>(v.tokens.size() - 2);
    v.special.eos = static_cast<int64_t>(v.tokens.size() - 2);
    return v;
}

inline int32_t byte_id(char c) { return static_cast<uint8_t>(c); }

}  // namespace rf::tok::testing
