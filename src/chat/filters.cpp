// jinja2's filters with HF's `tojson` (json.dumps with ensure_ascii=False, indent, separators,
// sort_keys): the dispatch table and the string / number filters.
#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "chat/filter_impl.h"
#include "chat/py_format.h"
#include "chat/py_str.h"

namespace rf::chat {
namespace filters {
namespace {

Status no_args(const CallValues& call, std::string_view name) {
    if (!call.args.empty() || !call.kwargs.empty()) return rf::error("{}() takes no arguments", name);
    return Status::ok();
}

// soft_str(): str() that keeps Markup.
Value soft_str(const Value& v) { return v.is_string() ? v : Value::string(py::to_str(v)); }

template <std::string (*Fn)(std::string_view)>
Result<Value> text_filter(Interpreter&, const Value& v, CallValues& call) {
    RF_RETURN_IF_ERROR(no_args(call, "filter"));
    return Value::string(Fn(py::to_str(v)), v.is_markup());
}

// jinja2's title: capitalise each run between "-", whitespace and opening brackets.
std::string jinja_title(std::string_view s) {
    std::string out;
    bool at_start = true;
    size_t pos = 0;
    while (pos < s.size()) {
        const char32_t c = py::decode_utf8(s, pos);
        const bool separator = c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || py::is_space(c);
        if (separator) {
            py::append_utf8(out, c);
            at_start = true;
        } else if (at_start) {
            py::append_upper(out, c);
            at_start = false;
        } else {
            py::append_lower(out, c);
        }
    }
    return out;
}

// Python's int(str, base) / float(str) syntax: surrounding whitespace, sign, single underscores.
std::optional<std::string> clean_number(std::string_view s) {
    const std::string t = py::strip(s, std::nullopt, py::StripSide::kBoth);
    std::string out;
    for (size_t i = 0; i < t.size(); ++i) {
        if (t[i] == '_') {
            const bool ok = i > 0 && i + 1 < t.size() && std::isxdigit(static_cast<unsigned char>(t[i - 1])) &&
                            std::isxdigit(static_cast<unsigned char>(t[i + 1]));
            if (!ok) return std::nullopt;
            continue;
        }
        out += t[i];
    }
    if (out.empty()) return std::nullopt;
    return out;
}

std::optional<double> parse_float(std::string_view s) {
    auto t = clean_number(s);
    if (!t) return std::nullopt;
    std::string lower = py::lower(*t);
    const size_t body = (lower[0] == '+' || lower[0] == '-') ? 1 : 0;
    const std::string_view word = std::string_view(lower).substr(body);
    if (word == "inf" || word == "infinity" || word == "nan") {
        const double x = word == "nan" ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
        return lower[0] == '-' ? -x : x;
    }
    // Digits with an optional fraction and exponent; no hex, no bare "." (Python's grammar).
    bool digits = false;
    size_t i = body;
    while (i < lower.size() && std::isdigit(static_cast<unsigned char>(lower[i]))) digits = (++i, true);
    if (i < lower.size() && lower[i] == '.') {
        ++i;
        while (i < lower.size() && std::isdigit(static_cast<unsigned char>(lower[i]))) digits = (++i, true);
    }
    if (!digits) return std::nullopt;
    if (i < lower.size() && lower[i] == 'e') {
        ++i;
        if (i < lower.size() && (lower[i] == '+' || lower[i] == '-')) ++i;
        if (i >= lower.size() || !std::isdigit(static_cast<unsigned char>(lower[i]))) return std::nullopt;
        while (i < lower.size() && std::isdigit(static_cast<unsigned char>(lower[i]))) ++i;
    }
    if (i != lower.size()) return std::nullopt;
    return std::strtod(lower.c_str(), nullptr);
}

std::optional<int64_t> parse_int(std::string_view s, int base) {
    auto t = clean_number(s);
    if (!t) return std::nullopt;
    std::string text = *t;
    const bool negative = text[0] == '-';
    if (text[0] == '+' || text[0] == '-') text.erase(0, 1);
    if (text.size() > 2 && text[0] == '0' && base != 10) {
        const char p = static_cast<char>(std::tolower(static_cast<unsigned char>(text[1])));
        if ((p == 'x' && (base == 16 || base == 0)) || (p == 'o' && (base == 8 || base == 0)) ||
            (p == 'b' && (base == 2 || base == 0))) {
            base = p == 'x' ? 16 : p == 'o' ? 8 : 2;
            text.erase(0, 2);
        }
    }
    if (base == 0) base = 10;
    if (text.empty() || base < 2 || base > 36) return std::nullopt;
    for (char c : text) {
        const int d = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
                      : std::isalpha(static_cast<unsigned char>(c)) ? std::tolower(c) - 'a' + 10 : 99;
        if (d >= base) return std::nullopt;
    }
    errno = 0;
    const long long v = std::strtoll(text.c_str(), nullptr, base);
    if (errno == ERANGE) return std::nullopt;
    return negative ? -v : v;
}

Result<Value> f_int(Interpreter&, const Value& v, CallValues& call) {
    RF_ASSIGN_OR_RETURN(auto a, bind_args(call, {"default", "base"}, "int"));
    const Value fallback = a[0].value_or(Value::integer(0));
    if (v.is_undefined()) return Status::error(v.undefined_message());
    if (v.is_integral()) return Value::integer(v.as_int());
    if (v.is_float()) {
        const double d = v.as_float();
        if (!std::isfinite(d) || std::fabs(d) >= 9.2e18) return fallback;
        return Value::integer(static_cast<int64_t>(std::trunc(d)));
    }
    if (!v.is_string()) return fallback;
    const int base = a[1] && a[1]->is_integral() ? static_cast<int>(a[1]->as_int()) : 10;
    if (auto i = parse_int(v.str(), base)) return Value::integer(*i);
    if (auto d = parse_float(v.str()); d && std::isfinite(*d) && std::fabs(*d) < 9.2e18) {
        return Value::integer(static_cast<int64_t>(std::trunc(*d)));
    }
    return fallback;
}

Result<Value> f_float(Interpreter&, const Value& v, CallValues& call) {
    RF_ASSIGN_OR_RETURN(auto a, bind_args(call, {"default"}, "float"));
    if (v.is_undefined()) return Status::error(v.undefined_message());
    if (v.is_number()) return Value::floating(v.as_float());
    if (v.is_string()) {
        if (auto d = parse_float(v.str())) return Value::floating(*d);
    }
    return a[0].value_or(Value::floating(0.0));
}

Result<Value> f_abs(Interpreter&, const Value& v, CallValues& call) {
    RF_RETURN_IF_ERROR(no_args(call, "abs"));
    if (v.is_integral()) {
        if (v.as_int() == INT64_MIN) return rf::error("integer overflow in abs");
        return Value::integer(std::llabs(v.as_int()));
    }
    if (v.is_float()) return Value::floating(std::fabs(v.as_float()));
    return rf::error("bad operand type for abs(): '{}'", type_name(v));
}

Result<Value> f_round(Interpreter&, const Value& v, CallValues& call) {
    RF_ASSIGN_OR_RETURN(auto a, bind_args(call, {"precision", "method"}, "round"));
    const int64_t precision = a[0] && a[0]->is_integral() ? a[0]->as_int() : 0;
    const std::string method = a[1] ? py::to_str(*a[1]) : "common";
    if (method != "common" && method != "ceil" && method != "floor") {
        return rf::error("method must be common, ceil or floor");
    }
    if (!v.is_number()) return rf::error("type {} doesn't define __round__ method", type_name(v));
    if (method != "common") {
        const double scale = std::pow(10.0, static_cast<double>(precision));
        const double x = v.as_float() * scale;
        return Value::floating((method == "ceil" ? std::ceil(x) : std::floor(x)) / scale);
    }
    if (v.is_integral()) {
        if (precision >= 0) return Value::integer(v.as_int());
        const double scale = std::pow(10.0, static_cast<double>(-precision));
        return Value::integer(static_cast<int64_t>(std::nearbyint(static_cast<double>(v.as_int()) / scale) * scale));
    }
    const double x = v.as_float();
    if (!std::isfinite(x)) return Value::floating(x);
    if (precision < 0) {
        const double scale = std::pow(10.0, static_cast<double>(-precision));
        return Value::floating(std::nearbyint(x / scale) * scale);
    }
    // Correctly rounded decimal conversion, half to even on the exact binary value (as Python).
    char buf[512];
    std::snprintf(buf, sizeof(buf), "%.*f", static_cast<int>(std::min<int64_t>(precision, 300)), x);
    return Value::floating(std::strtod(buf, nullptr));
}

Result<Value> f_default(Interpreter&, const Value& v, CallValues& call) {
    RF_ASSIGN_OR_RETURN(auto a, bind_args(call, {"default_value", "boolean"}, "default"));
    if (v.is_undefined() || (arg_truthy(a[1], false) && !truthy(v))) return a[0].value_or(Value::string(""));
    return v;
}

Result<Value> f_length(Interpreter&, const Value& v, CallValues& call) {
    RF_RETURN_IF_ERROR(no_args(call, "length"));
    RF_ASSIGN_OR_RETURN(int64_t n, length_of(v));
    return Value::integer(n);
}

Result<Value> f_string(Interpreter&, const Value& v, CallValues& call) {
    RF_RETURN_IF_ERROR(no_args(call, "string"));
    return soft_str(v);
}

Result<Value> f_safe(Interpreter&, const Value& v, CallValues& call) {
    RF_RETURN_IF_ERROR(no_args(call, "safe"));
    return Value::string(py::to_str(v), true);
}

Result<Value> f_escape(Interpreter&, const Value& v, CallValues& call) {
    RF_RETURN_IF_ERROR(no_args(call, "escape"));
    if (v.is_string() && v.is_markup()) return v;
    return Value::string(html_escape(py::to_str(v)), true);
}

Result<Value> f_forceescape(Interpreter&, const Value& v, CallValues& call) {
    RF_RETURN_IF_ERROR(no_args(call, "forceescape"));
    return Value::string(html_escape(py::to_str(v)), true);
}

Result<Value> f_trim(Interpreter&, const Value& v, CallValues& call) {
    RF_ASSIGN_OR_RETURN(auto a, bind_args(call, {"chars"}, "trim"));
    std::optional<std::string> chars;
    if (a[0] && !a[0]->is_none()) {
        if (!a[0]->is_string()) return rf::error("strip arg must be None or str");
        chars = a[0]->str();
    }
    return Value::string(py::strip(py::to_str(v), chars, py::StripSide::kBoth), v.is_markup());
}

Result<Value> f_replace(Interpreter& in, const Value& v, CallValues& call) {
    RF_ASSIGN_OR_RETURN(auto a, bind_args(call, {"old", "new", "count"}, "replace"));
    if (!a[0] || !a[1]) return rf::error("replace() requires 'old' and 'new'");
    int64_t count = -1;
    if (a[2] && !a[2]->is_none()) {
        if (!a[2]->is_integral()) return rf::error("'{}' object cannot be interpreted as an integer", type_name(*a[2]));
        count = a[2]->as_int();
    }
    auto r = py::replace(py::to_str(v), py::to_str(*a[0]), py::to_str(*a[1]), count, in.limits().max_output_bytes);
    if (!r) return rf::error("replace() result exceeds {} bytes", in.limits().max_output_bytes);
    return Value::string(std::move(*r));
}

Result<Value> f_indent(Interpreter& in, const Value& v, CallValues& call) {
    RF_ASSIGN_OR_RETURN(auto a, bind_args(call, {"width", "first", "blank"}, "indent"));
    if (v.is_undefined()) return Status::error(v.undefined_message());
    if (!v.is_string()) return rf::error("unsupported operand type(s) for +=: '{}' and 'str'", type_name(v));
    std::string indention = "    ";
    if (a[0]) {
        if (a[0]->is_string()) {
            indention = a[0]->str();
        } else if (a[0]->is_integral()) {
            indention = std::string(static_cast<size_t>(std::clamp<int64_t>(a[0]->as_int(), 0, 1 << 16)), ' ');
        } else {
            return rf::error("can't multiply sequence by non-int of type '{}'", type_name(*a[0]));
        }
    }
    const std::vector<std::string> lines = py::splitlines(v.str() + "\n", false);
    std::string out;
    for (size_t i = 0; i < lines.size(); ++i) {
        if (i > 0) out += '\n';
        if (i > 0 && (arg_truthy(a[2], false) || !lines[i].empty())) out += indention;
        out += lines[i];
        RF_RETURN_IF_ERROR(in.check_size(out.size()));
    }
    if (arg_truthy(a[1], false)) out = indention + out;
    return Value::string(std::move(out), v.is_markup());
}

Result<Value> f_center(Interpreter&, const Value& v, CallValues& call) {
    RF_ASSIGN_OR_RETURN(auto a, bind_args(call, {"width"}, "center"));
    const int64_t width = a[0] && a[0]->is_integral() ? std::min<int64_t>(a[0]->as_int(), 1 << 24) : 80;
    return Value::string(py::pad(py::to_str(v), width, ' ', '^'));
}

Result<Value> f_wordcount(Interpreter&, const Value& v, CallValues& call) {
    RF_RETURN_IF_ERROR(no_args(call, "wordcount"));
    const std::string s = py::to_str(v);
    int64_t words = 0;
    bool in_word = false;
    size_t pos = 0;
    while (pos < s.size()) {
        const bool w = py::is_word(py::decode_utf8(s, pos));
        if (w && !in_word) ++words;
        in_word = w;
    }
    return Value::integer(words);
}

Result<Value> f_truncate(Interpreter&, const Value& v, CallValues& call) {
    RF_ASSIGN_OR_RETURN(auto a, bind_args(call, {"length", "killwords", "end", "leeway"}, "truncate"));
    const int64_t length = a[0] && a[0]->is_integral() ? a[0]->as_int() : 255;
    const std::string end = a[2] ? py::to_str(*a[2]) : "...";
    const int64_t leeway = a[3] && a[3]->is_integral() ? a[3]->as_int() : 5;
    const auto end_len = static_cast<int64_t>(py::code_point_count(end));
    if (length < end_len) return rf::error("expected length >= {}, got {}", end_len, length);
    if (leeway < 0) return rf::error("expected leeway >= 0, got {}", leeway);
    const std::string s = py::to_str(v);
    const std::vector<char32_t> cps = py::to_code_points(s);
    if (static_cast<int64_t>(cps.size()) <= length + leeway) return Value::string(s);
    std::string head = py::from_code_points(cps, 0, static_cast<size_t>(length - end_len));
    if (!arg_truthy(a[1], false)) head = py::rsplit(head, std::string(" "), 1).front();
    return Value::string(head + end);
}

Result<Value> f_format(Interpreter&, const Value& v, CallValues& call) {
    if (!call.args.empty() && !call.kwargs.empty()) {
        return rf::error("can't handle positional and keyword arguments at the same time");
    }
    Value args;
    if (!call.kwargs.empty()) {
        DictBuilder d;
        for (const auto& [k, item] : call.kwargs) d.set(Value::string(k), item);
        args = d.build();
    } else {
        args = Value::tuple(call.args);
    }
    RF_ASSIGN_OR_RETURN(std::string s, py::percent_format(py::to_str(v), args));
    return Value::string(std::move(s), v.is_markup());
}

Result<Value> f_tojson(Interpreter& in, const Value& v, CallValues& call) {
    RF_ASSIGN_OR_RETURN(auto a, bind_args(call, {"ensure_ascii", "indent", "separators", "sort_keys"}, "tojson"));
    py::JsonOptions options;
    options.sort_keys = arg_truthy(a[3], false);
    if (a[1] && !a[1]->is_none()) {
        if (a[1]->is_string()) {
            options.indent = a[1]->str();
        } else if (a[1]->is_integral()) {
            options.indent = std::string(static_cast<size_t>(std::clamp<int64_t>(a[1]->as_int(), 0, 1 << 10)), ' ');
        } else {
            return rf::error("indent must be an int or a string");
        }
    }
    if (a[2] && !a[2]->is_none()) {
        const Value& sep = *a[2];
        if (!sep.is_list() || sep.list().items.size() != 2 || !sep.list().items[0].is_string() ||
            !sep.list().items[1].is_string()) {
            return rf::error("separators must be a pair of strings");
        }
        options.item_separator = sep.list().items[0].str();
        options.key_separator = sep.list().items[1].str();
    }
    RF_ASSIGN_OR_RETURN(std::string text, py::json_dumps(v, options));
    if (arg_truthy(a[0], false)) {
        std::string ascii;
        size_t pos = 0;
        while (pos < text.size()) {
            const char32_t c = py::decode_utf8(text, pos);
            char buf[16];
            if (c < 0x80) {
                ascii += static_cast<char>(c);
            } else if (c < 0x10000) {
                std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
                ascii += buf;
            } else {
                const char32_t u = c - 0x10000;
                std::snprintf(buf, sizeof(buf), "\\u%04x\\u%04x", static_cast<unsigned>(0xD800 + (u >> 10)),
                              static_cast<unsigned>(0xDC00 + (u & 0x3FF)));
                ascii += buf;
            }
        }
        text = std::move(ascii);
    }
    RF_RETURN_IF_ERROR(in.check_size(text.size()));
    return Value::string(std::move(text));
}

Result<Value> f_attr(Interpreter& in, const Value& v, CallValues& call) {
    RF_ASSIGN_OR_RETURN(auto a, bind_args(call, {"name"}, "attr"));
    if (!a[0] || !a[0]->is_string()) return rf::error("attribute name must be a string");
    bool unsafe = false;
    if (v.is_dict() && !lookup_method(v, a[0]->str(), unsafe)) {
        return Value::undefined(fmt::format("'{}' has no attribute '{}'", object_type_repr(v), a[0]->str()));
    }
    return in.getattr(v, a[0]->str());
}

Result<Value> f_striptags(Interpreter&, const Value& v, CallValues& call) {
    RF_RETURN_IF_ERROR(no_args(call, "striptags"));
    const std::string s = py::to_str(v);
    std::string text;
    for (size_t i = 0; i < s.size();) {
        if (s.compare(i, 4, "<!--") == 0) {
            const size_t end = s.find("-->", i + 4);
            if (end != std::string::npos) {
                i = end + 3;
                continue;
            }
        }
        if (s[i] == '<') {
            const size_t end = s.find('>', i + 1);
            if (end != std::string::npos) {
                i = end + 1;
                continue;
            }
        }
        text += s[i++];
    }
    static const std::pair<std::string_view, std::string_view> kEntities[] = {
        {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#34;", "\""}, {"&#39;", "'"}, {"&amp;", "&"}};
    for (const auto& [from, to] : kEntities) {
        text = *py::replace(text, from, to, -1, SIZE_MAX);
    }
    std::string joined;
    for (const auto& word : py::split(text, std::nullopt, -1)) {
        if (!joined.empty()) joined += ' ';
        joined += word;
    }
    return Value::string(std::move(joined));
}

Result<Value> f_filesizeformat(Interpreter&, const Value& v, CallValues& call) {
    RF_ASSIGN_OR_RETURN(auto a, bind_args(call, {"binary"}, "filesizeformat"));
    double bytes = 0;
    if (v.is_number()) {
        bytes = v.as_float();
    } else if (auto d = v.is_string() ? parse_float(v.str()) : std::nullopt) {
        bytes = *d;
    } else {
        return rf::error("could not convert {} to float", type_name(v));
    }
    const bool binary = arg_truthy(a[0], false);
    const double base = binary ? 1024 : 1000;
    static const char* const kDecimal[] = {"kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
    static const char* const kBinary[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"};
    if (bytes == 1) return Value::string("1 Byte");
    if (bytes < base) return Value::string(fmt::format("{} Bytes", static_cast<int64_t>(bytes)));
    double unit = base;
    for (int i = 0; i < 8; ++i) {
        unit *= base;
        if (bytes < unit || i == 7) {
            char buf[64];
            std::snprintf(buf, sizeof(buf), "%.1f %s", base * bytes / unit, binary ? kBinary[i] : kDecimal[i]);
            return Value::string(buf);
        }
    }
    return Value::string("");
}

Result<Value> f_pprint(Interpreter&, const Value& v, CallValues& call) {
    RF_RETURN_IF_ERROR(no_args(call, "pprint"));
    return Value::string(py::to_repr(v));
}

struct Entry {
    std::string_view name;
    FilterFn fn;
};

constexpr std::array<Entry, 49> kFilters = {{
    {"abs", f_abs},
    {"attr", f_attr},
    {"batch", batch},
    {"capitalize", text_filter<py::capitalize>},
    {"center", f_center},
    {"count", f_length},
    {"d", f_default},
    {"default", f_default},
    {"dictsort", dictsort},
    {"e", f_escape},
    {"escape", f_escape},
    {"filesizeformat", f_filesizeformat},
    {"first", first},
    {"float", f_float},
    {"forceescape", f_forceescape},
    {"format", f_format},
    {"groupby", groupby},
    {"indent", f_indent},
    {"int", f_int},
    {"items", items},
    {"join", join},
    {"last", last},
    {"length", f_length},
    {"list", list},
    {"lower", text_filter<py::lower>},
    {"map", map},
    {"max", max},
    {"min", min},
    {"pprint", f_pprint},
    {"reject", reject},
    {"rejectattr", rejectattr},
    {"replace", f_replace},
    {"reverse", reverse},
    {"round", f_round},
    {"safe", f_safe},
    {"select", select},
    {"selectattr", selectattr},
    {"slice", slice},
    {"sort", sort},
    {"string", f_string},
    {"striptags", f_striptags},
    {"sum", sum},
    {"title", text_filter<jinja_title>},
    {"tojson", f_tojson},
    {"trim", f_trim},
    {"truncate", f_truncate},
    {"unique", unique},
    {"upper", text_filter<py::upper>},
    {"wordcount", f_wordcount},
}};

// Known to jinja2 but not provided here (random output, HTML/URL helpers).
constexpr std::array<std::string_view, 5> kUnsupported = {"random", "urlencode", "urlize", "wordwrap", "xmlattr"};

}  // namespace
}  // namespace filters

bool is_filter_name(std::string_view name) {
    return std::any_of(filters::kFilters.begin(), filters::kFilters.end(), [&](const auto& e) { return e.name == name; }) ||
           std::find(filters::kUnsupported.begin(), filters::kUnsupported.end(), name) != filters::kUnsupported.end();
}

Result<Value> apply_filter(Interpreter& in, std::string_view name, const Value& input, CallValues& call) {
    for (const auto& e : filters::kFilters) {
        if (e.name == name) return e.fn(in, input, call);
    }
    if (is_filter_name(name)) return rf::error("the '{}' filter is not supported in chat templates", name);
    return rf::error("No filter named '{}'.", name);
}

}  // namespace rf::chat
