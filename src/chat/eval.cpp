// Expression evaluation: Python operator semantics (int/float arithmetic, sequence ops, chained
// comparisons), the sandbox's getattr/getitem, calls, and the global functions HF provides.
#include <algorithm>
#include <cmath>
#include <ctime>

#include "chat/interpreter.h"
#include "chat/py_format.h"
#include "chat/py_str.h"

namespace rf::chat {
namespace {

constexpr int64_t kMaxRange = 100000;  // jinja2's sandbox limit on range()

bool is_located(const std::string& message) { return message.rfind("line ", 0) == 0; }

Status type_error(std::string_view op, const Value& a, const Value& b) {
    return rf::error("unsupported operand type(s) for {}: '{}' and '{}'", op, type_name(a), type_name(b));
}

Value make_builtin(Builtin which, std::string name) {
    auto fn = std::make_shared<CallableObj>();
    fn->type = CallableObj::Type::kBuiltin;
    fn->builtin = which;
    fn->name = std::move(name);
    return Value::object(Kind::kCallable, std::move(fn));
}

Value make_method(const Value& self, std::string_view name) {
    auto fn = std::make_shared<CallableObj>();
    fn->type = CallableObj::Type::kMethod;
    fn->self = self;
    fn->name = std::string(name);
    return Value::object(Kind::kCallable, std::move(fn));
}

// CPython's float floor division and modulo (signs follow the divisor).
std::pair<double, double> float_divmod(double vx, double wx) {
    double mod = std::fmod(vx, wx);
    double div = (vx - mod) / wx;
    if (mod != 0.0) {
        if ((wx < 0) != (mod < 0)) {
            mod += wx;
            div -= 1.0;
        }
    } else {
        mod = std::copysign(0.0, wx);
    }
    double floordiv = 0.0;
    if (div != 0.0) {
        floordiv = std::floor(div);
        if (div - floordiv > 0.5) floordiv += 1.0;
    } else {
        floordiv = std::copysign(0.0, vx / wx);
    }
    return {floordiv, mod};
}

Result<Value> int_pow(int64_t base, int64_t exp) {
    int64_t result = 1;
    while (exp > 0) {
        if ((exp & 1) != 0 && __builtin_mul_overflow(result, base, &result)) return rf::error("integer overflow in **");
        exp >>= 1;
        if (exp > 0 && __builtin_mul_overflow(base, base, &base)) return rf::error("integer overflow in **");
    }
    return Value::integer(result);
}

Result<Value> repeat(const Value& seq, int64_t n, size_t max_bytes) {
    if (n <= 0) return seq.is_string() ? Value::string("", seq.is_markup()) : Value::list({}, seq.list().type);
    if (seq.is_string()) {
        const size_t unit = seq.str().size();
        if (unit != 0 && static_cast<uint64_t>(n) > max_bytes / unit) return rf::error("repeated string would be too large");
        std::string out;
        out.reserve(unit * static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i) out += seq.str();
        return Value::string(std::move(out), seq.is_markup());
    }
    const auto& items = seq.list().items;
    if (!items.empty() && static_cast<uint64_t>(n) > (max_bytes / sizeof(Value)) / items.size()) {
        return rf::error("repeated list would be too large");
    }
    std::vector<Value> out;
    for (int64_t i = 0; i < n; ++i) out.insert(out.end(), items.begin(), items.end());
    return Value::list(std::move(out), seq.list().type);
}

// datetime.strftime: Python itself expands %f (microseconds: the clock has none here), %z and
// %Z (an aware UTC time for a fixed clock, a naive local time otherwise), then calls C's.
std::string python_strftime(const std::string& format, const std::tm& tm, bool aware_utc) {
    std::string expanded;
    for (size_t i = 0; i < format.size(); ++i) {
        if (format[i] != '%' || i + 1 >= format.size()) {
            expanded += format[i];
            continue;
        }
        const char d = format[++i];
        if (d == 'f') {
            expanded += "000000";
        } else if (d == 'z') {
            expanded += aware_utc ? "+0000" : "";
        } else if (d == 'Z') {
            expanded += aware_utc ? "UTC" : "";
        } else {
            expanded += '%';
            expanded += d;
        }
    }
    std::string buffer(expanded.size() * 16 + 256, '\0');
    // The format comes from the template by design (Python passes it to C's strftime as is).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    const size_t n = std::strftime(buffer.data(), buffer.size(), expanded.c_str(), &tm);
#pragma GCC diagnostic pop
    buffer.resize(n);
    return buffer;
}

Result<Value> unary(bool negate, const Value& v) {
    if (v.is_undefined()) return Status::error(v.undefined_message());
    if (v.is_integral()) {
        if (negate && v.as_int() == INT64_MIN) return rf::error("integer overflow in unary -");
        return Value::integer(negate ? -v.as_int() : v.as_int());
    }
    if (v.is_float()) return Value::floating(negate ? -v.as_float() : v.as_float());
    return rf::error("bad operand type for unary {}: '{}'", negate ? "-" : "+", type_name(v));
}

// Python's // and % on numbers: the quotient is floored, the remainder takes the divisor's sign.
Result<Value> floor_div_mod(bool floor_div, const Value& a, const Value& b) {
    if (a.is_integral() && b.is_integral()) {
        const int64_t x = a.as_int();
        const int64_t y = b.as_int();
        if (y == 0) return rf::error("integer division or modulo by zero");
        if (x == INT64_MIN && y == -1) {
            if (floor_div) return rf::error("integer overflow in //");
            return Value::integer(0);
        }
        int64_t q = x / y;
        int64_t r = x % y;
        if (r != 0 && ((r < 0) != (y < 0))) {
            --q;
            r += y;
        }
        return Value::integer(floor_div ? q : r);
    }
    if (b.as_float() == 0.0) return Status::error(floor_div ? "float floor division by zero" : "float modulo");
    const auto [q, r] = float_divmod(a.as_float(), b.as_float());
    return Value::floating(floor_div ? q : r);
}

Result<int64_t> range_arg(const Value& v) {
    if (!v.is_integral()) return rf::error("'{}' object cannot be interpreted as an integer", type_name(v));
    return v.as_int();
}

}  // namespace

Result<Value> add_values(const Value& a, const Value& b, size_t max_bytes) {
    if (a.is_number() && b.is_number()) {
        if (a.is_integral() && b.is_integral()) {
            int64_t r = 0;
            if (__builtin_add_overflow(a.as_int(), b.as_int(), &r)) return rf::error("integer overflow in +");
            return Value::integer(r);
        }
        return Value::floating(a.as_float() + b.as_float());
    }
    if (a.is_string() && b.is_string()) {
        if (a.str().size() + b.str().size() > max_bytes) return rf::error("string concatenation exceeds {} bytes", max_bytes);
        if (a.is_markup() || b.is_markup()) {
            const std::string left = a.is_markup() ? a.str() : html_escape(a.str());
            const std::string right = b.is_markup() ? b.str() : html_escape(b.str());
            return Value::string(left + right, true);
        }
        return Value::string(a.str() + b.str());
    }
    if (a.is_list() && b.is_list() && a.list().type == b.list().type &&
        (a.list().type == SeqType::kList || a.list().type == SeqType::kTuple)) {
        if ((a.list().items.size() + b.list().items.size()) * sizeof(Value) > max_bytes) {
            return rf::error("list concatenation is too large");
        }
        std::vector<Value> items = a.list().items;
        items.insert(items.end(), b.list().items.begin(), b.list().items.end());
        return Value::list(std::move(items), a.list().type);
    }
    if (a.is_string()) return rf::error("can only concatenate str (not \"{}\") to str", type_name(b));
    if (a.is_list() && (a.list().type == SeqType::kList || a.list().type == SeqType::kTuple)) {
        return rf::error("can only concatenate {} (not \"{}\") to {}", type_name(a), type_name(b), type_name(a));
    }
    return type_error("+", a, b);
}

Result<bool> contains(const Value& container, const Value& item) {
    switch (container.kind()) {
        case Kind::kString:
            if (!item.is_string()) {
                return rf::error("'in <string>' requires string as left operand, not {}", type_name(item));
            }
            WorkMeter::charge(container.str().size());
            return container.str().find(item.str()) != std::string::npos;
        case Kind::kList:
            return std::any_of(container.list().items.begin(), container.list().items.end(),
                               [&](const Value& v) { return equals(v, item); });
        case Kind::kDict:
            if (!is_hashable(item)) return rf::error("unhashable type: '{}'", type_name(item));
            return container.dict().find(item) != nullptr;
        case Kind::kUndefined: return false;
        case Kind::kIterator: {
            IteratorObj& it = container.iter();
            while (it.pos < it.items.size()) {
                if (equals(it.items[it.pos++], item)) return true;
            }
            return false;
        }
        default: return rf::error("argument of type '{}' is not iterable", type_name(container));
    }
}

// --- evaluation ------------------------------------------------------------------------------

Result<Value> Interpreter::eval(const Expr& e, const Scope& scope) {
    RF_RETURN_IF_ERROR(tick());
    const NestingGuard guard(nesting_);
    if (nesting_ > kMaxNesting) return rf::error("template nests deeper than {} levels while rendering", kMaxNesting);
    Result<Value> r = eval_inner(e, scope);
    if (!r.is_ok() && !is_located(r.message())) return Status::error(located_message(e.loc, r.message()));
    return r;
}

Result<Value> Interpreter::eval_inner(const Expr& e, const Scope& scope) {
    switch (e.kind) {
        case ExprKind::kConst: return e.constant;
        case ExprKind::kName: return eval_name(e, scope);
        case ExprKind::kGetattr: {
            RF_ASSIGN_OR_RETURN(Value obj, eval(*e.a, scope));
            return getattr(obj, e.name);
        }
        case ExprKind::kGetitem: return eval_getitem(e, scope);
        case ExprKind::kSlice: return rf::error("a slice is only allowed as the whole subscript");
        case ExprKind::kCall: {
            RF_ASSIGN_OR_RETURN(Value callee, eval(*e.a, scope));
            RF_ASSIGN_OR_RETURN(CallValues args, eval_args(e.call, scope));
            return call(callee, args);
        }
        case ExprKind::kFilter: {
            RF_ASSIGN_OR_RETURN(Value input, eval(*e.a, scope));
            RF_ASSIGN_OR_RETURN(CallValues args, eval_args(e.call, scope));
            return call_filter(e.name, input, args);
        }
        case ExprKind::kTest: {
            RF_ASSIGN_OR_RETURN(Value input, eval(*e.a, scope));
            RF_ASSIGN_OR_RETURN(CallValues args, eval_args(e.call, scope));
            RF_ASSIGN_OR_RETURN(bool r, call_test(e.name, input, args));
            return Value::boolean(r);
        }
        case ExprKind::kNot: {
            RF_ASSIGN_OR_RETURN(Value v, eval(*e.a, scope));
            return Value::boolean(!truthy(v));
        }
        case ExprKind::kNeg:
        case ExprKind::kPos: {
            RF_ASSIGN_OR_RETURN(Value v, eval(*e.a, scope));
            return unary(e.kind == ExprKind::kNeg, v);
        }
        case ExprKind::kBinary: {
            RF_ASSIGN_OR_RETURN(Value a, eval(*e.a, scope));
            RF_ASSIGN_OR_RETURN(Value b, eval(*e.b, scope));
            return binary(e.bin_op, a, b);
        }
        case ExprKind::kAnd:
        case ExprKind::kOr: {
            RF_ASSIGN_OR_RETURN(Value a, eval(*e.a, scope));
            if (truthy(a) == (e.kind == ExprKind::kOr)) return a;
            return eval(*e.b, scope);
        }
        case ExprKind::kConcat: return eval_concat(e, scope);
        case ExprKind::kCompare: return eval_compare(e, scope);
        case ExprKind::kCondExpr: {
            RF_ASSIGN_OR_RETURN(Value test, eval(*e.a, scope));
            if (truthy(test)) return eval(*e.b, scope);
            if (e.c) return eval(*e.c, scope);
            return Value::undefined(fmt::format(
                "the inline if-expression on line {} evaluated to false and no else section was defined.", e.loc.line));
        }
        case ExprKind::kList:
        case ExprKind::kTuple:
        case ExprKind::kDict: return eval_literal(e, scope);
    }
    return rf::error("unknown expression");
}

// `a ~ b ~ c`: str() of each operand joined (plain str even for Markup operands).
Result<Value> Interpreter::eval_concat(const Expr& e, const Scope& scope) {
    std::string out;
    for (const auto& item : e.items) {
        RF_ASSIGN_OR_RETURN(Value v, eval(*item, scope));
        out += py::to_str(v);
        RF_RETURN_IF_ERROR(check_size(out.size()));
    }
    return Value::string(std::move(out));
}

Result<Value> Interpreter::eval_name(const Expr& e, const Scope& scope) {
    if (const Value* v = scope.find(e.name)) return *v;
    static const std::pair<std::string_view, Builtin> kGlobals[] = {
        {"range", Builtin::kRange},
        {"dict", Builtin::kDict},
        {"namespace", Builtin::kNamespace},
        {"raise_exception", Builtin::kRaiseException},
        {"strftime_now", Builtin::kStrftimeNow},
        {"joiner", Builtin::kJoiner},
    };
    for (const auto& [name, which] : kGlobals) {
        if (e.name == name) return make_builtin(which, std::string(name));
    }
    return Value::undefined(fmt::format("'{}' is undefined", e.name));
}

Result<Value> Interpreter::eval_literal(const Expr& e, const Scope& scope) {
    if (e.kind == ExprKind::kDict) {
        DictBuilder builder;
        uint32_t depth = 0;
        for (size_t i = 0; i < e.items.size(); ++i) {
            RF_ASSIGN_OR_RETURN(Value k, eval(*e.items[i], scope));
            RF_ASSIGN_OR_RETURN(Value v, eval(*e.values[i], scope));
            if (!is_hashable(k)) return rf::error("unhashable type: '{}'", type_name(k));
            depth = std::max(depth, v.depth());
            builder.set(std::move(k), std::move(v));
        }
        if (depth + 1 > kMaxValueDepth) return rf::error("value nests deeper than {} levels", kMaxValueDepth);
        return builder.build();
    }
    std::vector<Value> items;
    items.reserve(e.items.size());
    uint32_t depth = 0;
    for (const auto& item : e.items) {
        RF_ASSIGN_OR_RETURN(Value v, eval(*item, scope));
        depth = std::max(depth, v.depth());
        items.push_back(std::move(v));
    }
    if (depth + 1 > kMaxValueDepth) return rf::error("value nests deeper than {} levels", kMaxValueDepth);
    return Value::list(std::move(items), e.kind == ExprKind::kTuple ? SeqType::kTuple : SeqType::kList);
}

Result<CallValues> Interpreter::eval_args(const CallArgs& args, const Scope& scope) {
    CallValues out;
    for (const auto& a : args.args) {
        RF_ASSIGN_OR_RETURN(Value v, eval(*a, scope));
        out.args.push_back(std::move(v));
    }
    if (args.star_args) {
        RF_ASSIGN_OR_RETURN(Value v, eval(*args.star_args, scope));
        RF_ASSIGN_OR_RETURN(std::vector<Value> extra, iterate(v));
        out.args.insert(out.args.end(), extra.begin(), extra.end());
    }
    for (const auto& kw : args.kwargs) {
        RF_ASSIGN_OR_RETURN(Value v, eval(*kw.value, scope));
        out.kwargs.emplace_back(kw.name, std::move(v));
    }
    if (args.star_kwargs) {
        RF_ASSIGN_OR_RETURN(Value v, eval(*args.star_kwargs, scope));
        if (!v.is_dict()) return rf::error("argument after ** must be a mapping, not {}", type_name(v));
        for (const auto& [k, item] : v.dict().entries) {
            if (!k.is_string()) return rf::error("keywords must be strings");
            out.kwargs.emplace_back(k.str(), item);
        }
    }
    return out;
}

Result<Value> Interpreter::eval_compare(const Expr& e, const Scope& scope) {
    RF_ASSIGN_OR_RETURN(Value left, eval(*e.a, scope));
    for (const auto& [op, operand] : e.ops) {
        RF_ASSIGN_OR_RETURN(Value right, eval(*operand, scope));
        bool ok = false;
        switch (op) {
            case CmpOp::kEq: ok = equals(left, right); break;
            case CmpOp::kNe: ok = !equals(left, right); break;
            case CmpOp::kIn:
            case CmpOp::kNotIn: {
                RF_ASSIGN_OR_RETURN(bool found, contains(right, left));
                ok = (op == CmpOp::kIn) == found;
                break;
            }
            default: {
                if (left.is_undefined()) return Status::error(left.undefined_message());
                if (right.is_undefined()) return Status::error(right.undefined_message());
                Result<int> c = compare(left, right);
                if (!c.is_ok()) {
                    static const char* const kSymbols[] = {"==", "!=", "<", "<=", ">", ">="};
                    return rf::error("'{}' not supported between instances of '{}' and '{}'",
                                     kSymbols[static_cast<int>(op)], type_name(left), type_name(right));
                }
                const int r = *c;
                ok = op == CmpOp::kLt ? r == -1 : op == CmpOp::kLe ? (r == -1 || r == 0)
                   : op == CmpOp::kGt ? r == 1 : (r == 1 || r == 0);
            }
        }
        if (!ok) return Value::boolean(false);
        left = std::move(right);
    }
    return Value::boolean(true);
}

Result<Value> Interpreter::eval_getitem(const Expr& e, const Scope& scope) {
    RF_ASSIGN_OR_RETURN(Value obj, eval(*e.a, scope));
    if (e.b->kind != ExprKind::kSlice) {
        RF_ASSIGN_OR_RETURN(Value key, eval(*e.b, scope));
        return getitem(obj, key);
    }
    const Expr& slice = *e.b;
    std::optional<int64_t> bounds[3];
    bool valid = true;
    const Expr* parts[3] = {slice.a.get(), slice.b.get(), slice.c.get()};
    for (int i = 0; i < 3; ++i) {
        if (parts[i] == nullptr) continue;
        RF_ASSIGN_OR_RETURN(Value v, eval(*parts[i], scope));
        if (v.is_integral()) {
            bounds[i] = v.as_int();
        } else if (!v.is_none()) {
            valid = false;
        }
    }
    if (obj.is_undefined()) return Status::error(obj.undefined_message());
    const bool sliceable = obj.is_string() || obj.is_seq(SeqType::kList) || obj.is_seq(SeqType::kTuple);
    if (!valid || !sliceable) return Value::undefined(fmt::format("{} has no element slice", object_type_repr(obj)));
    const int64_t step = bounds[2].value_or(1);
    if (step == 0) return rf::error("slice step cannot be zero");
    if (obj.is_string()) {
        const std::string& s = obj.str();
        WorkMeter::charge(s.size());
        if (py::is_ascii(s)) {
            const auto idx = py::slice_indices(static_cast<int64_t>(s.size()), bounds[0], bounds[1], step);
            std::string out;
            out.reserve(idx.size());
            for (int64_t i : idx) out += s[static_cast<size_t>(i)];
            return Value::string(std::move(out), obj.is_markup());
        }
        const std::vector<char32_t> cps = py::to_code_points(s);
        std::string out;
        for (int64_t i : py::slice_indices(static_cast<int64_t>(cps.size()), bounds[0], bounds[1], step)) {
            py::append_utf8(out, cps[static_cast<size_t>(i)]);
        }
        return Value::string(std::move(out), obj.is_markup());
    }
    const auto& items = obj.list().items;
    std::vector<Value> out;
    for (int64_t i : py::slice_indices(static_cast<int64_t>(items.size()), bounds[0], bounds[1], step)) {
        out.push_back(items[static_cast<size_t>(i)]);
    }
    return Value::list(std::move(out), obj.list().type);
}

// --- attribute and item lookup ---------------------------------------------------------------

Result<Value> Interpreter::getattr(const Value& obj, std::string_view name) {
    if (obj.is_undefined()) return Status::error(obj.undefined_message());
    if (obj.is_namespace()) {
        if (const Value* v = obj.ns().find(name)) return *v;
    } else if (obj.is_loop()) {
        const LoopObj& loop = obj.loop();
        const auto n = static_cast<int64_t>(loop.items->items.size());
        const int64_t i = loop.index0;
        if (name == "index") return Value::integer(i + 1);
        if (name == "index0") return Value::integer(i);
        if (name == "revindex") return Value::integer(n - i);
        if (name == "revindex0") return Value::integer(n - i - 1);
        if (name == "first") return Value::boolean(i == 0);
        if (name == "last") return Value::boolean(i == n - 1);
        if (name == "length") return Value::integer(n);
        if (name == "depth") return Value::integer(loop.depth0 + 1);
        if (name == "depth0") return Value::integer(loop.depth0);
        if (name == "previtem") {
            if (i > 0) return loop.items->items[static_cast<size_t>(i - 1)];
            return Value::undefined("there is no previous item");
        }
        if (name == "nextitem") {
            if (i + 1 < n) return loop.items->items[static_cast<size_t>(i + 1)];
            return Value::undefined("there is no next item");
        }
        if (name == "cycle" || name == "changed") return make_method(obj, name);
    } else {
        bool unsafe = false;
        if (lookup_method(obj, name, unsafe)) {
            if (unsafe) {
                return Value::undefined(
                    fmt::format("access to attribute '{}' of '{}' object is unsafe.", name, type_name(obj)), true);
            }
            return make_method(obj, name);
        }
        if (obj.is_dict()) {
            if (const Value* v = obj.dict().find(name)) return *v;
        }
    }
    return Value::undefined(fmt::format("'{}' has no attribute '{}'", object_type_repr(obj), name));
}

Result<Value> Interpreter::getitem(const Value& obj, const Value& key) {
    if (obj.is_undefined()) return Status::error(obj.undefined_message());
    if (key.is_integral() && (obj.is_seq(SeqType::kList) || obj.is_seq(SeqType::kTuple) || obj.is_string())) {
        int64_t i = key.as_int();
        if (obj.is_string()) {
            const std::string& s = obj.str();
            WorkMeter::charge(s.size());
            const auto n = static_cast<int64_t>(py::is_ascii(s) ? s.size() : py::code_point_count(s));
            if (i < 0) i += n;
            if (i >= 0 && i < n) {
                const size_t begin = py::byte_offset_of(s, static_cast<size_t>(i));
                size_t end = begin;
                py::decode_utf8(s, end);
                return Value::string(s.substr(begin, end - begin), obj.is_markup());
            }
        } else {
            const auto& items = obj.list().items;
            const auto n = static_cast<int64_t>(items.size());
            if (i < 0) i += n;
            if (i >= 0 && i < n) return items[static_cast<size_t>(i)];
        }
    } else if (obj.is_dict() && is_hashable(key)) {
        if (const Value* v = obj.dict().find(key)) return *v;
    }
    if (key.is_string() && !obj.is_dict()) return getattr(obj, key.str());
    if (key.is_string()) {
        bool unsafe = false;
        if (lookup_method(obj, key.str(), unsafe)) return getattr(obj, key.str());
        return Value::undefined(fmt::format("'{}' has no attribute '{}'", object_type_repr(obj), key.str()));
    }
    return Value::undefined(fmt::format("{} has no element {}", object_type_repr(obj), py::to_repr(key)));
}

// --- calls -----------------------------------------------------------------------------------

Result<Value> Interpreter::call(const Value& callee, CallValues& call) {
    if (callee.is_undefined()) return Status::error(callee.undefined_message());
    if (callee.is_loop()) {
        const LoopObj& loop = callee.loop();
        if (loop.node == nullptr || !loop.node->recursive) {
            return rf::error("The loop must be marked as 'recursive' to call it");
        }
        if (call.args.size() != 1 || !call.kwargs.empty()) return rf::error("loop() takes exactly one argument");
        std::shared_ptr<Scope> scope = loop.scope.lock();
        if (!scope) return rf::error("the loop is no longer running");
        if (call_depth_ >= limits_.max_call_depth) return rf::error("recursive loop nests deeper than {} levels", limits_.max_call_depth);
        RF_ASSIGN_OR_RETURN(std::vector<Value> items, iterate(call.args[0]));
        std::string buffer;
        std::string* saved = out_;
        out_ = &buffer;
        ++call_depth_;
        const Result<std::string> r = run_loop(*loop.node, scope, std::move(items), loop.depth0 + 1);
        --call_depth_;
        out_ = saved;
        if (!r.is_ok()) return r.status();
        return Value::string(std::move(buffer));
    }
    if (!callee.is_callable()) return rf::error("'{}' object is not callable", type_name(callee));
    CallableObj& fn = callee.callable();
    switch (fn.type) {
        case CallableObj::Type::kBuiltin: return call_builtin(fn, call);
        case CallableObj::Type::kMethod:
            if (fn.self.is_string()) WorkMeter::charge(fn.self.str().size());
            return call_method(*this, fn.self, fn.name, call);
        case CallableObj::Type::kMacro:
        case CallableObj::Type::kCaller: return call_macro(fn, call);
        case CallableObj::Type::kJoinerCall: {
            const bool first = !fn.joiner_used;
            fn.joiner_used = true;
            return Value::string(first ? std::string() : fn.joiner_separator);
        }
        case CallableObj::Type::kLoopRecurse: break;
    }
    return rf::error("object is not callable");
}

Result<Value> Interpreter::call_filter(std::string_view name, const Value& input, CallValues& call) {
    if (input.is_string()) WorkMeter::charge(input.str().size());  // string filters scan their input
    return apply_filter(*this, name, input, call);
}

Result<bool> Interpreter::call_test(std::string_view name, const Value& input, CallValues& call) {
    return apply_test(*this, name, input, call);
}

Result<Value> Interpreter::call_builtin(const CallableObj& fn, CallValues& call) {
    switch (fn.builtin) {
        case Builtin::kRange: {
            if (!call.kwargs.empty()) return rf::error("range() takes no keyword arguments");
            if (call.args.empty() || call.args.size() > 3) return rf::error("range expected 1 to 3 arguments");
            int64_t start = 0, stop = 0, step = 1;
            if (call.args.size() == 1) {
                RF_ASSIGN_OR_RETURN(stop, range_arg(call.args[0]));
            } else {
                RF_ASSIGN_OR_RETURN(start, range_arg(call.args[0]));
                RF_ASSIGN_OR_RETURN(stop, range_arg(call.args[1]));
                if (call.args.size() == 3) {
 RF_ASSIGN_OR_RETURN(step, range_arg(call.args[2]));
}
            }
            if (step == 0) return rf::error("range() arg 3 must not be zero");
            const long double span = step > 0 ? static_cast<long double>(stop) - start : static_cast<long double>(start) - stop;
            const long double count = span <= 0 ? 0 : std::ceil(span / std::fabs(static_cast<long double>(step)));
            if (count > kMaxRange) {
                return rf::error("Range too big. The sandbox blocks ranges larger than MAX_RANGE ({}).", kMaxRange);
            }
            std::vector<Value> items;
            for (int64_t k = 0; k < static_cast<int64_t>(count); ++k) items.push_back(Value::integer(start + k * step));
            return Value::list(std::move(items));
        }
        case Builtin::kDict:
        case Builtin::kNamespace: {
            DictBuilder builder;
            if (call.args.size() > 1) return rf::error("{} expected at most 1 argument", fn.name);
            if (!call.args.empty()) {
                const Value& src = call.args[0];
                if (src.is_dict()) {
                    for (const auto& [k, v] : src.dict().entries) builder.set(k, v);
                } else {
                    RF_ASSIGN_OR_RETURN(std::vector<Value> pairs, iterate(src));
                    for (const auto& p : pairs) {
                        RF_ASSIGN_OR_RETURN(std::vector<Value> kv, iterate(p));
                        if (kv.size() != 2) return rf::error("dictionary update sequence element has length {}; 2 is required", kv.size());
                        if (!is_hashable(kv[0])) return rf::error("unhashable type: '{}'", type_name(kv[0]));
                        builder.set(kv[0], kv[1]);
                    }
                }
            }
            for (auto& [k, v] : call.kwargs) builder.set(Value::string(k), v);
            Value d = builder.build();
            if (fn.builtin == Builtin::kDict) return d;
            auto ns = std::make_shared<NamespaceObj>();
            for (const auto& [k, v] : d.dict().entries) {
                if (!k.is_string()) return rf::error("namespace attribute names must be strings");
                if (v.contains_namespace()) return rf::error("a namespace attribute cannot hold a namespace");
                ns->set(k.str(), v);
            }
            return Value::object(Kind::kNamespace, std::move(ns));
        }
        case Builtin::kRaiseException: {
            const std::string message = call.args.empty() ? std::string() : py::to_str(call.args[0]);
            return rf::error("template raised an exception: {}", message);
        }
        case Builtin::kStrftimeNow: {
            if (call.args.size() != 1 || !call.args[0].is_string()) return rf::error("strftime_now() takes one string");
            const std::string& format = call.args[0].str();
            const std::time_t t = now_unix_ ? static_cast<std::time_t>(*now_unix_) : std::time(nullptr);
            std::tm tm{};
            if (now_unix_) {
                gmtime_r(&t, &tm);
            } else {
                localtime_r(&t, &tm);
            }
            return Value::string(python_strftime(format, tm, now_unix_.has_value()));
        }
        case Builtin::kJoiner: {
            RF_ASSIGN_OR_RETURN(auto a, bind_args(call, {"sep"}, "joiner"));
            auto j = std::make_shared<CallableObj>();
            j->type = CallableObj::Type::kJoinerCall;
            j->name = "joiner";
            j->joiner_separator = a[0] ? py::to_str(*a[0]) : ", ";
            return Value::object(Kind::kCallable, std::move(j));
        }
        case Builtin::kCycler: break;
    }
    return rf::error("'{}' is not supported", fn.name);
}

// --- operators -------------------------------------------------------------------------------

Result<Value> Interpreter::binary(BinOp op, const Value& a, const Value& b) {
    if (a.is_undefined()) return Status::error(a.undefined_message());
    if (b.is_undefined()) return Status::error(b.undefined_message());
    const size_t max_bytes = limits_.max_output_bytes;
    const bool ints = a.is_integral() && b.is_integral();
    const bool numbers = a.is_number() && b.is_number();
    switch (op) {
        case BinOp::kAdd: return add_values(a, b, max_bytes);
        case BinOp::kSub: {
            if (!numbers) return type_error("-", a, b);
            int64_t r = 0;
            if (!ints) return Value::floating(a.as_float() - b.as_float());
            if (__builtin_sub_overflow(a.as_int(), b.as_int(), &r)) return rf::error("integer overflow in -");
            return Value::integer(r);
        }
        case BinOp::kMul: {
            if (ints) {
                int64_t r = 0;
                if (__builtin_mul_overflow(a.as_int(), b.as_int(), &r)) return rf::error("integer overflow in *");
                return Value::integer(r);
            }
            if (numbers) return Value::floating(a.as_float() * b.as_float());
            const bool a_seq = a.is_string() || a.is_seq(SeqType::kList) || a.is_seq(SeqType::kTuple);
            const bool b_seq = b.is_string() || b.is_seq(SeqType::kList) || b.is_seq(SeqType::kTuple);
            if (a_seq && b.is_integral()) return repeat(a, b.as_int(), max_bytes);
            if (b_seq && a.is_integral()) return repeat(b, a.as_int(), max_bytes);
            if (a_seq || b_seq) return rf::error("can't multiply sequence by non-int of type '{}'", type_name(a_seq ? b : a));
            return type_error("*", a, b);
        }
        case BinOp::kDiv: {
            if (!numbers) return type_error("/", a, b);
            if (b.as_float() == 0.0) return rf::error("division by zero");
            return Value::floating(a.as_float() / b.as_float());
        }
        case BinOp::kFloorDiv:
        case BinOp::kMod: {
            const bool floor_div = op == BinOp::kFloorDiv;
            if (!floor_div && a.is_string()) {
                RF_ASSIGN_OR_RETURN(std::string s, py::percent_format(a.str(), b));
                RF_RETURN_IF_ERROR(check_size(s.size()));
                return Value::string(std::move(s), a.is_markup());
            }
            if (!numbers) return type_error(floor_div ? "//" : "%", a, b);
            return floor_div_mod(floor_div, a, b);
        }
        case BinOp::kPow: {
            if (!numbers) return type_error("** or pow()", a, b);
            if (ints && b.as_int() >= 0) return int_pow(a.as_int(), b.as_int());
            const double x = a.as_float();
            const double y = b.as_float();
            if (x == 0.0 && y < 0) return rf::error("0.0 cannot be raised to a negative power");
            if (x < 0 && std::floor(y) != y) return rf::error("complex results are not supported");
            return Value::floating(std::pow(x, y));
        }
    }
    return rf::error("unknown operator");
}

}  // namespace rf::chat
