// Finds special tokens (control, user-defined, unknown) written out in input text and cuts
// the text around them, in llama.cpp's order: longest token text first, leftmost first.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rf::tok {

// A piece of input: either raw text [offset, offset + length) or one token.
struct Fragment {
    int32_t token = -1;  // -1 for raw text
    size_t offset = 0;
    size_t length = 0;
    bool is_text() const { return token < 0; }
};

class SpecialTokenMatcher {
public:
    // Keeps the tokens whose attributes mark them special; `attrs` per token (attr:: bits).
    void build(const std::vector<std::string>& tokens, const std::vector<uint32_t>& attrs);

    // Cuts `text` into fragments. Without parse_special only user-defined tokens are cut
    // out; control and unknown token text stays plain text.
    void partition(std::string_view text, bool parse_special, std::vector<Fragment>& out) const;

    size_t size() const { return ids_.size(); }

private:
    struct Node {
        std::vector<std::pair<uint8_t, int32_t>> children;  // byte -> node index
        int32_t entry = -1;                                  // index into ids_ ending here
    };
    // Marks in `present` (indexed like ids_) every special token occurring in `text`.
    void find_present(std::string_view text, bool parse_special, std::vector<char>& present) const;
    int32_t child(int32_t node, uint8_t byte) const;

    std::vector<int32_t> ids_;          // special token ids, longest text first
    std::vector<std::string> texts_;    // [i] text of ids_[i]
    std::vector<uint32_t> attrs_;
    std::vector<Node> nodes_;           // trie over the texts; node 0 is the root
    std::array<int32_t, 256> root_{};   // root children, -1 when absent
};

}  // namespace rf::tok
