// Dynamic values of the template language: jinja2's Undefined plus Python's None, bool, int,
// float, str, list/tuple and dict, and the runtime objects (namespace, callables, loop, iterator).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace rf::chat {

struct Stmt;   // ast.h
struct Scope;  // interpreter.h

enum class Kind : uint8_t {
    kUndefined,
    kNone,
    kBool,
    kInt,
    kFloat,
    kString,
    kList,  // list, tuple and dict views (see SeqType)
    kDict,
    kNamespace,
    kCallable,
    kIterator,  // one-shot generator (map, select, reverse, ...)
    kLoop,      // the `loop` variable of a for statement
};

// Python prints and compares these sequence flavours differently.
enum class SeqType : uint8_t { kList, kTuple, kDictItems, kDictKeys, kDictValues };

// Values nest at most this deep (lists in dicts in lists ...), so recursive printing,
// comparison and destruction stay within a small stack.
inline constexpr uint32_t kMaxValueDepth = 200;

struct Object {
    virtual ~Object() = default;
};

struct StringObj;
struct ListObj;
struct DictObj;
struct NamespaceObj;
struct CallableObj;
struct IteratorObj;
struct LoopObj;

class Value {
public:
    Value() = default;  // undefined
    static Value undefined(std::string message, bool unsafe = false);
    static Value none();
    static Value boolean(bool b);
    static Value integer(int64_t i);
    static Value floating(double f);
    static Value string(std::string text, bool markup = false);
    static Value list(std::vector<Value> items, SeqType type = SeqType::kList);
    static Value tuple(std::vector<Value> items) { return list(std::move(items), SeqType::kTuple); }
    // `entries` must have unique keys (see DictBuilder for literals that may repeat keys).
    static Value dict(std::vector<std::pair<Value, Value>> entries);
    static Value object(Kind kind, std::shared_ptr<Object> obj);

    Kind kind() const { return kind_; }
    bool is_undefined() const { return kind_ == Kind::kUndefined; }
    bool is_none() const { return kind_ == Kind::kNone; }
    bool is_bool() const { return kind_ == Kind::kBool; }
    bool is_int() const { return kind_ == Kind::kInt; }
    bool is_float() const { return kind_ == Kind::kFloat; }
    bool is_number() const { return kind_ == Kind::kBool || kind_ == Kind::kInt || kind_ == Kind::kFloat; }
    bool is_integral() const { return kind_ == Kind::kBool || kind_ == Kind::kInt; }  // Python int incl. bool
    bool is_string() const { return kind_ == Kind::kString; }
    bool is_list() const { return kind_ == Kind::kList; }
    bool is_dict() const { return kind_ == Kind::kDict; }
    bool is_namespace() const { return kind_ == Kind::kNamespace; }
    bool is_callable() const { return kind_ == Kind::kCallable; }
    bool is_iterator() const { return kind_ == Kind::kIterator; }
    bool is_loop() const { return kind_ == Kind::kLoop; }
    bool is_markup() const { return markup_; }
    bool is_seq(SeqType type) const;

    bool as_bool() const { return b_; }
    int64_t as_int() const { return kind_ == Kind::kBool ? (b_ ? 1 : 0) : i_; }  // int or bool
    double as_float() const;                                                   // any number
    const std::string& str() const;
    const ListObj& list() const;
    const DictObj& dict() const;
    NamespaceObj& ns() const;
    CallableObj& callable() const;
    IteratorObj& iter() const;
    LoopObj& loop() const;
    const std::shared_ptr<Object>& object_ptr() const { return obj_; }
    std::shared_ptr<const ListObj> list_ptr() const;

    // What using an undefined value reports.
    std::string undefined_message() const;
    bool undefined_is_unsafe() const;

    uint32_t depth() const;           // 0 for scalars
    bool contains_namespace() const;  // a namespace is or may be reachable from this value

private:
    Kind kind_ = Kind::kUndefined;
    bool markup_ = false;
    union {
        bool b_;
        int64_t i_ = 0;
        double f_;
    };
    std::shared_ptr<Object> obj_;
};

struct StringObj final : Object {
    std::string text;
};

struct UndefinedObj final : Object {
    std::string message;  // what using the value reports, e.g. "'x' is undefined"
    bool unsafe = false;  // a blocked attribute (SecurityError in jinja2's sandbox)
};

struct ListObj final : Object {
    std::vector<Value> items;
    SeqType type = SeqType::kList;
    uint32_t depth = 1;
    bool has_namespace = false;
};

// Python's hash(), consistent with equals() (1 == 1.0 == True hash alike); for hashable values.
size_t hash_value(const Value& v);
struct ValueHash {
    size_t operator()(const Value& v) const { return hash_value(v); }
};
struct ValueEq {
    bool operator()(const Value& a, const Value& b) const;
};

struct DictObj final : Object {
    std::vector<std::pair<Value, Value>> entries;  // insertion order, unique keys
    uint32_t depth = 1;
    bool has_namespace = false;

    const Value* find(const Value& key) const;  // key must be hashable
    const Value* find(std::string_view key) const;

private:
    void build_index() const;
    // Large dicts (tool schemas, dict(pairs)) are looked up through hash indexes.
    mutable std::unordered_map<std::string_view, size_t> string_index_;
    mutable std::unordered_map<Value, size_t, ValueHash, ValueEq> other_index_;
    mutable bool indexed_ = false;
};

// `namespace(...)`: the one mutable object; attributes are set with `{% set ns.a = ... %}`.
struct NamespaceObj final : Object {
    std::vector<std::pair<std::string, Value>> attrs;
    uint32_t depth = 1;

    const Value* find(std::string_view name) const;
    void set(std::string name, Value value);

private:
    std::unordered_map<std::string, size_t> index_;  // once there are many attributes
};

enum class Builtin : uint8_t { kRange, kDict, kNamespace, kRaiseException, kStrftimeNow, kJoiner, kCycler };

struct CallableObj final : Object {
    enum class Type : uint8_t { kBuiltin, kMethod, kMacro, kCaller, kLoopRecurse, kJoinerCall };
    Type type = Type::kBuiltin;
    Builtin builtin = Builtin::kRange;
    std::string name;                // method or macro name
    Value self;                      // receiver of a bound method
    const Stmt* node = nullptr;      // macro / call block / for statement
    std::weak_ptr<Scope> closure;    // scope the macro or caller body runs under
    std::string joiner_separator;    // joiner(): separator and whether it was called before
    bool joiner_used = false;
};

struct IteratorObj final : Object {
    std::vector<Value> items;
    size_t pos = 0;
    std::string type_name = "generator";
    bool has_namespace = false;
};

struct LoopObj final : Object {
    std::shared_ptr<const ListObj> items;
    int64_t index0 = 0;
    int64_t depth0 = 0;
    bool has_namespace = false;
    std::vector<Value> changed_last;  // loop.changed() memory (empty: never called)
    bool changed_called = false;
    const Stmt* node = nullptr;       // recursive loops: the for statement to re-enter
    std::weak_ptr<Scope> scope;
};

// Accessors: the caller checks kind() first.
inline const std::string& Value::str() const { return static_cast<const StringObj&>(*obj_).text; }
inline const ListObj& Value::list() const { return static_cast<const ListObj&>(*obj_); }
inline const DictObj& Value::dict() const { return static_cast<const DictObj&>(*obj_); }
inline NamespaceObj& Value::ns() const { return static_cast<NamespaceObj&>(*obj_); }
inline CallableObj& Value::callable() const { return static_cast<CallableObj&>(*obj_); }
inline IteratorObj& Value::iter() const { return static_cast<IteratorObj&>(*obj_); }
inline LoopObj& Value::loop() const { return static_cast<LoopObj&>(*obj_); }
inline std::shared_ptr<const ListObj> Value::list_ptr() const {
    return std::static_pointer_cast<const ListObj>(obj_);
}
inline bool Value::is_seq(SeqType type) const { return is_list() && list().type == type; }

// Builds dicts from literals and keyword arguments: a repeated key keeps its first position
// and takes the last value, as in Python.
class DictBuilder {
public:
    void set(Value key, Value value);  // key must be hashable
    Value build() { return Value::dict(std::move(entries_)); }

private:
    std::vector<std::pair<Value, Value>> entries_;
    std::unordered_map<Value, size_t, ValueHash, ValueEq> index_;
};

// Python truthiness (jinja2's Undefined is false).
bool truthy(const Value& v);
// Python's type name as used in error messages: "int", "str", "dict", "NoneType", ...
std::string_view type_name(const Value& v);
// Python ==; Undefined equals only Undefined.
bool equals(const Value& a, const Value& b);
// Python ordering for <, <=, >, >=, sort, min and max: -1, 0 or 1, or a TypeError message.
Result<int> compare(const Value& a, const Value& b);
// Python hashability (dict keys, unique): numbers, strings, None, tuples of those.
bool is_hashable(const Value& v);

// JSON -> Value (objects keep their key order) and Value -> JSON-compatible tree.
Result<Value> from_json(const nlohmann::ordered_json& json);

// Counts the bytes of every string and container created, and of every string or sequence scanned
// by a value operation (comparisons, searches, iteration), on this thread while installed. The
// interpreter stops when the budget is spent, so neither memory nor time can grow without bound
// through operations that each stay within the other limits.
class WorkMeter {
public:
    explicit WorkMeter(uint64_t budget_bytes);
    ~WorkMeter();
    WorkMeter(const WorkMeter&) = delete;
    WorkMeter& operator=(const WorkMeter&) = delete;

    bool exceeded() const { return used_ > budget_; }
    uint64_t used() const { return used_; }
    uint64_t budget() const { return budget_; }
    static void charge(uint64_t bytes);

private:
    uint64_t budget_;
    uint64_t used_ = 0;
    WorkMeter* previous_;
};

}  // namespace rf::chat
