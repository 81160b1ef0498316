// Tokens -> syntax tree, following jinja2's grammar and operator precedence (including its
// quirks: left-associative `**`, filters binding tighter than unary minus's operand, ...).
#pragma once

#include <string_view>

#include "chat/ast.h"
#include "core/status.h"

namespace rf::chat {

// Deepest nesting of expressions or blocks accepted, counting every level of the tree (a chain
// `a + b + c` or `x|f|g` nests one level per link). jinja2 itself stops near here (Python's
// recursion limit); it bounds the stack of parsing, evaluation and destruction of the tree.
inline constexpr int kMaxParseDepth = 250;

// Parses a whole template. Errors carry "line L, column C: ..." and jinja2's wording where it
// has one ("Encountered unknown tag 'x'.", "No filter named 'x'.", ...).
Result<Program> parse_template(std::string_view source);

}  // namespace rf::chat
