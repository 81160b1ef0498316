// Template source -> tokens, with jinja2's whitespace control as HF configures it:
// trim_blocks, lstrip_blocks, `-`/`+` modifiers, one trailing newline dropped, raw blocks.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace rf::chat {

enum class TokenType : uint8_t {
    kData,
    kVariableBegin,
    kVariableEnd,
    kBlockBegin,
    kBlockEnd,
    kName,
    kString,
    kInteger,
    kFloat,
    kOperator,
    kEof,
};

enum class Op : uint8_t {
    kAdd, kSub, kDiv, kFloorDiv, kMul, kMod, kPow, kTilde,
    kLBracket, kRBracket, kLParen, kRParen, kLBrace, kRBrace,
    kEq, kNe, kGt, kGe, kLt, kLe,
    kAssign, kDot, kColon, kPipe, kComma, kSemicolon,
};

// 1-based line and column (in code points) inside the normalised source.
struct Location {
    uint32_t line = 0;
    uint32_t column = 0;
};

struct Token {
    TokenType type = TokenType::kEof;
    Op op = Op::kAdd;
    std::string text;  // data, name, or the decoded string literal
    int64_t int_value = 0;
    double float_value = 0.0;
    Location loc;
};

// Longest template source accepted (chat templates are a few KiB).
inline constexpr size_t kMaxTemplateBytes = 4u << 20;

// Tokenises a whole template. Errors name the line and column.
Result<std::vector<Token>> tokenize(std::string_view source);

std::string_view op_text(Op op);
// "line 3, column 14: <message>"
std::string located_message(Location loc, std::string_view message);

}  // namespace rf::chat
