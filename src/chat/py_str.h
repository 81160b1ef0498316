// Python `str` semantics on UTF-8 text: code-point indexing, whitespace, case mapping and the
// string methods chat templates call (strip, split, replace, find, title, ...).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rf::chat::py {

// --- UTF-8 -----------------------------------------------------------------------------------
bool is_valid_utf8(std::string_view s);
// Decodes the code point at s[pos] (s is valid UTF-8) and advances pos past it.
char32_t decode_utf8(std::string_view s, size_t& pos);
void append_utf8(std::string& out, char32_t cp);
bool is_ascii(std::string_view s);
size_t code_point_count(std::string_view s);
std::vector<char32_t> to_code_points(std::string_view s);
std::string from_code_points(const std::vector<char32_t>& cps, size_t begin, size_t end);
// Byte offset of the code point with index `cp_index` (clamped to the end).
size_t byte_offset_of(std::string_view s, size_t cp_index);
// Code point index of byte offset `byte_pos` (which starts a code point).
size_t code_point_index_of(std::string_view s, size_t byte_pos);

// --- character classes (Python's str.isspace / isprintable / ...) ----------------------------
bool is_space(char32_t c);
bool is_printable(char32_t c);
bool is_linebreak(char32_t c);  // the separators of str.splitlines
bool is_alpha(char32_t c);
bool is_digit(char32_t c);
bool is_alnum(char32_t c);
bool is_word(char32_t c);  // regex \w
bool is_cased(char32_t c);
bool is_lower_char(char32_t c);
bool is_upper_char(char32_t c);

// --- case mapping ----------------------------------------------------------------------------
std::string upper(std::string_view s);
std::string lower(std::string_view s);
std::string capitalize(std::string_view s);  // str.capitalize
std::string title(std::string_view s);       // str.title
std::string swapcase(std::string_view s);
bool is_lower(std::string_view s);  // str.islower
bool is_upper(std::string_view s);  // str.isupper
// Appends the upper/lower mapping of one code point (a few map to two code points).
void append_upper(std::string& out, char32_t c);
void append_title(std::string& out, char32_t c);  // title case (differs from upper for digraphs)
void append_lower(std::string& out, char32_t c);

// --- methods ---------------------------------------------------------------------------------
enum class StripSide { kBoth, kLeft, kRight };
// `chars` nullopt strips whitespace; otherwise the set of code points in `chars`.
std::string strip(std::string_view s, const std::optional<std::string>& chars, StripSide side);
// str.split / str.rsplit; `sep` nullopt splits on whitespace runs. maxsplit < 0: no limit.
// The caller rejects an empty separator.
std::vector<std::string> split(std::string_view s, const std::optional<std::string>& sep, int64_t maxsplit);
std::vector<std::string> rsplit(std::string_view s, const std::optional<std::string>& sep, int64_t maxsplit);
std::vector<std::string> splitlines(std::string_view s, bool keepends);
// str.replace; count < 0 replaces all. Returns nullopt when the result would exceed max_bytes.
std::optional<std::string> replace(std::string_view s, std::string_view old_text, std::string_view new_text,
                                   int64_t count, size_t max_bytes);
// str.find / str.rfind in code points over s[start:end] (Python slice bounds); -1 when absent.
int64_t find(std::string_view s, std::string_view sub, std::optional<int64_t> start, std::optional<int64_t> end,
             bool reverse);
int64_t count(std::string_view s, std::string_view sub);
bool starts_with(std::string_view s, std::string_view prefix);
bool ends_with(std::string_view s, std::string_view suffix);
// str.center / ljust / rjust with a one-code-point fill.
std::string pad(std::string_view s, int64_t width, char32_t fill, char align);

// Python slice semantics: normalises start/stop/step for a sequence of `length` items and
// returns the selected indices. step must not be 0 (the caller reports that).
std::vector<int64_t> slice_indices(int64_t length, std::optional<int64_t> start, std::optional<int64_t> stop,
                                   int64_t step);

}  // namespace rf::chat::py
