// Internal to the filter implementation: the signature every filter has, the sequence filters
// (filters_seq.cpp) the dispatch table in filters.cpp refers to, and helpers they share.
#pragma once

#include <string_view>
#include <vector>

#include "chat/interpreter.h"

namespace rf::chat::filters {

// A filter receives its input value and the remaining call arguments.
using FilterFn = Result<Value> (*)(Interpreter& in, const Value& v, CallValues& call);

// Follows jinja2's attribute paths ("a.b.0") with the sandbox's getitem.
Result<Value> get_path(Interpreter& in, const Value& item, const Value& attribute);
// jinja2's ignore_case: strings compare lower-cased unless case_sensitive.
Value fold_case(const Value& v, bool case_sensitive);
bool arg_truthy(const std::optional<Value>& v, bool fallback);

Result<Value> batch(Interpreter& in, const Value& v, CallValues& call);
Result<Value> dictsort(Interpreter& in, const Value& v, CallValues& call);
Result<Value> first(Interpreter& in, const Value& v, CallValues& call);
Result<Value> groupby(Interpreter& in, const Value& v, CallValues& call);
Result<Value> items(Interpreter& in, const Value& v, CallValues& call);
Result<Value> join(Interpreter& in, const Value& v, CallValues& call);
Result<Value> last(Interpreter& in, const Value& v, CallValues& call);
Result<Value> list(Interpreter& in, const Value& v, CallValues& call);
Result<Value> map(Interpreter& in, const Value& v, CallValues& call);
Result<Value> max(Interpreter& in, const Value& v, CallValues& call);
Result<Value> min(Interpreter& in, const Value& v, CallValues& call);
Result<Value> reject(Interpreter& in, const Value& v, CallValues& call);
Result<Value> rejectattr(Interpreter& in, const Value& v, CallValues& call);
Result<Value> reverse(Interpreter& in, const Value& v, CallValues& call);
Result<Value> select(Interpreter& in, const Value& v, CallValues& call);
Result<Value> selectattr(Interpreter& in, const Value& v, CallValues& call);
Result<Value> slice(Interpreter& in, const Value& v, CallValues& call);
Result<Value> sort(Interpreter& in, const Value& v, CallValues& call);
Result<Value> sum(Interpreter& in, const Value& v, CallValues& call);
Result<Value> unique(Interpreter& in, const Value& v, CallValues& call);

}  // namespace rf::chat::filters
