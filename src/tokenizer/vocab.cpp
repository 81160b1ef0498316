// Vocabulary validation and the token-type -> attribute mapping.
#include "tokenizer/vocab.h"

#include <limits>
#include <unordered_map>

namespace rf::tok {
namespace {

// Error messages quote at most this many bytes of untrusted text.
constexpr size_t kQuoteLimit = 64;

std::string quote(std::string_view text) {
    std::string out;
    for (const char c : text.substr(0, kQuoteLimit)) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7F) {
            out += fmt::format("\\x{:02x}", u);
        } else {
            out += c;
        }
    }
    if (text.size() > kQuoteLimit) out += "...";
    return out;
}

}  // namespace

uint32_t attr_from_type(TokenType type) {
    switch (type) {
        case TokenType::kNormal: return attr::kNormal;
        case TokenType::kUnknown: return attr::kUnknown;
        case TokenType::kControl: return attr::kControl;
        case TokenType::kUserDefined: return attr::kUserDefined;
        case TokenType::kUnused: return attr::kUnused;
        case TokenType::kByte: return attr::kByte;
        case TokenType::kUndefined: return attr::kUndefined;
    }
    return attr::kUndefined;
}

Result<std::pair<std::string, std::string>> parse_merge(std::string_view merge, size_t index) {
    const size_t space = merge.size() > 1 ? merge.find(' ', 1) : std::string_view::npos;
    if (space == std::string_view::npos || space + 1 >= merge.size()) {
        return error("tokenizer.ggml.merges[{}] = '{}' is not of the form 'left right'", index,
                     quote(merge));
    }
    return std::pair<std::string, std::string>(std::string(merge.substr(0, space)),
                                               std::string(merge.substr(space + 1)));
}

Status validate_vocab(const Vocab& vocab) {
    const size_t n = vocab.tokens.size();
    if (n == 0) return error("tokenizer.ggml.tokens is empty");
    if (n > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
        return error("tokenizer.ggml.tokens has {} entries, more than a 32-bit id can address", n);
    }
    if (!vocab.scores.empty() && vocab.scores.size() != n) {
        return error("tokenizer.ggml.scores has {} entries but there are {} tokens",
                     vocab.scores.size(), n);
    }
    if (!vocab.types.empty() && vocab.types.size() != n) {
        return error("tokenizer.ggml.token_type has {} entries but there are {} tokens",
                     vocab.types.size(), n);
    }
    std::unordered_map<std::string_view, size_t> seen;
    seen.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        const std::string& token = vocab.tokens[i];
        if (token.empty()) return error("tokenizer.ggml.tokens[{}] is empty", i);
        const auto [it, inserted] = seen.emplace(token, i);
        if (!inserted) {
            return error("tokenizer.ggml.tokens: '{}' appears twice (ids {} and {})", quote(token),
                         it->second, i);
        }
    }
    for (size_t i = 0; i < vocab.merges.size(); ++i) {
        const auto& [left, right] = vocab.merges[i];
        if (left.empty() || right.empty()) {
            return error("tokenizer.ggml.merges[{}] has an empty side ('{}' '{}')", i, quote(left),
                         quote(right));
        }
    }
    return Status::ok();
}

}  // namespace rf::tok
