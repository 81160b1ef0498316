// Methods callable from templates: Python's str/dict/list methods (the immutable sandbox blocks
// the mutating ones), str.format, float.is_integer, and loop.cycle / loop.changed.
#include <algorithm>
#include <array>
#include <cmath>

#include "chat/interpreter.h"
#include "chat/py_format.h"
#include "chat/py_str.h"

namespace rf::chat {
namespace {

constexpr std::array<std::string_view, 47> kStrMethods = {
    "capitalize", "casefold", "center", "count", "encode", "endswith", "expandtabs", "find", "format",
    "format_map", "index", "isalnum", "isalpha", "isascii", "isdecimal", "isdigit", "isidentifier", "islower",
    "isnumeric", "isprintable", "isspace", "istitle", "isupper", "join", "ljust", "lower", "lstrip", "maketrans",
    "partition", "removeprefix", "removesuffix", "replace", "rfind", "rindex", "rjust", "rpartition", "rsplit",
    "rstrip", "split", "splitlines", "startswith", "strip", "swapcase", "title", "translate", "upper", "zfill"};
constexpr std::array<std::string_view, 6> kDictSafe = {"copy", "fromkeys", "get", "items", "keys", "values"};
constexpr std::array<std::string_view, 5> kDictUnsafe = {"clear", "pop", "popitem", "setdefault", "update"};
constexpr std::array<std::string_view, 3> kListSafe = {"copy", "count", "index"};
constexpr std::array<std::string_view, 8> kListUnsafe = {"append", "clear", "extend", "insert",
                                                         "pop",    "remove", "reverse", "sort"};

bool in_list(const auto& list, std::string_view name) { return std::find(list.begin(), list.end(), name) != list.end(); }

Result<std::string> string_arg(const std::optional<Value>& v, std::string_view method, std::string_view what) {
    if (!v || !v->is_string()) {
        return rf::error("{}() argument '{}' must be str, not {}", method, what, v ? type_name(*v) : "nothing");
    }
    return v->str();
}

Result<std::optional<int64_t>> opt_int(const std::optional<Value>& v) {
    if (!v || v->is_none()) return std::optional<int64_t>{};
    if (!v->is_integral()) return rf::error("slice indices must be integers or None");
    return std::optional<int64_t>{v->as_int()};
}

// s[start:end] for the optional start/end arguments of startswith, count, ...
std::string window(const std::string& s, std::optional<int64_t> start, std::optional<int64_t> end) {
    if (!start && !end) return s;
    const std::vector<char32_t> cps = py::to_code_points(s);
    std::string out;
    for (int64_t i : py::slice_indices(static_cast<int64_t>(cps.size()), start, end, 1)) {
        py::append_utf8(out, cps[static_cast<size_t>(i)]);
    }
    return out;
}

Result<Value> affix_test(const std::string& s, const std::string& method, CallValues& call) {
    RF_ASSIGN_OR_RETURN(auto a, bind_args(call, {"prefix", "start", "end"}, method));
    if (!a[0]) return rf::error("{}() takes at least 1 argument (0 given)", method);
    RF_ASSIGN_OR_RETURN(auto start, opt_int(a[1]));
    RF_ASSIGN_OR_RETURN(auto end, opt_int(a[2]));
    const std::string text = window(s, start, end);
    std::vector<Value> candidates;
    if (a[0]->is_seq(SeqType::kTuple)) {
        candidates = a[0]->list().items;
    } else {
        candidates.push_back(*a[0]);
    }
    for (const auto& c : candidates) {
        if (!c.is_string()) {
            return rf::error("{} first arg must be str or a tuple of str, not {}", method, type_name(c));
        }
        const bool hit = method == "startswith" ? py::starts_with(text, c.str()) : py::ends_with(text, c.str());
        if (hit) return Value::boolean(true);
    }
    return Value::boolean(false);
}

// Resolves "{0.name[key]}"-style field names against the arguments.
Result<Value> format_field(Interpreter& in, std::string_view field, const CallValues& call, size_t& auto_index,
                           int& numbering) {
    size_t end = field.find_first_of(".[");
    const std::string_view first = field.substr(0, end);
    Value obj;
    if (first.empty() || std::all_of(first.begin(), first.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        const int mode = first.empty() ? 1 : 2;
        if (numbering != 0 && numbering != mode) {
            return rf::error("cannot switch between automatic field numbering and manual field specification");
        }
        numbering = mode;
        const size_t index = first.empty() ? auto_index++ : static_cast<size_t>(std::stoul(std::string(first.substr(0, 9))));
        if (index >= call.args.size()) {
            return rf::error("Replacement index {} out of range for positional args tuple", index);
        }
        obj = call.args[index];
    } else {
        const auto it = std::find_if(call.kwargs.begin(), call.kwargs.end(), [&](const auto& kv) { return kv.first == first; });
        if (it == call.kwargs.end()) return rf::error("KeyError: '{}'", first);
        obj = it->second;
    }
    while (end != std::string_view::npos && end < field.size()) {
        if (field[end] == '.') {
            const size_t next = field.find_first_of(".[", end + 1);
            RF_ASSIGN_OR_RETURN(obj, in.getattr(obj, field.substr(end + 1, next - end - 1)));
            end = next;
        } else {
            const size_t close = field.find(']', end);
            if (close == std::string_view::npos) return rf::error("Missing ']' in format string");
            const std::string_view key = field.substr(end + 1, close - end - 1);
            const bool numeric = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) { return c >= '0' && c <= '9'; });
            RF_ASSIGN_OR_RETURN(obj, in.getitem(obj, numeric ? Value::integer(std::stoll(std::string(key.substr(0, 18))))
                                                             : Value::string(std::string(key))));
            end = close + 1;
        }
    }
    return obj;
}

Result<std::string> str_format(Interpreter& in, const std::string& fmt, const CallValues& call, size_t& auto_index,
                               int& numbering, int depth) {
    if (depth > 2) return rf::error("Max string recursion exceeded");
    std::string out;
    for (size_t i = 0; i < fmt.size(); ++i) {
        const char c = fmt[i];
        if (c == '}') {
            if (i + 1 < fmt.size() && fmt[i + 1] == '}') {
                out += '}';
                ++i;
                continue;
            }
            return rf::error("Single '}}' encountered in format string");
        }
        if (c != '{') {
            out += c;
            continue;
        }
        if (i + 1 < fmt.size() && fmt[i + 1] == '{') {
            out += '{';
            ++i;
            continue;
        }
        size_t j = i + 1;
        int nesting = 1;
        for (; j < fmt.size(); ++j) {
            if (fmt[j] == '{') ++nesting;
            if (fmt[j] == '}' && --nesting == 0) break;
        }
        if (j >= fmt.size()) return rf::error("expected '}}' before end of string");
        const std::string field = fmt.substr(i + 1, j - i - 1);
        size_t split = field.find_first_of("!:");
        std::string name = field.substr(0, split);
        char conversion = 0;
        std::string spec;
        if (split != std::string::npos && field[split] == '!') {
            if (split + 1 >= field.size()) return rf::error("end of string while looking for conversion specifier");
            conversion = field[split + 1];
            split += 2;
            if (split < field.size() && field[split] != ':') return rf::error("expected ':' after conversion specifier");
        }
        if (split != std::string::npos && split < field.size()) spec = field.substr(split + 1);
        RF_ASSIGN_OR_RETURN(Value v, format_field(in, name, call, auto_index, numbering));
        if (spec.find('{') != std::string::npos) {
            RF_ASSIGN_OR_RETURN(spec, str_format(in, spec, call, auto_index, numbering, depth + 1));
        }
        if (conversion == 'r' || conversion == 'a') {
            v = Value::string(py::to_repr(v));
        } else if (conversion == 's') {
            v = Value::string(py::to_str(v));
        } else if (conversion != 0) {
            return rf::error("Unknown conversion specifier {}", conversion);
        }
        RF_ASSIGN_OR_RETURN(std::string piece, py::format_spec(v, spec));
        out += piece;
        RF_RETURN_IF_ERROR(in.check_size(out.size()));
        i = j;
    }
    return out;
}

Result<Value> find_method(const std::string& s, std::string_view name, CallValues& call) {
    RF_ASSIGN_OR_RETURN(auto a, bind_args(call, {"sub", "start", "end"}, name));
    RF_ASSIGN_OR_RETURN(std::string sub, string_arg(a[0], name, "sub"));
    RF_ASSIGN_OR_RETURN(auto start, opt_int(a[1]));
    RF_ASSIGN_OR_RETURN(auto end, opt_int(a[2]));
    if (name == "count") return Value::integer(py::count(window(s, start, end), sub));
    const bool reverse = name == "rfind" || name == "rindex";
    const int64_t hit = py::find(s, sub, start, end, reverse);
    if (hit < 0 && (name == "index" || name == "rindex")) return rf::error("substring not found");
    return Value::integer(hit);
}

Result<Value> split_method(const std::string& s, std::string_view name, CallValues& call) {
    RF_ASSIGN_OR_RETURN(auto a, bind_args(call, {"sep", "maxsplit"}, name));
    std::optional<std::string> sep;
    if (a[0] && !a[0]->is_none()) {
        if (!a[0]->is_string()) return rf::error("must be str or None, not {}", type_name(*a[0]));
        if (a[0]->str().empty()) return rf::error("empty separator");
        sep = a[0]->str();
    }
    int64_t maxsplit = -1;
    if (a[1]) {
        if (!a[1]->is_integral()) return rf::error("'{}' object cannot be interpreted as an integer", type_name(*a[1]));
        maxsplit = a[1]->as_int();
    }
    std::vector<std::string> parts = name == "split" ? py::split(s, sep, maxsplit) : py::rsplit(s, sep, maxsplit);
    std::vector<Value> items;
    items.reserve(parts.size());
    for (auto& p : parts) items.push_back(Value::string(std::move(p)));
    return Value::list(std::move(items));
}

Result<Value> pad_method(const std::string& s, std::string_view name, CallValues& call) {
    RF_ASSIGN_OR_RETURN(auto a, bind_args(call, {"width", "fillchar"}, name));
    if (!a[0] || !a[0]->is_integral()) return rf::error("{}() requires an integer width", name);
    char32_t fill = ' ';
    if (a[1]) {
        if (!a[1]->is_string() || py::code_point_count(a[1]->str()) != 1) {
            return rf::error("The fill character must be exactly one character long");
        }
        size_t p = 0;
        fill = py::decode_utf8(a[1]->str(), p);
    }
    const int64_t width = std::min<int64_t>(a[0]->as_int(), 1 << 24);
    if (name == "zfill") {
        const auto len = static_cast<int64_t>(py::code_point_count(s));
        if (width <= len) return Value::string(s);
        const bool sign = !s.empty() && (s[0] == '+' || s[0] == '-');
        std::string out = sign ? s.substr(0, 1) : "";
        out += std::string(static_cast<size_t>(width - len), '0');
        out += sign ? s.substr(1) : s;
        return Value::string(std::move(out));
    }
    const char align = name == "center" ? '^' : name == "ljust" ? '<' : '>';
    return Value::string(py::pad(s, width, fill, align));
}

Result<Value> char_class_method(const std::string& s, std::string_view name) {
    if (name == "islower") return Value::boolean(py::is_lower(s));
    if (name == "isupper") return Value::boolean(py::is_upper(s));
    if (name == "isascii") return Value::boolean(py::is_ascii(s));
    if (s.empty()) return Value::boolean(false);
    bool (*pred)(char32_t) = nullptr;
    if (name == "isalpha") pred = py::is_alpha;
    else if (name == "isdigit" || name == "isdecimal" || name == "isnumeric") pred = py::is_digit;
    else if (name == "isalnum") pred = py::is_alnum;
    else if (name == "isspace") pred = py::is_space;
    else if (name == "isprintable") pred = py::is_printable;
    if (pred == nullptr) return rf::error("str.{}() is not supported", name);
    size_t pos = 0;
    while (pos < s.size()) {
        if (!pred(py::decode_utf8(s, pos))) return Value::boolean(false);
    }
    return Value::boolean(true);
}

Value same_kind(const Value& self, std::string text) { return Value::string(std::move(text), self.is_markup()); }

Result<Value> strip_method(const Value& self, std::string_view name, CallValues& call) {
    RF_ASSIGN_OR_RETURN(auto a, bind_args(call, {"chars"}, name));
    std::optional<std::string> chars;
    if (a[0] && !a[0]->is_none()) {
        if (!a[0]->is_string()) return rf::error("{} arg must be None or str", name);
        chars = a[0]->str();
    }
    const py::StripSide side = name == "strip" ? py::StripSide::kBoth
                               : name == "lstrip" ? py::StripSide::kLeft : py::StripSide::kRight;
    return same_kind(self, py::strip(self.str(), chars, side));
}

Result<Value> replace_method(Interpreter& in, const Value& self, CallValues& call) {
    RF_ASSIGN_OR_RETURN(auto a, bind_args(call, {"old", "new", "count"}, "replace"));
    RF_ASSIGN_OR_RETURN(std::string old_text, string_arg(a[0], "replace", "old"));
    RF_ASSIGN_OR_RETURN(std::string new_text, string_arg(a[1], "replace", "new"));
    int64_t count = -1;
    if (a[2]) {
        if (!a[2]->is_integral()) return rf::error("'{}' object cannot be interpreted as an integer", type_name(*a[2]));
        count = a[2]->as_int();
    }
    auto r = py::replace(self.str(), old_text, new_text, count, in.limits().max_output_bytes);
    if (!r) return rf::error("replace() result exceeds {} bytes", in.limits().max_output_bytes);
    return same_kind(self, std::move(*r));
}

Result<Value> join_method(Interpreter& in, const Value& self, CallValues& call) {
    RF_ASSIGN_OR_RETURN(auto a, bind_args(call, {"iterable"}, "join"));
    if (!a[0]) return rf::error("join() takes exactly one argument");
    RF_ASSIGN_OR_RETURN(std::vector<Value> items, iterate(*a[0]));
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
        if (!items[i].is_string()) {
            return rf::error("sequence item {}: expected str instance, {} found", i, type_name(items[i]));
        }
        if (i > 0) out += self.str();
        out += items[i].str();
        RF_RETURN_IF_ERROR(in.check_size(out.size()));
    }
    return same_kind(self, std::move(out));
}

Result<Value> format_method(Interpreter& in, const Value& self, std::string_view name, CallValues& call) {
    CallValues args = call;
    if (name == "format_map") {
        if (call.args.size() != 1 || !call.args[0].is_dict()) return rf::error("format_map() takes one mapping");
        args = CallValues{};
        for (const auto& [k, v] : call.args[0].dict().entries) {
            if (k.is_string()) args.kwargs.emplace_back(k.str(), v);
        }
    }
    size_t auto_index = 0;
    int numbering = 0;
    RF_ASSIGN_OR_RETURN(std::string out, str_format(in, self.str(), args, auto_index, numbering, 0));
    return same_kind(self, std::move(out));
}

// splitlines, partition / rpartition, removeprefix / removesuffix.
Result<Value> piece_method(const Value& self, std::string_view name, CallValues& call) {
    const std::string& s = self.str();
    if (name == "splitlines") {
        RF_ASSIGN_OR_RETURN(auto a, bind_args(call, {"keepends"}, name));
        std::vector<Value> lines;
        for (auto& line : py::splitlines(s, a[0] && truthy(*a[0]))) lines.push_back(Value::string(std::move(line)));
        return Value::list(std::move(lines));
    }
    RF_ASSIGN_OR_RETURN(auto a, bind_args(call, {"sep"}, name));
    RF_ASSIGN_OR_RETURN(std::string sep, string_arg(a[0], name, "sep"));
    if (name == "removeprefix") return same_kind(self, py::starts_with(s, sep) ? s.substr(sep.size()) : s);
    if (name == "removesuffix") {
        return same_kind(self, !sep.empty() && py::ends_with(s, sep) ? s.substr(0, s.size() - sep.size()) : s);
    }
    if (sep.empty()) return rf::error("empty separator");
    const size_t hit = name == "partition" ? s.find(sep) : s.rfind(sep);
    if (hit == std::string::npos) {
        return name == "partition" ? Value::tuple({same_kind(self, s), same_kind(self, ""), same_kind(self, "")})
                                   : Value::tuple({same_kind(self, ""), same_kind(self, ""), same_kind(self, s)});
    }
    return Value::tuple({same_kind(self, s.substr(0, hit)), same_kind(self, sep), same_kind(self, s.substr(hit + sep.size()))});
}

Result<Value> str_method(Interpreter& in, const Value& self, std::string_view name, CallValues& call) {
    const std::string& s = self.str();
    if (name == "startswith" || name == "endswith") return affix_test(s, std::string(name), call);
    if (name == "strip" || name == "lstrip" || name == "rstrip") return strip_method(self, name, call);
    if (name == "split" || name == "rsplit") return split_method(s, name, call);
    if (name == "find" || name == "rfind" || name == "index" || name == "rindex" || name == "count") {
        return find_method(s, name, call);
    }
    if (name == "center" || name == "ljust" || name == "rjust" || name == "zfill") return pad_method(s, name, call);
    if (name == "replace") return replace_method(in, self, call);
    if (name == "join") return join_method(in, self, call);
    if (name == "format" || name == "format_map") return format_method(in, self, name, call);
    if (name == "splitlines" || name == "partition" || name == "rpartition" || name == "removeprefix" ||
        name == "removesuffix") {
        return piece_method(self, name, call);
    }
    if (!call.args.empty() || !call.kwargs.empty()) return rf::error("str.{}() takes no arguments", name);
    if (name == "upper") return same_kind(self, py::upper(s));
    if (name == "lower" || name == "casefold") return same_kind(self, py::lower(s));
    if (name == "title") return same_kind(self, py::title(s));
    if (name == "capitalize") return same_kind(self, py::capitalize(s));
    if (name == "swapcase") return same_kind(self, py::swapcase(s));
    return char_class_method(s, name);
}

Result<Value> dict_method(const Value& self, std::string_view name, CallValues& call) {
    const DictObj& d = self.dict();
    if (name == "get") {
        RF_ASSIGN_OR_RETURN(auto a, bind_args(call, {"key", "default"}, name));
        if (!a[0]) return rf::error("get expected at least 1 argument, got 0");
        if (!is_hashable(*a[0])) return rf::error("unhashable type: '{}'", type_name(*a[0]));
        if (const Value* v = d.find(*a[0])) return *v;
        return a[1] ? *a[1] : Value::none();
    }
    if (!call.args.empty() || !call.kwargs.empty()) return rf::error("dict.{}() takes no arguments", name);
    std::vector<Value> out;
    out.reserve(d.entries.size());
    if (name == "items") {
        for (const auto& [k, v] : d.entries) out.push_back(Value::tuple({k, v}));
        return Value::list(std::move(out), SeqType::kDictItems);
    }
    if (name == "keys") {
        for (const auto& [k, v] : d.entries) out.push_back(k);
        return Value::list(std::move(out), SeqType::kDictKeys);
    }
    if (name == "values") {
        for (const auto& [k, v] : d.entries) out.push_back(v);
        return Value::list(std::move(out), SeqType::kDictValues);
    }
    if (name == "copy") return Value::dict(d.entries);
    return rf::error("dict.{}() is not supported", name);
}

Result<Value> list_method(const Value& self, std::string_view name, CallValues& call) {
    const auto& items = self.list().items;
    if (name == "copy") return Value::list(items, self.list().type);
    RF_ASSIGN_OR_RETURN(auto a, bind_args(call, {"value"}, name));
    if (!a[0]) return rf::error("{}() takes exactly one argument (0 given)", name);
    if (name == "count") {
        return Value::integer(std::count_if(items.begin(), items.end(), [&](const Value& v) { return equals(v, *a[0]); }));
    }
    for (size_t i = 0; i < items.size(); ++i) {
        if (equals(items[i], *a[0])) return Value::integer(static_cast<int64_t>(i));
    }
    return rf::error("{} is not in list", py::to_repr(*a[0]));
}

Result<Value> loop_method(const Value& self, std::string_view name, CallValues& call) {
    LoopObj& loop = self.loop();
    if (name == "cycle") {
        if (call.args.empty()) return rf::error("no items for cycling given");
        return call.args[static_cast<size_t>(loop.index0) % call.args.size()];
    }
    const bool changed = !loop.changed_called || loop.changed_last.size() != call.args.size() ||
                         !std::equal(call.args.begin(), call.args.end(), loop.changed_last.begin(), equals);
    loop.changed_called = true;
    loop.changed_last = call.args;
    return Value::boolean(changed);
}

}  // namespace

bool lookup_method(const Value& self, std::string_view name, bool& unsafe) {
    unsafe = false;
    switch (self.kind()) {
        case Kind::kString: return in_list(kStrMethods, name);
        case Kind::kDict:
            unsafe = in_list(kDictUnsafe, name);
            return unsafe || in_list(kDictSafe, name);
        case Kind::kList:
            if (self.list().type == SeqType::kList) {
                unsafe = in_list(kListUnsafe, name);
                return unsafe || in_list(kListSafe, name);
            }
            return self.list().type == SeqType::kTuple && (name == "count" || name == "index");
        case Kind::kFloat: return name == "is_integer";
        default: return false;
    }
}

Result<Value> call_method(Interpreter& in, const Value& self, std::string_view name, CallValues& call) {
    switch (self.kind()) {
        case Kind::kString: return str_method(in, self, name, call);
        case Kind::kDict: return dict_method(self, name, call);
        case Kind::kList: return list_method(self, name, call);
        case Kind::kLoop: return loop_method(self, name, call);
        case Kind::kFloat:
            return Value::boolean(std::isfinite(self.as_float()) && std::floor(self.as_float()) == self.as_float());
        default: break;
    }
    return rf::error("'{}' object has no method '{}'", type_name(self), name);
}

}  // namespace rf::chat
