// Python-exact text for values: str/repr, float repr, json.dumps as HF's tojson calls it, and
// printf-style / format-spec formatting of numbers and strings.
#include "chat/py_format.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "chat/py_str.h"

namespace rf::chat::py {
namespace {

void append_hex(std::string& out, const char* prefix, uint32_t value, int digits) {
    char buf[16];
    std::snprintf(buf, sizeof(buf), "%0*x", digits, value);
    out += prefix;
    out += buf;
}

void append_seq_repr(std::string& out, const ListObj& list) {
    const char* open = "[";
    const char* close = "]";
    switch (list.type) {
        case SeqType::kList: break;
        case SeqType::kTuple:
            open = "(";
            close = list.items.size() == 1 ? ",)" : ")";
            break;
        case SeqType::kDictItems:
            open = "dict_items([";
            close = "])";
            break;
        case SeqType::kDictKeys:
            open = "dict_keys([";
            close = "])";
            break;
        case SeqType::kDictValues:
            open = "dict_values([";
            close = "])";
            break;
    }
    out += open;
    for (size_t i = 0; i < list.items.size(); ++i) {
        if (i > 0) out += ", ";
        out += to_repr(list.items[i]);
    }
    out += close;
}

void append_dict_repr(std::string& out, const std::vector<std::pair<Value, Value>>& entries) {
    out += '{';
    for (size_t i = 0; i < entries.size(); ++i) {
        if (i > 0) out += ", ";
        out += to_repr(entries[i].first);
        out += ": ";
        out += to_repr(entries[i].second);
    }
    out += '}';
}

std::string callable_repr(const CallableObj& c) {
    switch (c.type) {
        case CallableObj::Type::kMacro: return "<Macro '" + c.name + "'>";
        case CallableObj::Type::kCaller: return "<Macro 'caller'>";
        case CallableObj::Type::kMethod:
            return "<built-in method " + c.name + " of " + std::string(type_name(c.self)) + " object>";
        default: return "<built-in function " + c.name + ">";
    }
}

// --- json ------------------------------------------------------------------------------------

void json_string(std::string& out, std::string_view s) {
    out += '"';
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default:
                if (c < 0x20) {
                    append_hex(out, "\\u", c, 4);
                } else {
                    out += ch;
                }
        }
    }
    out += '"';
}

std::string json_float(double d) {
    if (std::isnan(d)) return "NaN";
    if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
    return float_repr(d);
}

struct JsonWriter {
    const JsonOptions& options;
    std::string item_sep;
    std::string key_sep;
    std::string out;

    Status write(const Value& v, size_t level);
    void newline(size_t level) {
        out += '\n';
        for (size_t i = 0; i < level; ++i) out += *options.indent;
    }
    Result<std::string> key_text(const Value& k) {
        switch (k.kind()) {
            case Kind::kString: return k.str();
            case Kind::kBool: return std::string(k.as_bool() ? "true" : "false");
            case Kind::kNone: return std::string("null");
            case Kind::kInt: return std::to_string(k.as_int());
            case Kind::kFloat: return json_float(k.as_float());
            default: return rf::error("keys must be str, int, float, bool or None, not {}", type_name(k));
        }
    }
    Status write_dict(const DictObj& dict, size_t level);
    Status write_list(const ListObj& list, size_t level);
};

Status JsonWriter::write_list(const ListObj& list, size_t level) {
    if (list.items.empty()) {
        out += "[]";
        return Status::ok();
    }
    out += '[';
    for (size_t i = 0; i < list.items.size(); ++i) {
        if (i > 0) out += item_sep;
        if (options.indent) newline(level + 1);
        RF_RETURN_IF_ERROR(write(list.items[i], level + 1));
    }
    if (options.indent) newline(level);
    out += ']';
    return Status::ok();
}

Status JsonWriter::write_dict(const DictObj& dict, size_t level) {
    if (dict.entries.empty()) {
        out += "{}";
        return Status::ok();
    }
    std::vector<const std::pair<Value, Value>*> entries;
    for (const auto& e : dict.entries) entries.push_back(&e);
    if (options.sort_keys) {
        Status failure = Status::ok();
        std::stable_sort(entries.begin(), entries.end(), [&](const auto* a, const auto* b) {
            const Result<int> c = compare(a->first, b->first);
            if (!c.is_ok()) failure = c.status();
            return c.is_ok() && *c < 0;
        });
        RF_RETURN_IF_ERROR(failure);
    }
    out += '{';
    for (size_t i = 0; i < entries.size(); ++i) {
        if (i > 0) out += item_sep;
        if (options.indent) newline(level + 1);
        RF_ASSIGN_OR_RETURN(std::string key, key_text(entries[i]->first));
        json_string(out, key);
        out += key_sep;
        RF_RETURN_IF_ERROR(write(entries[i]->second, level + 1));
    }
    if (options.indent) newline(level);
    out += '}';
    return Status::ok();
}

Status JsonWriter::write(const Value& v, size_t level) {
    if (level > kMaxValueDepth * 2) return rf::error("value nests too deeply for tojson");
    switch (v.kind()) {
        case Kind::kNone: out += "null"; return Status::ok();
        case Kind::kBool: out += v.as_bool() ? "true" : "false"; return Status::ok();
        case Kind::kInt: out += std::to_string(v.as_int()); return Status::ok();
        case Kind::kFloat: out += json_float(v.as_float()); return Status::ok();
        case Kind::kString: json_string(out, v.str()); return Status::ok();
        case Kind::kList:
            if (v.list().type == SeqType::kList || v.list().type == SeqType::kTuple) return write_list(v.list(), level);
            break;
        case Kind::kDict: return write_dict(v.dict(), level);
        default: break;
    }
    return rf::error("Object of type {} is not JSON serializable", type_name(v));
}

// --- printf-style ----------------------------------------------------------------------------

struct Spec {
    bool left = false, plus = false, space = false, alt = false, zero = false;
    int64_t width = -1;
    int64_t precision = -1;
};

// Pads `body` (digits, no sign) with its sign and optional prefix per the flags.
std::string pad_number(const Spec& spec, bool negative, std::string_view prefix, std::string_view body) {
    std::string sign = negative ? "-" : spec.plus ? "+" : spec.space ? " " : "";
    std::string head = sign + std::string(prefix);
    const auto len = static_cast<int64_t>(head.size() + body.size());
    if (spec.width <= len) return head + std::string(body);
    const auto fill = static_cast<size_t>(spec.width - len);
    if (spec.left) return head + std::string(body) + std::string(fill, ' ');
    if (spec.zero) return head + std::string(fill, '0') + std::string(body);
    return std::string(fill, ' ') + head + std::string(body);
}

std::string pad_text(const Spec& spec, std::string text) {
    if (spec.precision >= 0) {
        const size_t cut = byte_offset_of(text, static_cast<size_t>(spec.precision));
        text.resize(cut);
    }
    const auto len = static_cast<int64_t>(code_point_count(text));
    if (spec.width <= len) return text;
    const auto fill = static_cast<size_t>(spec.width - len);
    return spec.left ? text + std::string(fill, ' ') : std::string(fill, ' ') + text;
}

// snprintf with a literal format per conversion (C's rounding matches Python's).
int print_float(char* buf, size_t size, char type, bool alt, int p, double v) {
    switch (type) {
        case 'e': return alt ? std::snprintf(buf, size, "%#.*e", p, v) : std::snprintf(buf, size, "%.*e", p, v);
        case 'E': return alt ? std::snprintf(buf, size, "%#.*E", p, v) : std::snprintf(buf, size, "%.*E", p, v);
        case 'g': return alt ? std::snprintf(buf, size, "%#.*g", p, v) : std::snprintf(buf, size, "%.*g", p, v);
        case 'G': return alt ? std::snprintf(buf, size, "%#.*G", p, v) : std::snprintf(buf, size, "%.*G", p, v);
        case 'F': return alt ? std::snprintf(buf, size, "%#.*F", p, v) : std::snprintf(buf, size, "%.*F", p, v);
        default: return alt ? std::snprintf(buf, size, "%#.*f", p, v) : std::snprintf(buf, size, "%.*f", p, v);
    }
}

std::string float_body(double d, char type, int64_t precision, bool alt) {
    if (std::isnan(d)) return std::isupper(static_cast<unsigned char>(type)) ? "NAN" : "nan";
    if (std::isinf(d)) return std::isupper(static_cast<unsigned char>(type)) ? "INF" : "inf";
    const int p = static_cast<int>(std::min<int64_t>(precision < 0 ? 6 : precision, 400));
    std::string buf(static_cast<size_t>(print_float(nullptr, 0, type, alt, p, std::fabs(d))) + 1, '\0');
    const int n = print_float(buf.data(), buf.size(), type, alt, p, std::fabs(d));
    buf.resize(static_cast<size_t>(n));
    return buf;
}

std::string int_body(uint64_t magnitude, char type) {
    char buf[80];
    std::to_chars_result r{};
    switch (type) {
        case 'o': r = std::to_chars(buf, buf + sizeof(buf), magnitude, 8); break;
        case 'x':
        case 'X': r = std::to_chars(buf, buf + sizeof(buf), magnitude, 16); break;
        case 'b': r = std::to_chars(buf, buf + sizeof(buf), magnitude, 2); break;
        default: r = std::to_chars(buf, buf + sizeof(buf), magnitude, 10); break;
    }
    std::string s(buf, r.ptr);
    if (type == 'X') s = upper(s);
    return s;
}

uint64_t magnitude_of(int64_t i) { return i < 0 ? 0 - static_cast<uint64_t>(i) : static_cast<uint64_t>(i); }

Result<std::string> percent_one(const Spec& spec, char type, const Value& arg) {
    switch (type) {
        case 's': return pad_text(spec, to_str(arg));
        case 'r':
        case 'a': return pad_text(spec, to_repr(arg));
        case 'd':
        case 'i':
        case 'u': {
            if (!arg.is_number()) return rf::error("%{} format: a real number is required, not {}", type, type_name(arg));
            int64_t i = arg.is_float() ? static_cast<int64_t>(std::trunc(arg.as_float())) : arg.as_int();
            if (arg.is_float() && !std::isfinite(arg.as_float())) return rf::error("cannot convert float to integer");
            std::string body = int_body(magnitude_of(i), 'd');
            if (spec.precision > static_cast<int64_t>(body.size())) {
                body.insert(0, static_cast<size_t>(spec.precision) - body.size(), '0');
            }
            return pad_number(spec, i < 0, "", body);
        }
        case 'o':
        case 'x':
        case 'X': {
            if (!arg.is_integral()) return rf::error("%{} format: an integer is required, not {}", type, type_name(arg));
            const int64_t i = arg.as_int();
            const char* prefix = !spec.alt ? "" : type == 'o' ? "0o" : type == 'x' ? "0x" : "0X";
            return pad_number(spec, i < 0, prefix, int_body(magnitude_of(i), type));
        }
        case 'e':
        case 'E':
        case 'f':
        case 'F':
        case 'g':
        case 'G': {
            if (!arg.is_number()) return rf::error("must be real number, not {}", type_name(arg));
            const double d = arg.as_float();
            return pad_number(spec, std::signbit(d) && !std::isnan(d), "", float_body(d, type, spec.precision, spec.alt));
        }
        case 'c': {
            std::string ch;
            if (arg.is_integral() && arg.as_int() >= 0 && arg.as_int() <= 0x10FFFF) {
                append_utf8(ch, static_cast<char32_t>(arg.as_int()));
            } else if (arg.is_string() && code_point_count(arg.str()) == 1) {
                ch = arg.str();
            } else {
                return rf::error("%c requires an int or a unicode character");
            }
            return pad_text(Spec{spec.left, false, false, false, false, spec.width, -1}, ch);
        }
        default: return rf::error("unsupported format character '{}'", type);
    }
}

// Parses digits or '*' (taken from the positional arguments).
int64_t parse_count(const std::string& f, size_t& i) {
    int64_t n = 0;
    while (i < f.size() && std::isdigit(static_cast<unsigned char>(f[i])) != 0) {
        n = std::min<int64_t>(n * 10 + (f[i] - '0'), 1 << 20);
        ++i;
    }
    return n;
}

}  // namespace

// --- str / repr ------------------------------------------------------------------------------

std::string float_repr(double d) {
    if (std::isnan(d)) return "nan";
    if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
    const std::string_view sci(buf, static_cast<size_t>(r.ptr - buf));
    // sci is "-d.ddde+XX": collect the digits and the decimal exponent.
    const bool negative = sci[0] == '-';
    const size_t e_pos = sci.find('e');
    std::string digits;
    for (char c : sci.substr(negative ? 1 : 0, e_pos - (negative ? 1 : 0))) {
        if (c != '.') digits += c;
    }
    int exponent = 0;
    std::from_chars(sci.data() + e_pos + (sci[e_pos + 1] == '+' ? 2 : 1), sci.data() + sci.size(), exponent);
    while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
    std::string out = negative ? "-" : "";
    const int decpt = exponent + 1;  // position of the decimal point relative to the digits
    if (decpt > 16 || decpt <= -4) {
        out += digits[0];
        if (digits.size() > 1) out += "." + digits.substr(1);
        char exp_buf[16];
        std::snprintf(exp_buf, sizeof(exp_buf), "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
        return out + exp_buf;
    }
    if (decpt <= 0) return out + "0." + std::string(static_cast<size_t>(-decpt), '0') + digits;
    const auto point = static_cast<size_t>(decpt);
    if (point >= digits.size()) return out + digits + std::string(point - digits.size(), '0') + ".0";
    return out + digits.substr(0, point) + "." + digits.substr(point);
}

std::string repr_string(std::string_view s) {
    const bool has_single = s.find('\'') != std::string_view::npos;
    const bool has_double = s.find('"') != std::string_view::npos;
    const char quote = has_single && !has_double ? '"' : '\'';
    std::string out(1, quote);
    size_t pos = 0;
    while (pos < s.size()) {
        const char32_t c = decode_utf8(s, pos);
        if (c == static_cast<char32_t>(quote) || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c == '\t') {
            out += "\\t";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c < 0x20 || c == 0x7F) {
            append_hex(out, "\\x", c, 2);
        } else if (c < 0x7F || is_printable(c)) {
            append_utf8(out, c);
        } else if (c <= 0xFF) {
            append_hex(out, "\\x", c, 2);
        } else if (c <= 0xFFFF) {
            append_hex(out, "\\u", c, 4);
        } else {
            append_hex(out, "\\U", c, 8);
        }
    }
    out += quote;
    return out;
}

std::string to_str(const Value& v) {
    switch (v.kind()) {
        case Kind::kUndefined: return std::string();
        case Kind::kNone: return "None";
        case Kind::kBool: return v.as_bool() ? "True" : "False";
        case Kind::kInt: return std::to_string(v.as_int());
        case Kind::kFloat: return float_repr(v.as_float());
        case Kind::kString: return v.str();
        case Kind::kList: {
            std::string out;
            append_seq_repr(out, v.list());
            return out;
        }
        case Kind::kDict: {
            std::string out;
            append_dict_repr(out, v.dict().entries);
            return out;
        }
        case Kind::kNamespace: {
            std::string out = "<Namespace ";
            std::vector<std::pair<Value, Value>> entries;
            for (const auto& [k, item] : v.ns().attrs) entries.emplace_back(Value::string(k), item);
            append_dict_repr(out, entries);
            return out + ">";
        }
        case Kind::kCallable: return callable_repr(v.callable());
        case Kind::kIterator: return "<" + v.iter().type_name + " object>";
        case Kind::kLoop: {
            const LoopObj& loop = v.loop();
            return "<LoopContext " + std::to_string(loop.index0 + 1) + "/" + std::to_string(loop.items->items.size()) + ">";
        }
    }
    return std::string();
}

std::string to_repr(const Value& v) {
    if (v.is_string()) return v.is_markup() ? "Markup(" + repr_string(v.str()) + ")" : repr_string(v.str());
    if (v.is_undefined()) return "Undefined";
    return to_str(v);
}

// --- json / formatting -----------------------------------------------------------------------

Result<std::string> json_dumps(const Value& v, const JsonOptions& options) {
    JsonWriter writer{options, options.item_separator.value_or(options.indent ? "," : ", "),
                      options.key_separator.value_or(": "), std::string()};
    RF_RETURN_IF_ERROR(writer.write(v, 0));
    return std::move(writer.out);
}

Result<std::string> percent_format(const std::string& format, const Value& args) {
    const bool is_tuple = args.is_seq(SeqType::kTuple);
    const std::vector<Value> single = {args};
    const std::vector<Value>& positional = is_tuple ? args.list().items : single;
    const bool mapping = args.is_dict();
    size_t next_arg = 0;
    bool used_mapping = false;
    std::string out;
    for (size_t i = 0; i < format.size(); ++i) {
        if (format[i] != '%') {
            out += format[i];
            continue;
        }
        if (++i >= format.size()) return rf::error("incomplete format");
        const Value* keyed = nullptr;
        if (format[i] == '(') {
            if (!mapping) return rf::error("format requires a mapping");
            const size_t close = format.find(')', i);
            if (close == std::string::npos) return rf::error("incomplete format key");
            keyed = args.dict().find(std::string_view(format).substr(i + 1, close - i - 1));
            if (keyed == nullptr) return rf::error("format key '{}' not found", format.substr(i + 1, close - i - 1));
            used_mapping = true;
            i = close + 1;
        }
        Spec spec;
        for (; i < format.size(); ++i) {
            const char f = format[i];
            if (f == '-') spec.left = true;
            else if (f == '+') spec.plus = true;
            else if (f == ' ') spec.space = true;
            else if (f == '#') spec.alt = true;
            else if (f == '0') spec.zero = true;
            else break;
        }
        spec.width = parse_count(format, i);
        if (i < format.size() && format[i] == '.') {
            ++i;
            spec.precision = parse_count(format, i);
        }
        while (i < format.size() && (format[i] == 'h' || format[i] == 'l' || format[i] == 'L')) ++i;
        if (i >= format.size()) return rf::error("incomplete format");
        const char type = format[i];
        if (type == '%') {
            out += '%';
            continue;
        }
        const Value* arg = keyed;
        if (arg == nullptr) {
            if (next_arg >= positional.size()) return rf::error("not enough arguments for format string");
            arg = &positional[next_arg++];
        }
        RF_ASSIGN_OR_RETURN(std::string piece, percent_one(spec, type, *arg));
        out += piece;
    }
    if (!mapping && !used_mapping && next_arg < positional.size()) {
        return rf::error("not all arguments converted during string formatting");
    }
    return out;
}

}  // namespace rf::chat::py

namespace rf::chat::py {
namespace {

struct FormatSpec {
    char32_t fill = ' ';
    char align = 0;  // 0: type default
    char sign = '-';
    bool alt = false;
    int64_t width = 0;
    char grouping = 0;
    int64_t precision = -1;
    char type = 0;
};

Result<FormatSpec> parse_format_spec(std::string_view s) {
    FormatSpec f;
    size_t i = 0;
    auto is_align = [](char c) { return c == '<' || c == '>' || c == '=' || c == '^'; };
    size_t after_first = 0;
    if (!s.empty()) {
        size_t p = 0;
        const char32_t first = decode_utf8(s, p);
        after_first = p;
        if (after_first < s.size() && is_align(s[after_first])) {
            f.fill = first;
            f.align = s[after_first];
            i = after_first + 1;
        } else if (is_align(s[0])) {
            f.align = s[0];
            i = 1;
        }
    }
    if (i < s.size() && (s[i] == '+' || s[i] == '-' || s[i] == ' ')) f.sign = s[i++];
    if (i < s.size() && s[i] == 'z') ++i;
    if (i < s.size() && s[i] == '#') {
        f.alt = true;
        ++i;
    }
    if (i < s.size() && s[i] == '0') {
        if (f.align == 0) {
            f.fill = '0';
            f.align = '=';
        }
        ++i;
    }
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) != 0) {
        f.width = std::min<int64_t>(f.width * 10 + (s[i++] - '0'), 1 << 20);
    }
    if (i < s.size() && (s[i] == ',' || s[i] == '_')) f.grouping = s[i++];
    if (i < s.size() && s[i] == '.') {
        ++i;
        if (i >= s.size() || std::isdigit(static_cast<unsigned char>(s[i])) == 0) return rf::error("Format specifier missing precision");
        f.precision = 0;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) != 0) {
            f.precision = std::min<int64_t>(f.precision * 10 + (s[i++] - '0'), 1 << 20);
        }
    }
    if (i < s.size()) f.type = s[i++];
    if (i != s.size()) return rf::error("Invalid format specifier '{}'", s);
    return f;
}

std::string group_digits(const std::string& digits, char sep, size_t every) {
    std::string out;
    const size_t n = digits.size();
    for (size_t k = 0; k < n; ++k) {
        if (k > 0 && (n - k) % every == 0) out += sep;
        out += digits[k];
    }
    return out;
}

// Lays out sign + prefix + body in the field per fill/align/width.
std::string align_field(const FormatSpec& f, const std::string& sign_prefix, const std::string& body, char default_align) {
    const char align = f.align == 0 ? default_align : f.align;
    const auto len = static_cast<int64_t>(code_point_count(sign_prefix) + code_point_count(body));
    if (f.width <= len) return sign_prefix + body;
    const int64_t n = f.width - len;
    std::string fill;
    append_utf8(fill, f.fill);
    auto repeat = [&](int64_t k) {
        std::string r;
        for (int64_t j = 0; j < k; ++j) r += fill;
        return r;
    };
    switch (align) {
        case '<': return sign_prefix + body + repeat(n);
        case '^': return repeat(n / 2) + sign_prefix + body + repeat(n - n / 2);
        case '=': return sign_prefix + repeat(n) + body;
        default: return repeat(n) + sign_prefix + body;
    }
}

std::string sign_text(const FormatSpec& f, bool negative) {
    if (negative) return "-";
    return f.sign == '+' ? "+" : f.sign == ' ' ? " " : "";
}

Result<std::string> format_float(const FormatSpec& f, double d) {
    char type = f.type;
    std::string body;
    const bool negative = std::signbit(d) && !std::isnan(d);
    const double a = std::fabs(d);
    if (type == 0) {
        if (f.precision < 0) {
            body = float_repr(a);
        } else {
            body = float_body(a, 'g', std::max<int64_t>(f.precision, 1), f.alt);
            if (body.find_first_of(".ein") == std::string::npos) body += ".0";
        }
    } else if (type == '%') {
        body = float_body(a * 100.0, 'f', f.precision, f.alt) + "%";
    } else if (type == 'n') {
        body = float_body(a, 'g', f.precision, f.alt);
    } else if (std::string_view("eEfFgG").find(type) != std::string_view::npos) {
        body = float_body(a, type, type == 'g' || type == 'G' ? std::max<int64_t>(f.precision < 0 ? 6 : f.precision, 1) : f.precision, f.alt);
    } else {
        return rf::error("Unknown format code '{}' for object of type 'float'", type);
    }
    if (f.grouping != 0 && std::isfinite(a)) {
        const size_t int_end = body.find_first_not_of("0123456789");
        const std::string int_part = body.substr(0, int_end);
        body = group_digits(int_part, f.grouping, 3) + (int_end == std::string::npos ? "" : body.substr(int_end));
    }
    return align_field(f, sign_text(f, negative), body, '>');
}

Result<std::string> format_int(const FormatSpec& f, int64_t i) {
    const char type = f.type == 0 || f.type == 'n' ? 'd' : f.type;
    if (std::string_view("eEfFgG%").find(type) != std::string_view::npos) {
        return format_float(f, static_cast<double>(i));
    }
    if (f.precision >= 0) return rf::error("Precision not allowed in integer format specifier");
    if (type == 'c') {
        if (i < 0 || i > 0x10FFFF) return rf::error("%c arg not in range(0x110000)");
        std::string ch;
        append_utf8(ch, static_cast<char32_t>(i));
        return align_field(f, "", ch, '<');
    }
    if (std::string_view("bdoxX").find(type) == std::string_view::npos) {
        return rf::error("Unknown format code '{}' for object of type 'int'", type);
    }
    std::string body = int_body(magnitude_of(i), type);
    if (f.grouping != 0) body = group_digits(body, f.grouping, type == 'd' ? 3 : 4);
    std::string prefix;
    if (f.alt && type != 'd') prefix = type == 'b' ? "0b" : type == 'o' ? "0o" : type == 'x' ? "0x" : "0X";
    return align_field(f, sign_text(f, i < 0) + prefix, body, '>');
}

}  // namespace

Result<std::string> format_spec(const Value& v, std::string_view spec) {
    if (spec.empty()) return to_str(v);
    RF_ASSIGN_OR_RETURN(FormatSpec f, parse_format_spec(spec));
    if (v.is_string()) {
        if (f.type != 0 && f.type != 's') return rf::error("Unknown format code '{}' for object of type 'str'", f.type);
        if (f.sign != '-') return rf::error("Sign not allowed in string format specifier");
        if (f.align == '=') return rf::error("'=' alignment not allowed in string format specifier");
        std::string text = v.str();
        if (f.precision >= 0) text.resize(byte_offset_of(text, static_cast<size_t>(f.precision)));
        return align_field(f, "", text, '<');
    }
    if (v.is_integral()) return format_int(f, v.as_int());
    if (v.is_float()) return format_float(f, v.as_float());
    return rf::error("unsupported format string passed to {}.__format__", type_name(v));
}

}  // namespace rf::chat::py
