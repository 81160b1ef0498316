// Sequence filters (sort, unique, map, select, join, groupby, ...) with jinja2's semantics:
// case-insensitive by default, attribute paths, and generators where jinja2 returns them.
#include <algorithm>
#include <unordered_set>

#include "chat/filter_impl.h"
#include "chat/py_format.h"
#include "chat/py_str.h"

namespace rf::chat::filters {
namespace {

Value make_iterator(std::vector<Value> items, std::string type = "generator") {
    auto it = std::make_shared<IteratorObj>();
    it->has_namespace = std::any_of(items.begin(), items.end(), [](const Value& v) { return v.contains_namespace(); });
    it->items = std::move(items);
    it->type_name = std::move(type);
    return Value::object(Kind::kIterator, std::move(it));
}

// Stable sort by precomputed keys; the first comparison error wins.
Status sort_by_keys(std::vector<Value>& items, const std::vector<Value>& keys, bool reverse) {
    std::vector<size_t> order(items.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    Status failure = Status::ok();
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        if (!failure.is_ok()) return false;
        const Result<int> c = reverse ? compare(keys[b], keys[a]) : compare(keys[a], keys[b]);
        if (!c.is_ok()) {
            failure = c.status();
            return false;
        }
        return *c == -1;
    });
    RF_RETURN_IF_ERROR(failure);
    std::vector<Value> sorted;
    sorted.reserve(items.size());
    for (size_t i : order) sorted.push_back(std::move(items[i]));
    items = std::move(sorted);
    return Status::ok();
}

// select/reject/selectattr/rejectattr share this: `keep` is what the test must return.
Result<Value> select_impl(Interpreter& in, const Value& v, CallValues& call, bool keep, bool by_attribute) {
    if (!truthy(v)) return make_iterator({});
    RF_ASSIGN_OR_RETURN(std::vector<Value> items, iterate(v));
    size_t offset = 0;
    Value attribute;
    if (by_attribute) {
        if (call.args.empty()) return rf::error("Missing parameter for attribute name");
        attribute = call.args[0];
        offset = 1;
    }
    std::optional<std::string> test;
    CallValues test_args;
    if (call.args.size() > offset) {
        if (!call.args[offset].is_string()) return rf::error("test name must be a string");
        test = call.args[offset].str();
        test_args.args.assign(call.args.begin() + static_cast<std::ptrdiff_t>(offset + 1), call.args.end());
        test_args.kwargs = call.kwargs;
    }
    std::vector<Value> out;
    for (auto& item : items) {
        Value subject = item;
        if (by_attribute) {
 RF_ASSIGN_OR_RETURN(subject, get_path(in, item, attribute));
}
        bool passed = false;
        if (test) {
            CallValues args = test_args;
            RF_ASSIGN_OR_RETURN(passed, in.call_test(*test, subject, args));
        } else {
            passed = truthy(subject);
        }
        if (passed == keep) out.push_back(std::move(item));
    }
    return make_iterator(std::move(out));
}

Result<Value> min_max(Interpreter& in, const Value& v, CallValues& call, bool want_max) {
    RF_ASSIGN_OR_RETURN(auto a, bind_args(call, {"case_sensitive", "attribute"}, want_max ? "max" : "min"));
    RF_ASSIGN_OR_RETURN(std::vector<Value> items, iterate(v));
    if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
    const bool case_sensitive = arg_truthy(a[0], false);
    const Value attribute = a[1].value_or(Value::none());
    size_t best = 0;
    Value best_key;
    for (size_t i = 0; i < items.size(); ++i) {
        RF_ASSIGN_OR_RETURN(Value key, get_path(in, items[i], attribute));
        key = fold_case(key, case_sensitive);
        if (i == 0) {
            best_key = std::move(key);
            continue;
        }
        RF_ASSIGN_OR_RETURN(int c, compare(key, best_key));
        if ((want_max && c == 1) || (!want_max && c == -1)) {
            best = i;
            best_key = std::move(key);
        }
    }
    return items[best];
}

}  // namespace

Result<Value> get_path(Interpreter& in, const Value& item, const Value& attribute) {
    if (attribute.is_none() || attribute.is_undefined()) return item;
    if (!attribute.is_string()) return in.getitem(item, attribute);
    Value current = item;
    for (const std::string& part : py::split(attribute.str(), std::string("."), -1)) {
        const bool digits = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
        const Value key = digits && part.size() < 19 ? Value::integer(std::stoll(part)) : Value::string(part);
        RF_ASSIGN_OR_RETURN(current, in.getitem(current, key));
    }
    return current;
}

Value fold_case(const Value& v, bool case_sensitive) {
    if (case_sensitive || !v.is_string()) return v;
    return Value::string(py::lower(v.str()));
}

bool arg_truthy(const std::optional<Value>& v, bool fallback) { return v ? truthy(*v) : fallback; }

Result<Value> first(Interpreter&, const Value& v, CallValues& call) {
    if (!call.args.empty() || !call.kwargs.empty()) return rf::error("first() takes no arguments");
    if (v.is_iterator()) {
        IteratorObj& it = v.iter();
        if (it.pos < it.items.size()) return it.items[it.pos++];
    } else if (v.is_list() && !v.list().items.empty()) {
        return v.list().items.front();
    } else if (v.is_dict() && !v.dict().entries.empty()) {
        return v.dict().entries.front().first;
    } else if (v.is_string() && !v.str().empty()) {
        size_t end = 0;
        py::decode_utf8(v.str(), end);
        return Value::string(v.str().substr(0, end));
    } else if (!v.is_undefined() && !v.is_list() && !v.is_dict() && !v.is_string() && !v.is_iterator()) {
        return rf::error("'{}' object is not iterable", type_name(v));
    }
    return Value::undefined("No first item, sequence was empty.");
}

Result<Value> last(Interpreter&, const Value& v, CallValues& call) {
    if (!call.args.empty() || !call.kwargs.empty()) return rf::error("last() takes no arguments");
    if (v.is_list() && !v.list().items.empty()) return v.list().items.back();
    if (v.is_dict() && !v.dict().entries.empty()) return v.dict().entries.back().first;
    if (v.is_string() && !v.str().empty()) {
        const std::vector<char32_t> cps = py::to_code_points(v.str());
        return Value::string(py::from_code_points(cps, cps.size() - 1, cps.size()));
    }
    if (v.is_iterator()) return rf::error("'{}' object is not reversible", v.iter().type_name);
    if (!v.is_undefined() && !v.is_list() && !v.is_dict() && !v.is_string()) {
        return rf::error("'{}' object is not reversible", type_name(v));
    }
    return Value::undefined("No last item, sequence was empty.");
}

Result<Value> list(Interpreter&, const Value& v, CallValues& call) {
    if (!call.args.empty() || !call.kwargs.empty()) return rf::error("list() takes no arguments");
    RF_ASSIGN_OR_RETURN(std::vector<Value> items, iterate(v));
    return Value::list(std::move(items));
}

Result<Value> items(Interpreter&, const Value& v, CallValues& call) {
    if (!call.args.empty() || !call.kwargs.empty()) return rf::error("items() takes no arguments");
    if (v.is_undefined()) return make_iterator({});
    if (!v.is_dict()) return rf::error("Can only get item pairs from a mapping.");
    std::vector<Value> out;
    for (const auto& [k, item] : v.dict().entries) out.push_back(Value::tuple({k, item}));
    return make_iterator(std::move(out));
}

Result<Value> reverse(Interpreter&, const Value& v, CallValues& call) {
    if (!call.args.empty() || !call.kwargs.empty()) return rf::error("reverse() takes no arguments");
    if (v.is_string()) {
        std::vector<char32_t> cps = py::to_code_points(v.str());
        std::reverse(cps.begin(), cps.end());
        return Value::string(py::from_code_points(cps, 0, cps.size()), v.is_markup());
    }
    if (v.is_iterator()) {
        RF_ASSIGN_OR_RETURN(std::vector<Value> rest, iterate(v));
        std::reverse(rest.begin(), rest.end());
        return Value::list(std::move(rest));
    }
    if (v.is_list() || v.is_dict() || v.is_undefined()) {
        RF_ASSIGN_OR_RETURN(std::vector<Value> all, iterate(v));
        std::reverse(all.begin(), all.end());
        const char* type = v.is_dict() ? "dict_reversekeyiterator"
                           : v.is_seq(SeqType::kList) ? "list_reverseiterator" : "reversed";
        return make_iterator(std::move(all), type);
    }
    return rf::error("argument must be iterable");
}

Result<Value> join(Interpreter& in, const Value& v, CallValues& call) {
    RF_ASSIGN_OR_RETURN(auto a, bind_args(call, {"d", "attribute"}, "join"));
    RF_ASSIGN_OR_RETURN(std::vector<Value> parts, iterate(v));
    const std::string sep = a[0] ? py::to_str(*a[0]) : std::string();
    std::string out;
    for (size_t i = 0; i < parts.size(); ++i) {
        Value item = parts[i];
        if (a[1] && !a[1]->is_none()) {
 RF_ASSIGN_OR_RETURN(item, get_path(in, item, *a[1]));
}
        if (i > 0) out += sep;
        out += py::to_str(item);
        RF_RETURN_IF_ERROR(in.check_size(out.size()));
    }
    return Value::string(std::move(out));
}

Result<Value> map(Interpreter& in, const Value& v, CallValues& call) {
    if (!truthy(v)) return make_iterator({});
    RF_ASSIGN_OR_RETURN(std::vector<Value> src, iterate(v));
    std::vector<Value> out;
    out.reserve(src.size());
    const auto attr = std::find_if(call.kwargs.begin(), call.kwargs.end(), [](const auto& kv) { return kv.first == "attribute"; });
    if (call.args.empty() && attr != call.kwargs.end()) {
        std::optional<Value> fallback;
        for (const auto& [k, value] : call.kwargs) {
            if (k == "default") {
                fallback = value;
            } else if (k != "attribute") {
                return rf::error("Unexpected keyword argument '{}'", k);
            }
        }
        for (const auto& item : src) {
            RF_ASSIGN_OR_RETURN(Value got, get_path(in, item, attr->second));
            if (got.is_undefined() && fallback && !fallback->is_none()) got = *fallback;
            out.push_back(std::move(got));
        }
        return make_iterator(std::move(out));
    }
    if (call.args.empty()) return rf::error("map requires a filter argument");
    if (!call.args[0].is_string()) return rf::error("map filter name must be a string");
    const std::string name = call.args[0].str();
    for (const auto& item : src) {
        CallValues args;
        args.args.assign(call.args.begin() + 1, call.args.end());
        args.kwargs = call.kwargs;
        RF_ASSIGN_OR_RETURN(Value got, in.call_filter(name, item, args));
        out.push_back(std::move(got));
    }
    return make_iterator(std::move(out));
}

Result<Value> select(Interpreter& in, const Value& v, CallValues& call) { return select_impl(in, v, call, true, false); }
Result<Value> reject(Interpreter& in, const Value& v, CallValues& call) { return select_impl(in, v, call, false, false); }
Result<Value> selectattr(Interpreter& in, const Value& v, CallValues& call) { return select_impl(in, v, call, true, true); }
Result<Value> rejectattr(Interpreter& in, const Value& v, CallValues& call) { return select_impl(in, v, call, false, true); }
Result<Value> min(Interpreter& in, const Value& v, CallValues& call) { return min_max(in, v, call, false); }
Result<Value> max(Interpreter& in, const Value& v, CallValues& call) { return min_max(in, v, call, true); }

Result<Value> sort(Interpreter& in, const Value& v, CallValues& call) {
    RF_ASSIGN_OR_RETURN(auto a, bind_args(call, {"reverse", "case_sensitive", "attribute"}, "sort"));
    RF_ASSIGN_OR_RETURN(std::vector<Value> src, iterate(v));
    const bool case_sensitive = arg_truthy(a[1], false);
    // jinja2 sorts by a list of keys: one per comma-separated attribute (the item itself if none).
    std::vector<Value> paths;
    if (a[2] && a[2]->is_string()) {
        for (const auto& p : py::split(a[2]->str(), std::string(","), -1)) paths.push_back(Value::string(p));
    } else {
        paths.push_back(a[2].value_or(Value::none()));
    }
    std::vector<Value> keys;
    keys.reserve(src.size());
    for (const auto& item : src) {
        std::vector<Value> parts;
        for (const auto& path : paths) {
            RF_ASSIGN_OR_RETURN(Value k, get_path(in, item, path));
            parts.push_back(fold_case(k, case_sensitive));
        }
        keys.push_back(Value::list(std::move(parts)));
    }
    RF_RETURN_IF_ERROR(sort_by_keys(src, keys, arg_truthy(a[0], false)));
    return Value::list(std::move(src));
}

Result<Value> unique(Interpreter& in, const Value& v, CallValues& call) {
    RF_ASSIGN_OR_RETURN(auto a, bind_args(call, {"case_sensitive", "attribute"}, "unique"));
    RF_ASSIGN_OR_RETURN(std::vector<Value> src, iterate(v));
    const bool case_sensitive = arg_truthy(a[0], false);
    const Value attribute = a[1].value_or(Value::none());
    std::unordered_set<Value, ValueHash, ValueEq> seen;
    std::vector<Value> out;
    for (auto& item : src) {
        RF_ASSIGN_OR_RETURN(Value key, get_path(in, item, attribute));
        key = fold_case(key, case_sensitive);
        if (!is_hashable(key)) return rf::error("unhashable type: '{}'", type_name(key));
        if (seen.insert(std::move(key)).second) out.push_back(std::move(item));
    }
    return make_iterator(std::move(out));
}

Result<Value> sum(Interpreter& in, const Value& v, CallValues& call) {
    RF_ASSIGN_OR_RETURN(auto a, bind_args(call, {"attribute", "start"}, "sum"));
    RF_ASSIGN_OR_RETURN(std::vector<Value> src, iterate(v));
    Value total = a[1].value_or(Value::integer(0));
    if (total.is_string()) return rf::error("sum() can't sum strings [use ''.join(seq) instead]");
    for (const auto& item : src) {
        Value x = item;
        if (a[0] && !a[0]->is_none()) {
 RF_ASSIGN_OR_RETURN(x, get_path(in, item, *a[0]));
}
        if (x.is_undefined()) return Status::error(x.undefined_message());
        RF_ASSIGN_OR_RETURN(total, add_values(total, x, in.limits().max_output_bytes));
    }
    return total;
}

Result<Value> dictsort(Interpreter&, const Value& v, CallValues& call) {
    RF_ASSIGN_OR_RETURN(auto a, bind_args(call, {"case_sensitive", "by", "reverse"}, "dictsort"));
    if (v.is_undefined()) return Status::error(v.undefined_message());
    if (!v.is_dict()) return rf::error("'{}' object has no attribute 'items'", type_name(v));
    const std::string by = a[1] ? py::to_str(*a[1]) : "key";
    if (by != "key" && by != "value") return rf::error("You can only sort by either \"key\" or \"value\"");
    std::vector<Value> pairs;
    std::vector<Value> keys;
    for (const auto& [k, item] : v.dict().entries) {
        pairs.push_back(Value::tuple({k, item}));
        keys.push_back(fold_case(by == "key" ? k : item, arg_truthy(a[0], false)));
    }
    RF_RETURN_IF_ERROR(sort_by_keys(pairs, keys, arg_truthy(a[2], false)));
    return Value::list(std::move(pairs));
}

Result<Value> groupby(Interpreter& in, const Value& v, CallValues& call) {
    RF_ASSIGN_OR_RETURN(auto a, bind_args(call, {"attribute", "default", "case_sensitive"}, "groupby"));
    if (!a[0]) return rf::error("groupby() missing required argument 'attribute'");
    RF_ASSIGN_OR_RETURN(std::vector<Value> src, iterate(v));
    const bool case_sensitive = arg_truthy(a[2], false);
    auto key_of = [&](const Value& item, bool fold) -> Result<Value> {
        RF_ASSIGN_OR_RETURN(Value k, get_path(in, item, *a[0]));
        if (k.is_undefined() && a[1] && !a[1]->is_none()) k = *a[1];
        return fold ? fold_case(k, case_sensitive) : k;
    };
    std::vector<Value> keys;
    for (const auto& item : src) {
        RF_ASSIGN_OR_RETURN(Value k, key_of(item, true));
        keys.push_back(std::move(k));
    }
    std::vector<Value> sorted_keys = keys;
    RF_RETURN_IF_ERROR(sort_by_keys(src, keys, false));
    RF_RETURN_IF_ERROR(sort_by_keys(sorted_keys, keys, false));
    std::vector<Value> groups;
    for (size_t i = 0; i < src.size();) {
        size_t j = i;
        std::vector<Value> members;
        while (j < src.size() && equals(sorted_keys[j], sorted_keys[i])) members.push_back(src[j++]);
        RF_ASSIGN_OR_RETURN(Value grouper, key_of(members.front(), false));
        if (case_sensitive) grouper = sorted_keys[i];
        groups.push_back(Value::tuple({grouper, Value::list(std::move(members))}));
        i = j;
    }
    return Value::list(std::move(groups));
}

Result<Value> batch(Interpreter&, const Value& v, CallValues& call) {
    RF_ASSIGN_OR_RETURN(auto a, bind_args(call, {"linecount", "fill_with"}, "batch"));
    if (!a[0] || !a[0]->is_integral()) return rf::error("batch() requires an integer linecount");
    const int64_t n = a[0]->as_int();
    RF_ASSIGN_OR_RETURN(std::vector<Value> src, iterate(v));
    std::vector<Value> out;
    std::vector<Value> tmp;
    for (auto& item : src) {
        if (static_cast<int64_t>(tmp.size()) == n) {
            out.push_back(Value::list(std::move(tmp)));
            tmp.clear();
        }
        tmp.push_back(std::move(item));
    }
    if (!tmp.empty()) {
        if (a[1] && !a[1]->is_none()) {
            while (static_cast<int64_t>(tmp.size()) < n) tmp.push_back(*a[1]);
        }
        out.push_back(Value::list(std::move(tmp)));
    }
    return make_iterator(std::move(out));
}

Result<Value> slice(Interpreter&, const Value& v, CallValues& call) {
    RF_ASSIGN_OR_RETURN(auto a, bind_args(call, {"slices", "fill_with"}, "slice"));
    if (!a[0] || !a[0]->is_integral() || a[0]->as_int() <= 0) return rf::error("slice() requires a positive slice count");
    const int64_t slices = std::min<int64_t>(a[0]->as_int(), 100000);
    RF_ASSIGN_OR_RETURN(std::vector<Value> seq, iterate(v));
    const auto length = static_cast<int64_t>(seq.size());
    const int64_t per_slice = length / slices;
    const int64_t with_extra = length % slices;
    int64_t offset = 0;
    std::vector<Value> out;
    for (int64_t k = 0; k < slices; ++k) {
        const int64_t start = offset + k * per_slice;
        if (k < with_extra) ++offset;
        const int64_t end = offset + (k + 1) * per_slice;
        std::vector<Value> part(seq.begin() + start, seq.begin() + end);
        if (a[1] && !a[1]->is_none() && k >= with_extra) part.push_back(*a[1]);
        out.push_back(Value::list(std::move(part)));
    }
    return make_iterator(std::move(out));
}

}  // namespace rf::chat::filters
