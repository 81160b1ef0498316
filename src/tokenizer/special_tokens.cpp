// SpecialTokenMatcher: a trie finds which special tokens occur at all, then the text is cut
// token by token (longest first), which is how the reference tokenizer orders matches.
#include "tokenizer/special_tokens.h"

#include <algorithm>

#include "tokenizer/vocab.h"

namespace rf::tok {
namespace {

// The reference strips with C isspace(): space, \t, \n, \v, \f, \r.
bool is_c_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

constexpr uint32_t kSpecialAttrs = attr::kControl | attr::kUserDefined | attr::kUnknown;

}  // namespace

void SpecialTokenMatcher::build(const std::vector<std::string>& tokens,
                                const std::vector<uint32_t>& attrs) {
    ids_.clear();
    texts_.clear();
    attrs_.clear();
    nodes_.assign(1, Node{});
    root_.fill(-1);
    for (size_t id = 0; id < tokens.size(); ++id) {
        if ((attrs[id] & kSpecialAttrs) != 0 && !tokens[id].empty()) {
            ids_.push_back(static_cast<int32_t>(id));
        }
    }
    // Longest first; equal lengths by id so the order never depends on hashing.
    std::stable_sort(ids_.begin(), ids_.end(), [&](int32_t a, int32_t b) {
        return tokens[a].size() > tokens[b].size();
    });
    for (size_t i = 0; i < ids_.size(); ++i) {
        const std::string& text = tokens[ids_[i]];
        texts_.push_back(text);
        attrs_.push_back(attrs[ids_[i]]);
        int32_t node = 0;
        for (size_t k = 0; k < text.size(); ++k) {
            const auto byte = static_cast<uint8_t>(text[k]);
            int32_t next = child(node, byte);
            if (next < 0) {
                next = static_cast<int32_t>(nodes_.size());
                nodes_.push_back(Node{});
                if (node == 0) {
                    root_[byte] = next;
                } else {
                    nodes_[node].children.emplace_back(byte, next);
                }
            }
            node = next;
        }
        if (nodes_[node].entry < 0) nodes_[node].entry = static_cast<int32_t>(i);
    }
}

int32_t SpecialTokenMatcher::child(int32_t node, uint8_t byte) const {
    if (node == 0) return root_[byte];
    for (const auto& [b, index] : nodes_[node].children) {
        if (b == byte) return index;
    }
    return -1;
}

void SpecialTokenMatcher::find_present(std::string_view text, bool parse_special,
                                       std::vector<char>& present) const {
    present.assign(ids_.size(), 0);
    for (size_t pos = 0; pos < text.size(); ++pos) {
        int32_t node = root_[static_cast<uint8_t>(text[pos])];
        for (size_t k = pos + 1; node >= 0; ++k) {
            const int32_t entry = nodes_[node].entry;
            if (entry >= 0) {
                const bool allowed =
                    parse_special || (attrs_[entry] & (attr::kControl | attr::kUnknown)) == 0;
                if (allowed) present[entry] = 1;
            }
            if (k >= text.size()) break;
            node = child(node, static_cast<uint8_t>(text[k]));
        }
    }
}

void SpecialTokenMatcher::partition(std::string_view text, bool parse_special,
                                    std::vector<Fragment>& out) const {
    out.clear();
    if (text.empty()) return;
    out.push_back(Fragment{-1, 0, text.size()});
    if (ids_.empty()) return;
    std::vector<char> present;
    find_present(text, parse_special, present);
    if (std::find(present.begin(), present.end(), 1) == present.end()) return;

    std::vector<Fragment> next;
    for (size_t i = 0; i < ids_.size(); ++i) {
        if (!present[i]) continue;
        const std::string& token = texts_[i];
        const bool lstrip = (attrs_[i] & attr::kLstrip) != 0;
        const bool rstrip = (attrs_[i] & attr::kRstrip) != 0;
        next.clear();
        for (const Fragment& fragment : out) {
            if (!fragment.is_text()) {
                next.push_back(fragment);
                continue;
            }
            const size_t end = fragment.offset + fragment.length;
            const std::string_view window = text.substr(0, end);
            size_t base = fragment.offset;
            while (base < end) {
                const size_t match = window.find(token, base);
                if (match == std::string_view::npos) break;
                size_t left_end = match;
                if (lstrip) {
                    while (left_end > base && is_c_space(text[left_end - 1])) --left_end;
                }
                if (left_end > base) next.push_back(Fragment{-1, base, left_end - base});
                next.push_back(Fragment{ids_[i], match, token.size()});
                base = match + token.size();
                if (rstrip) {
                    while (base < end && is_c_space(text[base])) ++base;
                }
            }
            if (base < end) next.push_back(Fragment{-1, base, end - base});
        }
        out.swap(next);
    }
}

}  // namespace rf::tok
