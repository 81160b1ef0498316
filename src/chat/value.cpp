// Value construction, Python truthiness/equality/ordering, JSON conversion and the allocation
// meter that bounds what one render may create.
#include "chat/value.h"

#include <algorithm>
#include <cmath>
#include <functional>

namespace rf::chat {
namespace {

thread_local WorkMeter* t_meter = nullptr;

// Large dicts (tool schemas) get a hash index on their string keys; small ones are scanned.
constexpr size_t kIndexThreshold = 12;

uint32_t child_depth(const Value& v) { return v.depth(); }

int sign_of(double d) { return d < 0 ? -1 : d > 0 ? 1 : 0; }

// Exact comparison of an int64 with a double, as Python does for int vs float.
int compare_int_float(int64_t i, double d) {
    if (std::isnan(d)) return 2;  // unordered
    if (d >= 9223372036854775808.0) return -1;
    if (d < -9223372036854775808.0) return 1;
    const double t = std::trunc(d);
    const auto ti = static_cast<int64_t>(t);
    if (i != ti) return i < ti ? -1 : 1;
    return sign_of(-(d - t));  // same integer part: the fraction decides
}

Result<int> compare_numbers(const Value& a, const Value& b) {
    if (a.is_float() || b.is_float()) {
        if (a.is_float() && b.is_float()) {
            const double x = a.as_float();
            const double y = b.as_float();
            if (std::isnan(x) || std::isnan(y)) return 2;
            return x < y ? -1 : x > y ? 1 : 0;
        }
        if (a.is_float()) {
            const int r = compare_int_float(b.as_int(), a.as_float());
            return r == 2 ? 2 : -r;
        }
        return compare_int_float(a.as_int(), b.as_float());
    }
    const int64_t x = a.as_int();
    const int64_t y = b.as_int();
    return x < y ? -1 : x > y ? 1 : 0;
}

bool same_seq_family(SeqType a, SeqType b) {
    auto family = [](SeqType t) { return t == SeqType::kDictItems || t == SeqType::kDictKeys ? SeqType::kDictKeys : t; };
    return family(a) == family(b);
}

}  // namespace

// --- objects ---------------------------------------------------------------------------------

size_t hash_value(const Value& v) {
    switch (v.kind()) {
        case Kind::kNone: return 0x2545F4914F6CDD1Dull;
        case Kind::kUndefined: return 0x51ED270B27u;
        case Kind::kBool:
        case Kind::kInt: return std::hash<int64_t>{}(v.as_int());
        case Kind::kFloat: {
            const double d = v.as_float();
            // Integral floats hash like the equal int (Python: hash(1.0) == hash(1)).
            if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) < 9.2e18) {
                return std::hash<int64_t>{}(static_cast<int64_t>(d));
            }
            return std::hash<double>{}(d);
        }
        case Kind::kString: return std::hash<std::string_view>{}(v.str());
        case Kind::kList: {
            size_t h = 0x345678u + static_cast<size_t>(v.list().type);
            for (const auto& item : v.list().items) h = h * 1000003u ^ hash_value(item);
            return h;
        }
        default: return std::hash<const void*>{}(v.object_ptr().get());
    }
}

bool ValueEq::operator()(const Value& a, const Value& b) const { return equals(a, b); }

void DictObj::build_index() const {
    for (size_t i = 0; i < entries.size(); ++i) {
        const Value& k = entries[i].first;
        if (k.is_string()) {
            string_index_.emplace(k.str(), i);
        } else if (is_hashable(k)) {
            other_index_.emplace(k, i);
        }
    }
    indexed_ = true;
}

const Value* DictObj::find(const Value& key) const {
    if (key.is_string()) return find(std::string_view(key.str()));
    if (entries.size() >= kIndexThreshold) {
        if (!indexed_) build_index();
        const auto it = other_index_.find(key);
        return it == other_index_.end() ? nullptr : &entries[it->second].second;
    }
    for (const auto& [k, v] : entries) {
        if (!k.is_string() && equals(k, key)) return &v;
    }
    return nullptr;
}

const Value* DictObj::find(std::string_view key) const {
    if (entries.size() >= kIndexThreshold) {
        if (!indexed_) build_index();
        const auto it = string_index_.find(key);
        return it == string_index_.end() ? nullptr : &entries[it->second].second;
    }
    for (const auto& [k, v] : entries) {
        if (k.is_string() && k.str() == key) return &v;
    }
    return nullptr;
}

const Value* NamespaceObj::find(std::string_view name) const {
    if (!index_.empty()) {
        const auto it = index_.find(std::string(name));
        return it == index_.end() ? nullptr : &attrs[it->second].second;
    }
    for (const auto& [k, v] : attrs) {
        if (k == name) return &v;
    }
    return nullptr;
}

void NamespaceObj::set(std::string name, Value value) {
    depth = std::max(depth, value.depth() + 1);
    if (!index_.empty()) {
        const auto it = index_.find(name);
        if (it != index_.end()) {
            attrs[it->second].second = std::move(value);
            return;
        }
    } else {
        for (auto& [k, v] : attrs) {
            if (k == name) {
                v = std::move(value);
                return;
            }
        }
    }
    attrs.emplace_back(std::move(name), std::move(value));
    if (!index_.empty()) {
        index_.emplace(attrs.back().first, attrs.size() - 1);
    } else if (attrs.size() >= kIndexThreshold) {
        for (size_t i = 0; i < attrs.size(); ++i) index_.emplace(attrs[i].first, i);
    }
}

// --- Value -----------------------------------------------------------------------------------

Value Value::undefined(std::string message, bool unsafe) {
    auto obj = std::make_shared<UndefinedObj>();
    obj->message = std::move(message);
    obj->unsafe = unsafe;
    Value v;
    v.obj_ = std::move(obj);
    return v;
}

Value Value::none() {
    Value v;
    v.kind_ = Kind::kNone;
    return v;
}

Value Value::boolean(bool b) {
    Value v;
    v.kind_ = Kind::kBool;
    v.b_ = b;
    return v;
}

Value Value::integer(int64_t i) {
    Value v;
    v.kind_ = Kind::kInt;
    v.i_ = i;
    return v;
}

Value Value::floating(double f) {
    Value v;
    v.kind_ = Kind::kFloat;
    v.f_ = f;
    return v;
}

Value Value::string(std::string text, bool markup) {
    WorkMeter::charge(text.size() + 32);
    auto obj = std::make_shared<StringObj>();
    obj->text = std::move(text);
    Value v;
    v.kind_ = Kind::kString;
    v.markup_ = markup;
    v.obj_ = std::move(obj);
    return v;
}

Value Value::list(std::vector<Value> items, SeqType type) {
    WorkMeter::charge(items.size() * sizeof(Value) + 48);
    auto obj = std::make_shared<ListObj>();
    uint32_t depth = 0;
    bool has_ns = false;
    for (const auto& item : items) {
        depth = std::max(depth, child_depth(item));
        has_ns = has_ns || item.contains_namespace();
    }
    obj->items = std::move(items);
    obj->type = type;
    obj->depth = depth + 1;
    obj->has_namespace = has_ns;
    Value v;
    v.kind_ = Kind::kList;
    v.obj_ = std::move(obj);
    return v;
}

Value Value::dict(std::vector<std::pair<Value, Value>> entries) {
    WorkMeter::charge(entries.size() * 2 * sizeof(Value) + 64);
    auto obj = std::make_shared<DictObj>();
    uint32_t depth = 0;
    bool has_ns = false;
    for (const auto& [k, item] : entries) {
        depth = std::max({depth, child_depth(k), child_depth(item)});
        has_ns = has_ns || item.contains_namespace();
    }
    obj->entries = std::move(entries);
    obj->depth = depth + 1;
    obj->has_namespace = has_ns;
    Value v;
    v.kind_ = Kind::kDict;
    v.obj_ = std::move(obj);
    return v;
}

Value Value::object(Kind kind, std::shared_ptr<Object> obj) {
    WorkMeter::charge(64);
    Value v;
    v.kind_ = kind;
    v.obj_ = std::move(obj);
    return v;
}

double Value::as_float() const {
    if (kind_ == Kind::kFloat) return f_;
    return static_cast<double>(as_int());
}

std::string Value::undefined_message() const {
    if (obj_) return static_cast<const UndefinedObj&>(*obj_).message;
    return "value is undefined";
}

bool Value::undefined_is_unsafe() const {
    return obj_ && static_cast<const UndefinedObj&>(*obj_).unsafe;
}

uint32_t Value::depth() const {
    switch (kind_) {
        case Kind::kList: return list().depth;
        case Kind::kDict: return dict().depth;
        case Kind::kNamespace: return ns().depth;
        case Kind::kIterator:
        case Kind::kLoop: return 1;
        case Kind::kCallable: return callable().self.depth() + 1;
        default: return 0;
    }
}

bool Value::contains_namespace() const {
    switch (kind_) {
        case Kind::kNamespace: return true;
        case Kind::kList: return list().has_namespace;
        case Kind::kDict: return dict().has_namespace;
        case Kind::kIterator: return iter().has_namespace;
        case Kind::kLoop: return loop().has_namespace;
        case Kind::kCallable: return callable().self.contains_namespace();
        default: return false;
    }
}

void DictBuilder::set(Value key, Value value) {
    if (entries_.size() < kIndexThreshold) {
        for (auto& [k, v] : entries_) {
            if (equals(k, key)) {
                v = std::move(value);
                return;
            }
        }
    } else {
        if (index_.empty()) {
            for (size_t i = 0; i < entries_.size(); ++i) index_.emplace(entries_[i].first, i);
        }
        const auto it = index_.find(key);
        if (it != index_.end()) {
            entries_[it->second].second = std::move(value);
            return;
        }
        index_.emplace(key, entries_.size());
    }
    entries_.emplace_back(std::move(key), std::move(value));
}

// --- Python semantics ------------------------------------------------------------------------

bool truthy(const Value& v) {
    switch (v.kind()) {
        case Kind::kUndefined:
        case Kind::kNone: return false;
        case Kind::kBool: return v.as_bool();
        case Kind::kInt: return v.as_int() != 0;
        case Kind::kFloat: return v.as_float() != 0.0;
        case Kind::kString: return !v.str().empty();
        case Kind::kList: return !v.list().items.empty();
        case Kind::kDict: return !v.dict().entries.empty();
        default: return true;
    }
}

std::string_view type_name(const Value& v) {
    switch (v.kind()) {
        case Kind::kUndefined: return "Undefined";
        case Kind::kNone: return "NoneType";
        case Kind::kBool: return "bool";
        case Kind::kInt: return "int";
        case Kind::kFloat: return "float";
        case Kind::kString: return v.is_markup() ? "Markup" : "str";
        case Kind::kList:
            switch (v.list().type) {
                case SeqType::kList: return "list";
                case SeqType::kTuple: return "tuple";
                case SeqType::kDictItems: return "dict_items";
                case SeqType::kDictKeys: return "dict_keys";
                case SeqType::kDictValues: return "dict_values";
            }
            return "list";
        case Kind::kDict: return "dict";
        case Kind::kNamespace: return "Namespace";
        case Kind::kCallable:
            return v.callable().type == CallableObj::Type::kMacro || v.callable().type == CallableObj::Type::kCaller
                       ? "Macro"
                       : "builtin_function_or_method";
        case Kind::kIterator: return v.iter().type_name;
        case Kind::kLoop: return "LoopContext";
    }
    return "object";
}

bool equals(const Value& a, const Value& b) {
    WorkMeter::charge(16);
    if (a.is_number() && b.is_number()) {
        const Result<int> r = compare_numbers(a, b);
        return r.is_ok() && *r == 0;
    }
    if (a.kind() != b.kind()) return false;
    switch (a.kind()) {
        case Kind::kUndefined:
        case Kind::kNone: return true;
        case Kind::kString:
            if (a.str().size() == b.str().size()) WorkMeter::charge(a.str().size());
            return a.str() == b.str();
        case Kind::kList: {
            const ListObj& x = a.list();
            const ListObj& y = b.list();
            if (&x == &y) return true;
            if (x.type != y.type || x.items.size() != y.items.size()) return false;
            for (size_t i = 0; i < x.items.size(); ++i) {
                if (!equals(x.items[i], y.items[i])) return false;
            }
            return true;
        }
        case Kind::kDict: {
            const DictObj& x = a.dict();
            const DictObj& y = b.dict();
            if (&x == &y) return true;
            if (x.entries.size() != y.entries.size()) return false;
            for (const auto& [k, v] : x.entries) {
                const Value* other = y.find(k);
                if (other == nullptr || !equals(v, *other)) return false;
            }
            return true;
        }
        default: return a.object_ptr() == b.object_ptr();
    }
}

Result<int> compare(const Value& a, const Value& b) {
    if (a.is_number() && b.is_number()) return compare_numbers(a, b);
    WorkMeter::charge(16);
    if (a.is_string() && b.is_string()) {
        WorkMeter::charge(std::min(a.str().size(), b.str().size()));
        const int c = a.str().compare(b.str());  // UTF-8 byte order is code point order
        return c < 0 ? -1 : c > 0 ? 1 : 0;
    }
    if (a.is_list() && b.is_list() && same_seq_family(a.list().type, b.list().type) &&
        (a.list().type == SeqType::kList || a.list().type == SeqType::kTuple)) {
        const auto& x = a.list().items;
        const auto& y = b.list().items;
        for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
            if (equals(x[i], y[i])) continue;
            return compare(x[i], y[i]);
        }
        return x.size() < y.size() ? -1 : x.size() > y.size() ? 1 : 0;
    }
    return rf::error("'<' not supported between instances of '{}' and '{}'", type_name(a), type_name(b));
}

bool is_hashable(const Value& v) {
    switch (v.kind()) {
        case Kind::kNone:
        case Kind::kBool:
        case Kind::kInt:
        case Kind::kFloat:
        case Kind::kString:
        case Kind::kUndefined:
        case Kind::kCallable:
        case Kind::kNamespace:
        case Kind::kIterator:
        case Kind::kLoop: return true;
        case Kind::kList:
            if (v.list().type != SeqType::kTuple) return false;
            return std::all_of(v.list().items.begin(), v.list().items.end(), is_hashable);
        case Kind::kDict: return false;
    }
    return false;
}

namespace {
Result<Value> from_json_at(const nlohmann::ordered_json& json, uint32_t depth) {
    if (depth > kMaxValueDepth) return rf::error("JSON nests deeper than {} levels", kMaxValueDepth);
    switch (json.type()) {
        case nlohmann::ordered_json::value_t::null: return Value::none();
        case nlohmann::ordered_json::value_t::boolean: return Value::boolean(json.get<bool>());
        case nlohmann::ordered_json::value_t::number_integer: return Value::integer(json.get<int64_t>());
        case nlohmann::ordered_json::value_t::number_unsigned: {
            const auto u = json.get<uint64_t>();
            if (u > static_cast<uint64_t>(INT64_MAX)) return Value::floating(static_cast<double>(u));
            return Value::integer(static_cast<int64_t>(u));
        }
        case nlohmann::ordered_json::value_t::number_float: return Value::floating(json.get<double>());
        case nlohmann::ordered_json::value_t::string: return Value::string(json.get<std::string>());
        case nlohmann::ordered_json::value_t::array: {
            std::vector<Value> items;
            items.reserve(json.size());
            for (const auto& item : json) {
                RF_ASSIGN_OR_RETURN(Value v, from_json_at(item, depth + 1));
                items.push_back(std::move(v));
            }
            return Value::list(std::move(items));
        }
        case nlohmann::ordered_json::value_t::object: {
            std::vector<std::pair<Value, Value>> entries;
            entries.reserve(json.size());
            for (const auto& [key, item] : json.items()) {
                RF_ASSIGN_OR_RETURN(Value v, from_json_at(item, depth + 1));
                entries.emplace_back(Value::string(key), std::move(v));
            }
            return Value::dict(std::move(entries));
        }
        default: return rf::error("unsupported JSON value (binary or discarded)");
    }
}
}  // namespace

Result<Value> from_json(const nlohmann::ordered_json& json) { return from_json_at(json, 0); }

// --- allocation meter ------------------------------------------------------------------------

WorkMeter::WorkMeter(uint64_t budget_bytes) : budget_(budget_bytes), previous_(t_meter) {
    t_meter = this;
}

WorkMeter::~WorkMeter() { t_meter = previous_; }

void WorkMeter::charge(uint64_t bytes) {
    if (t_meter != nullptr) t_meter->used_ += bytes;
}

}  // namespace rf::chat
