// Tokeniser mirroring jinja2's lexer rules for HF's environment (trim_blocks + lstrip_blocks,
// keep_trailing_newline off): the whitespace handling decides byte equality of every prompt.
#include "chat/lexer.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>

#include "chat/py_str.h"

namespace rf::chat {
namespace {

struct OpSpelling {
    std::string_view text;
    Op op;
};

// Two-character operators first: the lexer takes the longest match.
constexpr std::array<OpSpelling, 26> kOps = {{
    {"//", Op::kFloorDiv}, {"**", Op::kPow}, {"==", Op::kEq},      {"!=", Op::kNe},       {">=", Op::kGe},
    {"<=", Op::kLe},       {"+", Op::kAdd},  {"-", Op::kSub},      {"/", Op::kDiv},       {"*", Op::kMul},
    {"%", Op::kMod},       {"~", Op::kTilde}, {"[", Op::kLBracket}, {"]", Op::kRBracket}, {"(", Op::kLParen},
    {")", Op::kRParen},    {"{", Op::kLBrace}, {"}", Op::kRBrace},  {"=", Op::kAssign},   {".", Op::kDot},
    {":", Op::kColon},     {"|", Op::kPipe}, {",", Op::kComma},    {";", Op::kSemicolon}, {">", Op::kGt},
    {"<", Op::kLt},
}};

enum class TagKind { kVariable, kBlock, kComment };

class Lexer {
public:
    explicit Lexer(std::string source) : src_(std::move(source)) {
        line_starts_.push_back(0);
        for (size_t i = 0; i < src_.size(); ++i) {
            if (src_[i] == '\n') line_starts_.push_back(i + 1);
        }
    }

    Result<std::vector<Token>> run();

private:
    Location loc(size_t offset) const {
        const auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
        const size_t line = static_cast<size_t>(it - line_starts_.begin());
        const size_t start = line_starts_[line - 1];
        // Tokens come in source order: continue counting from the previous one on the same line
        // (counting from the line start each time is quadratic on long one-line templates).
        if (memo_line_ != line || memo_offset_ > offset) {
            memo_line_ = line;
            memo_offset_ = start;
            memo_column_ = 1;
        }
        memo_column_ += py::code_point_count(std::string_view(src_).substr(memo_offset_, offset - memo_offset_));
        memo_offset_ = offset;
        return Location{static_cast<uint32_t>(line), static_cast<uint32_t>(memo_column_)};
    }
    Status fail(size_t offset, std::string_view message) const {
        return Status::error(located_message(loc(offset), message));
    }
    bool starts(size_t pos, std::string_view s) const { return src_.compare(pos, s.size(), s) == 0; }
    char at(size_t pos) const { return pos < src_.size() ? src_[pos] : '\0'; }
    // Skips Unicode whitespace (regex \s) from pos.
    size_t skip_ws(size_t pos) const {
        while (pos < src_.size()) {
            size_t next = pos;
            if (!py::is_space(py::decode_utf8(src_, next))) break;
            pos = next;
        }
        return pos;
    }
    void emit(TokenType type, size_t offset, std::string text = {}) {
        Token t;
        t.type = type;
        t.text = std::move(text);
        t.loc = loc(offset);
        tokens_.push_back(std::move(t));
    }
    void emit_data(std::string text, char sign, bool is_variable, size_t offset);
    size_t match_raw_begin(size_t pos) const;
    size_t match_endraw(size_t pos, char& sign) const;
    Status lex_comment(size_t& pos);
    Status lex_raw(size_t& pos);
    Status lex_tag(size_t& pos, TagKind kind);
    Status lex_number(size_t& pos);
    size_t match_float(size_t start) const;
    size_t match_integer(size_t start, int& base) const;
    Status decode_escape(size_t& i, std::string& out, size_t open) const;
    Status lex_string(size_t& pos);
    size_t match_digits(size_t pos) const;

    std::string src_;
    std::vector<size_t> line_starts_;
    mutable size_t memo_line_ = 0, memo_offset_ = 0, memo_column_ = 1;  // loc() of the last token
    std::vector<Token> tokens_;
    bool line_starting_ = true;
};

// Applies `-` (strip all whitespace before the tag) or lstrip_blocks (strip the spaces that
// start the tag's line) to the text before a tag, then emits it.
void Lexer::emit_data(std::string text, char sign, bool is_variable, size_t offset) {
    if (sign == '-') {
        size_t end = 0;
        size_t pos = 0;
        while (pos < text.size()) {
            if (!py::is_space(py::decode_utf8(text, pos))) end = pos;
        }
        text.resize(end);
    } else if (sign != '+' && !is_variable) {
        const size_t nl = text.rfind('\n');
        const size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
        if ((l_pos > 0 || line_starting_) && l_pos < text.size()) {
            bool all_space = true;
            size_t pos = l_pos;
            while (pos < text.size() && all_space) all_space = py::is_space(py::decode_utf8(text, pos));
            if (all_space) text.resize(l_pos);
        }
    }
    if (!text.empty()) emit(TokenType::kData, offset, std::move(text));
}

// `{%[-+]? raw [-]?%}`: returns the end of the tag, or npos.
size_t Lexer::match_raw_begin(size_t pos) const {
    size_t i = pos + 2;
    if (at(i) == '-' || at(i) == '+') ++i;
    i = skip_ws(i);
    if (!starts(i, "raw")) return std::string::npos;
    i = skip_ws(i + 3);
    if (starts(i, "-%}")) return skip_ws(i + 3);
    if (starts(i, "%}")) return i + 2;
    return std::string::npos;
}

// `{%[-+]? endraw (+%}|-%}\s*|%}\n?)` at pos: returns the end, or npos; sign is the opener's.
size_t Lexer::match_endraw(size_t pos, char& sign) const {
    if (!starts(pos, "{%")) return std::string::npos;
    size_t i = pos + 2;
    sign = (at(i) == '-' || at(i) == '+') ? at(i) : '\0';
    if (sign != '\0') ++i;
    i = skip_ws(i);
    if (!starts(i, "endraw")) return std::string::npos;
    i = skip_ws(i + 6);
    if (starts(i, "+%}")) return i + 3;
    if (starts(i, "-%}")) return skip_ws(i + 3);
    if (starts(i, "%}")) return at(i + 2) == '\n' ? i + 3 : i + 2;
    return std::string::npos;
}

Status Lexer::lex_comment(size_t& pos) {
    const size_t open = pos;
    for (size_t k = pos; k < src_.size(); ++k) {
        if (starts(k, "+#}")) {
            pos = k + 3;
        } else if (starts(k, "-#}")) {
            pos = skip_ws(k + 3);
        } else if (starts(k, "#}")) {
            pos = at(k + 2) == '\n' ? k + 3 : k + 2;
        } else {
            continue;
        }
        line_starting_ = src_[pos - 1] == '\n';
        return Status::ok();
    }
    return fail(open, "Missing end of comment tag");
}

Status Lexer::lex_raw(size_t& pos) {
    const size_t body = pos;
    line_starting_ = pos > 0 && src_[pos - 1] == '\n';
    for (size_t k = body; k < src_.size(); ++k) {
        char sign = '\0';
        const size_t end = match_endraw(k, sign);
        if (end == std::string::npos) continue;
        emit_data(src_.substr(body, k - body), sign, false, body);
        pos = end;
        line_starting_ = src_[pos - 1] == '\n';
        return Status::ok();
    }
    return fail(body, "Missing end of raw directive");
}

size_t Lexer::match_digits(size_t pos) const {
    // (\d+_)*\d+
    size_t i = pos;
    if (!std::isdigit(static_cast<unsigned char>(at(i)))) return std::string::npos;
    while (true) {
        while (std::isdigit(static_cast<unsigned char>(at(i)))) ++i;
        if (at(i) == '_' && std::isdigit(static_cast<unsigned char>(at(i + 1)))) {
            ++i;
            continue;
        }
        return i;
    }
}

// Python float literal at `start`: digits, then an exponent (optionally after a fraction) or a
// fraction; never right after a '.'. Returns the end, or npos.
size_t Lexer::match_float(size_t start) const {
    if (start > 0 && src_[start - 1] == '.') return std::string::npos;
    const size_t a = match_digits(start);
    if (a == std::string::npos) return std::string::npos;
    const size_t frac_end = at(a) == '.' ? match_digits(a + 1) : std::string::npos;
    const size_t e = frac_end != std::string::npos ? frac_end : a;
    if (at(e) == 'e' || at(e) == 'E') {
        size_t k = e + 1;
        if (at(k) == '+' || at(k) == '-') ++k;
        const size_t end = match_digits(k);
        if (end != std::string::npos) return end;
    }
    return frac_end;
}

// Integer literal: 0b/0o/0x with single underscores between digits, decimal, or zeros.
size_t Lexer::match_integer(size_t start, int& base) const {
    base = 10;
    auto digit_ok = [&base](char c) {
        const auto u = static_cast<unsigned char>(c);
        const int v = std::isdigit(u) ? c - '0' : std::isxdigit(u) ? std::tolower(u) - 'a' + 10 : 99;
        return v < base;
    };
    const char p = static_cast<char>(std::tolower(static_cast<unsigned char>(at(start + 1))));
    if (at(start) == '0' && (p == 'b' || p == 'o' || p == 'x')) {
        base = p == 'b' ? 2 : p == 'o' ? 8 : 16;
        size_t end = start + 2;
        while (true) {
            const size_t k = at(end) == '_' ? end + 1 : end;
            if (!digit_ok(at(k))) break;
            end = k + 1;
        }
        if (end > start + 2) return end;
        base = 10;
    }
    const bool zero = at(start) == '0';
    size_t i = start + 1;
    while (true) {
        const size_t k = at(i) == '_' ? i + 1 : i;
        if (!std::isdigit(static_cast<unsigned char>(at(k))) || (zero && at(k) != '0')) break;
        i = k + 1;
    }
    return i;
}

Status Lexer::lex_number(size_t& pos) {
    const size_t start = pos;
    const size_t float_end = match_float(start);
    if (float_end != std::string::npos) {
        std::string text = src_.substr(start, float_end - start);
        text.erase(std::remove(text.begin(), text.end(), '_'), text.end());
        emit(TokenType::kFloat, start);
        tokens_.back().float_value = std::strtod(text.c_str(), nullptr);
        pos = float_end;
        return Status::ok();
    }
    int base = 10;
    const size_t end = match_integer(start, base);
    const size_t digits = base == 10 ? start : start + 2;
    std::string text = src_.substr(digits, end - digits);
    text.erase(std::remove(text.begin(), text.end(), '_'), text.end());
    errno = 0;
    const long long value = std::strtoll(text.c_str(), nullptr, base);
    if (errno == ERANGE) return fail(start, "integer literal is too large");
    emit(TokenType::kInteger, start);
    tokens_.back().int_value = value;
    pos = end;
    return Status::ok();
}

// Decodes the escape at src_[i] (a backslash) the way jinja2 does: Python's unicode-escape
// after backslash-escaping non-ASCII text. Advances i past it.
Status Lexer::decode_escape(size_t& i, std::string& out, size_t open) const {
    const char e = src_[i + 1];
    if (static_cast<unsigned char>(e) >= 0x80) {
        // A backslash before non-ASCII text reads as that text's own escape: "\é" is "\xe9".
        size_t p = i + 1;
        const char32_t cp = py::decode_utf8(src_, p);
        const auto v = static_cast<uint32_t>(cp);
        out += cp <= 0xFF ? fmt::format("\\x{:02x}", v) : cp <= 0xFFFF ? fmt::format("\\u{:04x}", v) : fmt::format("\\U{:08x}", v);
        i = p;
        return Status::ok();
    }
    i += 2;
    static const std::string_view kSimple = "\n\\'\"abfnrtv";
    static const char kSimpleValue[] = {'\0', '\\', '\'', '"', '\a', '\b', '\f', '\n', '\r', '\t', '\v'};
    if (const size_t k = kSimple.find(e); k != std::string_view::npos) {
        if (k > 0) out += kSimpleValue[k];  // backslash-newline continues the line
        return Status::ok();
    }
    if (e == 'x' || e == 'u' || e == 'U') {
        const size_t digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        uint32_t value = 0;
        for (size_t k = 0; k < digits; ++k) {
            const char c = at(i + k);
            if (!std::isxdigit(static_cast<unsigned char>(c))) return fail(open, fmt::format("truncated \\{} escape", e));
            value = value * 16 + static_cast<uint32_t>(std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : std::tolower(c) - 'a' + 10);
        }
        if (value > 0x10FFFF) return fail(open, "illegal Unicode character");
        if (value >= 0xD800 && value <= 0xDFFF) return fail(open, "surrogate code points are not supported");
        py::append_utf8(out, value);
        i += digits;
        return Status::ok();
    }
    if (e == 'N') return fail(open, "\\N{...} escapes are not supported");
    if (e >= '0' && e <= '7') {
        auto value = static_cast<uint32_t>(e - '0');
        for (int k = 0; k < 2 && at(i) >= '0' && at(i) <= '7'; ++k) value = value * 8 + static_cast<uint32_t>(at(i++) - '0');
        py::append_utf8(out, value);
        return Status::ok();
    }
    out += '\\';  // unknown escapes stay as written
    out += e;
    return Status::ok();
}

Status Lexer::lex_string(size_t& pos) {
    const size_t open = pos;
    const char quote = src_[pos];
    size_t i = pos + 1;
    std::string out;
    while (true) {
        if (i >= src_.size() || (src_[i] == '\\' && i + 1 >= src_.size())) {
            return fail(open, std::string("unexpected char '") + quote + "'");
        }
        const char c = src_[i];
        if (c == quote) break;
        if (c == '\\') {
            RF_RETURN_IF_ERROR(decode_escape(i, out, open));
        } else {
            out += c;
            ++i;
        }
    }
    emit(TokenType::kString, open, std::move(out));
    pos = i + 1;
    return Status::ok();
}

Status Lexer::lex_tag(size_t& pos, TagKind kind) {
    const size_t open = pos;
    std::vector<char> balance;
    while (true) {
        if (pos >= src_.size()) {
            return fail(open, kind == TagKind::kBlock ? "unexpected end of template, expected end of statement block"
                                                      : "unexpected end of template, expected end of print statement");
        }
        if (balance.empty()) {
            const TokenType end_type = kind == TagKind::kBlock ? TokenType::kBlockEnd : TokenType::kVariableEnd;
            const char* close = kind == TagKind::kBlock ? "%}" : "}}";
            size_t end = std::string::npos;
            if (kind == TagKind::kBlock && starts(pos, "+%}")) {
                end = pos + 3;
            } else if (at(pos) == '-' && starts(pos + 1, close)) {
                end = skip_ws(pos + 3);
            } else if (starts(pos, close)) {
                end = pos + 2;
                if (kind == TagKind::kBlock && at(end) == '\n') ++end;  // trim_blocks
            }
            if (end != std::string::npos) {
                emit(end_type, pos);
                pos = end;
                line_starting_ = src_[pos - 1] == '\n';
                return Status::ok();
            }
        }
        size_t next = pos;
        const char32_t c = py::decode_utf8(src_, next);
        if (py::is_space(c)) {
            pos = next;
        } else if (c >= '0' && c <= '9') {
            RF_RETURN_IF_ERROR(lex_number(pos));
        } else if (c == '_' || (c < 0x80 && std::isalpha(static_cast<int>(c))) || (c >= 0x80 && py::is_alpha(c))) {
            const size_t start = pos;
            pos = next;
            while (pos < src_.size()) {
                size_t k = pos;
                const char32_t d = py::decode_utf8(src_, k);
                if (!(d == '_' || (d < 0x80 && std::isalnum(static_cast<int>(d))) || (d >= 0x80 && py::is_alnum(d)))) break;
                pos = k;
            }
            emit(TokenType::kName, start, src_.substr(start, pos - start));
        } else if (c == '\'' || c == '"') {
            RF_RETURN_IF_ERROR(lex_string(pos));
        } else {
            const auto it = std::find_if(kOps.begin(), kOps.end(), [&](const OpSpelling& o) { return starts(pos, o.text); });
            if (it == kOps.end()) {
                return fail(pos, fmt::format("unexpected char '{}'", src_.substr(pos, next - pos)));
            }
            const char ch = it->text[0];
            if (it->text.size() == 1 && (ch == '(' || ch == '[' || ch == '{')) {
                balance.push_back(ch == '(' ? ')' : ch == '[' ? ']' : '}');
            } else if (it->text.size() == 1 && (ch == ')' || ch == ']' || ch == '}')) {
                if (balance.empty()) return fail(pos, fmt::format("unexpected '{}'", ch));
                if (balance.back() != ch) return fail(pos, fmt::format("unexpected '{}', expected '{}'", ch, balance.back()));
                balance.pop_back();
            }
            emit(TokenType::kOperator, pos);
            tokens_.back().op = it->op;
            pos += it->text.size();
        }
    }
}

Result<std::vector<Token>> Lexer::run() {
    size_t pos = 0;
    while (pos < src_.size()) {
        size_t i = pos;
        while (true) {
            i = src_.find('{', i);
            if (i == std::string::npos || (i + 1 < src_.size() && (src_[i + 1] == '%' || src_[i + 1] == '{' || src_[i + 1] == '#'))) break;
            ++i;
        }
        if (i == std::string::npos) {
            emit(TokenType::kData, pos, src_.substr(pos));
            break;
        }
        const TagKind kind = src_[i + 1] == '{' ? TagKind::kVariable : src_[i + 1] == '%' ? TagKind::kBlock : TagKind::kComment;
        const char sign = (at(i + 2) == '-' || at(i + 2) == '+') ? at(i + 2) : '\0';
        const size_t raw_end = kind == TagKind::kBlock ? match_raw_begin(i) : std::string::npos;
        emit_data(src_.substr(pos, i - pos), sign, kind == TagKind::kVariable, pos);
        pos = i + 2 + (sign != '\0' ? 1 : 0);
        if (kind == TagKind::kComment) {
            RF_RETURN_IF_ERROR(lex_comment(pos));
        } else if (raw_end != std::string::npos) {
            pos = raw_end;
            RF_RETURN_IF_ERROR(lex_raw(pos));
        } else {
            emit(kind == TagKind::kBlock ? TokenType::kBlockBegin : TokenType::kVariableBegin, i);
            line_starting_ = false;
            RF_RETURN_IF_ERROR(lex_tag(pos, kind));
        }
    }
    emit(TokenType::kEof, src_.size());
    return std::move(tokens_);
}

}  // namespace

std::string_view op_text(Op op) {
    for (const auto& o : kOps) {
        if (o.op == op) return o.text;
    }
    return "?";
}

std::string located_message(Location loc, std::string_view message) {
    return fmt::format("line {}, column {}: {}", loc.line, loc.column, message);
}

Result<std::vector<Token>> tokenize(std::string_view source) {
    if (source.size() > kMaxTemplateBytes) {
        return rf::error("template is {} bytes, more than the {} accepted", source.size(), kMaxTemplateBytes);
    }
    if (!py::is_valid_utf8(source)) return rf::error("template is not valid UTF-8");
    // jinja2 reads \r\n, \r and \n as line breaks, writes them as \n and drops one final newline.
    std::string text;
    text.reserve(source.size());
    for (size_t i = 0; i < source.size(); ++i) {
        if (source[i] == '\r') {
            text += '\n';
            if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
        } else {
            text += source[i];
        }
    }
    if (!text.empty() && text.back() == '\n') text.pop_back();
    Lexer lexer(std::move(text));
    return lexer.run();
}

}  // namespace rf::chat
