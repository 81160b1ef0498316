// jinja2's tests (`x is defined`, `x is divisibleby 3`, ...) with Python's type semantics.
#include <algorithm>
#include <array>
#include <cmath>

#include "chat/interpreter.h"
#include "chat/py_format.h"
#include "chat/py_str.h"

namespace rf::chat {
namespace {

constexpr std::array<std::string_view, 39> kTests = {
    "odd", "even", "divisibleby", "defined", "undefined", "filter", "test", "none", "boolean", "false",
    "true", "integer", "float", "lower", "upper", "string", "mapping", "number", "sequence", "iterable",
    "callable", "sameas", "escaped", "in", "==", "eq", "equalto", "!=", "ne", ">", "gt", "greaterthan",
    "ge", ">=", "<", "lt", "lessthan", "<=", "le"};

// value % divisor == 0 (or == 1 for odd), with Python's modulo on ints and floats.
Result<bool> modulo_is(const Value& v, const Value& divisor, int64_t want) {
    if (v.is_undefined()) return Status::error(v.undefined_message());
    if (v.is_string()) return rf::error("not all arguments converted during string formatting");
    if (!v.is_number() || !divisor.is_number()) {
        return rf::error("unsupported operand type(s) for %: '{}' and '{}'", type_name(v), type_name(divisor));
    }
    if (v.is_integral() && divisor.is_integral()) {
        const int64_t d = divisor.as_int();
        if (d == 0) return rf::error("integer division or modulo by zero");
        if (d == -1) return want == 0;
        int64_t r = v.as_int() % d;
        if (r != 0 && ((r < 0) != (d < 0))) r += d;
        return r == want;
    }
    const double d = divisor.as_float();
    if (d == 0.0) return rf::error("float modulo");
    double r = std::fmod(v.as_float(), d);
    if (r != 0.0 && ((r < 0) != (d < 0))) r += d;
    return r == static_cast<double>(want);
}

Result<bool> ordered(const Value& a, const Value& b, std::string_view op) {
    if (a.is_undefined()) return Status::error(a.undefined_message());
    if (b.is_undefined()) return Status::error(b.undefined_message());
    Result<int> c = compare(a, b);
    if (!c.is_ok()) {
        return rf::error("'{}' not supported between instances of '{}' and '{}'", op, type_name(a), type_name(b));
    }
    const int r = *c;
    if (op == "<") return r == -1;
    if (op == "<=") return r == -1 || r == 0;
    if (op == ">") return r == 1;
    return r == 1 || r == 0;
}

bool same_object(const Value& a, const Value& b) {
    if (a.kind() != b.kind()) return false;
    switch (a.kind()) {
        case Kind::kUndefined:
        case Kind::kNone: return true;
        case Kind::kBool: return a.as_bool() == b.as_bool();
        case Kind::kInt: return a.as_int() == b.as_int() && a.as_int() >= -5 && a.as_int() <= 256;  // CPython's small ints
        case Kind::kFloat: return false;
        case Kind::kString: return a.str() == b.str();  // literals are interned in Python
        default: return a.object_ptr() == b.object_ptr();
    }
}

}  // namespace

bool is_test_name(std::string_view name) { return std::find(kTests.begin(), kTests.end(), name) != kTests.end(); }

Result<bool> apply_test(Interpreter& in, std::string_view name, const Value& v, CallValues& call) {
    (void)in;
    const size_t n_args = call.args.size() + call.kwargs.size();
    auto arg = [&](std::string_view param) -> Result<Value> {
        RF_ASSIGN_OR_RETURN(auto a, bind_args(call, {param}, name));
        if (!a[0]) return rf::error("test '{}' takes one argument", name);
        return *a[0];
    };
    auto no_args = [&]() -> Status {
        if (n_args != 0) return rf::error("test '{}' takes no arguments", name);
        return Status::ok();
    };
    const std::string_view one_arg[] = {"divisibleby", "sameas", "in", "==", "eq", "equalto", "!=", "ne", ">", "gt",
                                        "greaterthan", "ge", ">=", "<", "lt", "lessthan", "<=", "le"};
    if (std::find(std::begin(one_arg), std::end(one_arg), name) == std::end(one_arg)) RF_RETURN_IF_ERROR(no_args());

    if (name == "defined") return !v.is_undefined();
    if (name == "undefined") return v.is_undefined();
    if (name == "none") return v.is_none();
    if (name == "boolean") return v.is_bool();
    if (name == "true") return v.is_bool() && v.as_bool();
    if (name == "false") return v.is_bool() && !v.as_bool();
    if (name == "integer") return v.is_int();
    if (name == "float") return v.is_float();
    if (name == "number") return v.is_number();
    if (name == "string") return v.is_string();
    if (name == "mapping") return v.is_dict();
    if (name == "escaped") return v.is_string() && v.is_markup();
    if (name == "sequence") {
        return v.is_string() || v.is_seq(SeqType::kList) || v.is_seq(SeqType::kTuple) || v.is_dict() || v.is_undefined();
    }
    if (name == "iterable") {
        return v.is_string() || v.is_list() || v.is_dict() || v.is_undefined() || v.is_iterator() || v.is_loop();
    }
    if (name == "callable") return v.is_callable() || v.is_loop() || v.is_undefined();
    if (name == "lower") return py::is_lower(py::to_str(v));
    if (name == "upper") return py::is_upper(py::to_str(v));
    if (name == "odd") return modulo_is(v, Value::integer(2), 1);
    if (name == "even") return modulo_is(v, Value::integer(2), 0);
    if (name == "divisibleby") {
        RF_ASSIGN_OR_RETURN(Value d, arg("num"));
        return modulo_is(v, d, 0);
    }
    if (name == "sameas") {
        RF_ASSIGN_OR_RETURN(Value other, arg("other"));
        return same_object(v, other);
    }
    if (name == "in") {
        RF_ASSIGN_OR_RETURN(Value seq, arg("seq"));
        return contains(seq, v);
    }
    if (name == "filter" || name == "test") {
        if (!v.is_string()) return false;
        return name == "filter" ? is_filter_name(v.str()) : is_test_name(v.str());
    }
    RF_ASSIGN_OR_RETURN(Value other, arg("b"));
    if (name == "==" || name == "eq" || name == "equalto") return equals(v, other);
    if (name == "!=" || name == "ne") return !equals(v, other);
    if (name == "<" || name == "lt" || name == "lessthan") return ordered(v, other, "<");
    if (name == "<=" || name == "le") return ordered(v, other, "<=");
    if (name == ">" || name == "gt" || name == "greaterthan") return ordered(v, other, ">");
    if (name == ">=" || name == "ge") return ordered(v, other, ">=");
    return rf::error("No test named '{}'.", name);
}

}  // namespace rf::chat
