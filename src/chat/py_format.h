// Python-exact text for values: str(), repr(), float repr, json.dumps (HF's tojson), printf-style
// `%` formatting and str.format.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "chat/value.h"
#include "core/status.h"

namespace rf::chat::py {

// str(v): None -> "None", True -> "True", 1.0 -> "1.0", lists/dicts like Python's repr.
std::string to_str(const Value& v);
// repr(v): strings quoted and escaped as Python does.
std::string to_repr(const Value& v);
std::string repr_string(std::string_view s);
// float.__repr__: shortest round-trip digits, exponent outside [1e-4, 1e16).
std::string float_repr(double d);

// json.dumps(v, ensure_ascii=False, indent=indent, separators=separators, sort_keys=sort_keys):
// what HF's `tojson` filter calls. indent: nullopt = single line; a string indents literally.
struct JsonOptions {
    std::optional<std::string> indent;
    std::optional<std::string> item_separator;  // default ", " (or "," when indenting)
    std::optional<std::string> key_separator;   // default ": "
    bool sort_keys = false;
};
Result<std::string> json_dumps(const Value& v, const JsonOptions& options);

// `format % args` (also the `format` filter). `args` is a tuple, a dict or a single value.
Result<std::string> percent_format(const std::string& format, const Value& args);

// Formats one value with a str.format spec ("<10", ".2f", "05d", ...).
Result<std::string> format_spec(const Value& v, std::string_view spec);

}  // namespace rf::chat::py
