// Tokens -> syntax tree, following jinja2's grammar and operator precedence (including its
// quirks: left-associative `**`, filters binding tighter than unary minus's operand, ...).
#pragma once

#include <string_view>

#include "chat/ast.h"
#include "core/status.h"

namespace rf::chat {

// Deepest nesting of expressions or blocks accepted; jinja2 itself stops near here (Python's
// recursion limit), and it keeps our recursive evaluator's stack small.
inline constexpr int kMaxParseDepth = 100;

// Parses a whole template. Errors carry "line L, column C: ..." and jinja2's wording where it
// has one ("Encountered unknown tag 'x'.", "No filter named 'x'.", ...).
Result<Program> parse_template(std::string_view source);

}  // namespace rf::chat
