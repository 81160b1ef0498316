// Statement execution: output, control flow, jinja2's scoping rules (a fresh scope per loop
// iteration, block sets and macros; none for if), namespaces, macros and call blocks.
#include "chat/interpreter.h"

#include <algorithm>

#include "chat/py_format.h"
#include "chat/py_str.h"

namespace rf::chat {

// --- scopes and helpers ----------------------------------------------------------------------

namespace {
constexpr size_t kScopeIndexThreshold = 16;
}  // namespace

size_t Scope::index_of(std::string_view name) const {
    if (vars.size() >= kScopeIndexThreshold) {
        if (index_.empty()) {
            for (size_t i = 0; i < vars.size(); ++i) index_.emplace(vars[i].first, i);
        }
        const auto it = index_.find(std::string(name));
        return it == index_.end() ? vars.size() : it->second;
    }
    for (size_t i = 0; i < vars.size(); ++i) {
        if (vars[i].first == name) return i;
    }
    return vars.size();
}

const Value* Scope::find_local(std::string_view name) const {
    const size_t i = index_of(name);
    return i < vars.size() ? &vars[i].second : nullptr;
}

const Value* Scope::find(std::string_view name) const {
    for (const Scope* s = this; s != nullptr; s = s->parent.get()) {
        if (const Value* v = s->find_local(name)) return v;
    }
    return nullptr;
}

void Scope::set(std::string_view name, Value value) {
    if (const size_t i = index_of(name); i < vars.size()) {
        vars[i].second = std::move(value);
        return;
    }
    vars.emplace_back(std::string(name), std::move(value));
    if (!index_.empty()) index_.emplace(vars.back().first, vars.size() - 1);
}

Result<std::vector<std::optional<Value>>> bind_args(const CallValues& call, std::initializer_list<std::string_view> params,
                                                    std::string_view func) {
    std::vector<std::optional<Value>> out(params.size());
    if (call.args.size() > params.size()) {
        return rf::error("{}() takes at most {} argument(s) ({} given)", func, params.size(), call.args.size());
    }
    for (size_t i = 0; i < call.args.size(); ++i) out[i] = call.args[i];
    for (const auto& [name, value] : call.kwargs) {
        const auto it = std::find(params.begin(), params.end(), name);
        if (it == params.end()) return rf::error("{}() got an unexpected keyword argument '{}'", func, name);
        auto& slot = out[static_cast<size_t>(it - params.begin())];
        if (slot) return rf::error("{}() got multiple values for argument '{}'", func, name);
        slot = value;
    }
    return out;
}

Result<std::vector<Value>> iterate(const Value& v) {
    WorkMeter::charge(16);
    switch (v.kind()) {
        case Kind::kUndefined: return std::vector<Value>{};
        case Kind::kString: {
            std::vector<Value> chars;
            const std::string& s = v.str();
            size_t pos = 0;
            while (pos < s.size()) {
                const size_t start = pos;
                py::decode_utf8(s, pos);
                chars.push_back(Value::string(s.substr(start, pos - start)));
            }
            return chars;
        }
        case Kind::kList:
            WorkMeter::charge(v.list().items.size() * sizeof(Value));
            return v.list().items;
        case Kind::kDict: {
            WorkMeter::charge(v.dict().entries.size() * sizeof(Value));
            std::vector<Value> keys;
            keys.reserve(v.dict().entries.size());
            for (const auto& [k, item] : v.dict().entries) keys.push_back(k);
            return keys;
        }
        case Kind::kIterator: {
            IteratorObj& it = v.iter();
            std::vector<Value> rest(it.items.begin() + static_cast<std::ptrdiff_t>(std::min(it.pos, it.items.size())),
                                    it.items.end());
            it.pos = it.items.size();
            return rest;
        }
        default: return rf::error("'{}' object is not iterable", type_name(v));
    }
}

Result<int64_t> length_of(const Value& v) {
    switch (v.kind()) {
        case Kind::kUndefined: return int64_t{0};
        case Kind::kString:
            WorkMeter::charge(v.str().size());
            return static_cast<int64_t>(py::code_point_count(v.str()));
        case Kind::kList: return static_cast<int64_t>(v.list().items.size());
        case Kind::kDict: return static_cast<int64_t>(v.dict().entries.size());
        case Kind::kLoop: return static_cast<int64_t>(v.loop().items->items.size());
        default: return rf::error("object of type '{}' has no len()", type_name(v));
    }
}

std::string object_type_repr(const Value& v) {
    if (v.is_none()) return "None";
    return std::string(type_name(v)) + " object";
}

std::string html_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&#34;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

// --- interpreter -----------------------------------------------------------------------------

Interpreter::Interpreter(const Program& program, const Limits& limits, std::optional<int64_t> now_unix)
    : program_(program), limits_(limits), now_unix_(now_unix) {}

Result<std::string> Interpreter::render(std::vector<std::pair<std::string, Value>> context) {
    WorkMeter meter(limits_.max_work_bytes);
    meter_ = &meter;
    root_ = std::make_shared<Scope>();
    root_->vars = std::move(context);
    std::string out;
    out_ = &out;
    steps_ = 0;
    iterations_ = 0;
    call_depth_ = 0;
    nesting_ = 0;
    const Result<Flow> flow = exec_body(program_.body, root_);
    meter_ = nullptr;
    out_ = nullptr;
    root_.reset();
    if (!flow.is_ok()) return flow.status();
    return out;
}

Status Interpreter::tick() {
    if (++steps_ > limits_.max_steps) {
        return rf::error("template exceeded the limit of {} evaluation steps", limits_.max_steps);
    }
    if (meter_ != nullptr && meter_->exceeded()) {
        return rf::error("template did more than {} bytes of work (values created or scanned)", meter_->budget());
    }
    return Status::ok();
}

Status Interpreter::check_size(size_t bytes) const {
    if (bytes > limits_.max_output_bytes) {
        return rf::error("a string of {} bytes exceeds the limit of {} bytes", bytes, limits_.max_output_bytes);
    }
    return Status::ok();
}

Status Interpreter::emit(std::string_view text) {
    if (out_->size() + text.size() > limits_.max_output_bytes) {
        return rf::error("rendered output exceeds the limit of {} bytes", limits_.max_output_bytes);
    }
    out_->append(text);
    return Status::ok();
}

Result<Interpreter::Flow> Interpreter::exec_body(const Body& body, const ScopePtr& scope) {
    for (const auto& s : body) {
        RF_ASSIGN_OR_RETURN(Flow flow, exec(*s, scope));
        if (flow != Flow::kNormal) return flow;
    }
    return Flow::kNormal;
}

Result<std::string> Interpreter::capture(const Body& body, const ScopePtr& scope) {
    std::string buffer;
    std::string* saved = out_;
    out_ = &buffer;
    const Result<Flow> flow = exec_body(body, scope);
    out_ = saved;
    if (!flow.is_ok()) return flow.status();
    return buffer;
}

Result<Interpreter::Flow> Interpreter::exec(const Stmt& s, const ScopePtr& scope) {
    RF_RETURN_IF_ERROR(tick());
    const NestingGuard guard(nesting_);
    if (nesting_ > kMaxNesting) return rf::error("template nests deeper than {} levels while rendering", kMaxNesting);
    auto child = [&scope] {
        auto c = std::make_shared<Scope>();
        c->parent = scope;
        return c;
    };
    switch (s.kind) {
        case StmtKind::kData: RF_RETURN_IF_ERROR(emit(s.text)); break;
        case StmtKind::kPrint:
            for (const auto& e : s.exprs) {
                RF_ASSIGN_OR_RETURN(Value v, eval(*e, *scope));
                RF_RETURN_IF_ERROR(emit(py::to_str(v)));
            }
            break;
        case StmtKind::kIf: {
            RF_ASSIGN_OR_RETURN(Value test, eval(*s.expr, *scope));
            return exec_body(truthy(test) ? s.body : s.else_body, scope);
        }
        case StmtKind::kFor: return exec_for(s, scope);
        case StmtKind::kSet: RF_RETURN_IF_ERROR(exec_set(s, scope)); break;
        case StmtKind::kSetBlock: {
            RF_ASSIGN_OR_RETURN(std::string text, capture(s.body, child()));
            RF_ASSIGN_OR_RETURN(Value v, apply_filter_chain(s.filter.get(), Value::string(std::move(text)), *scope));
            RF_RETURN_IF_ERROR(assign(s.target, std::move(v), *scope));
            break;
        }
        case StmtKind::kMacro: {
            auto macro = std::make_shared<CallableObj>();
            macro->type = CallableObj::Type::kMacro;
            macro->name = s.name;
            macro->node = &s;
            macro->closure = scope;
            scope->set(s.name, Value::object(Kind::kCallable, std::move(macro)));
            break;
        }
        case StmtKind::kCallBlock: RF_RETURN_IF_ERROR(exec_call_block(s, scope)); break;
        case StmtKind::kFilterBlock: {
            RF_ASSIGN_OR_RETURN(std::string text, capture(s.body, child()));
            RF_ASSIGN_OR_RETURN(Value v, apply_filter_chain(s.expr.get(), Value::string(std::move(text)), *scope));
            RF_RETURN_IF_ERROR(emit(py::to_str(v)));
            break;
        }
        case StmtKind::kWith: {
            auto inner = child();
            for (size_t i = 0; i < s.targets.size(); ++i) {
                RF_ASSIGN_OR_RETURN(Value v, eval(*s.exprs[i], *scope));
                RF_RETURN_IF_ERROR(assign(s.targets[i], std::move(v), *inner));
            }
            return exec_body(s.body, inner);
        }
        case StmtKind::kBreak: return Flow::kBreak;
        case StmtKind::kContinue: return Flow::kContinue;
        case StmtKind::kScope: {
            RF_ASSIGN_OR_RETURN(Flow flow, exec_body(s.body, child()));
            return flow;
        }
    }
    return Flow::kNormal;
}

Result<Interpreter::Flow> Interpreter::exec_for(const Stmt& s, const ScopePtr& scope) {
    RF_ASSIGN_OR_RETURN(Value iterable, eval(*s.expr, *scope));
    RF_ASSIGN_OR_RETURN(std::vector<Value> items, iterate(iterable));
    if (s.filter) {
        // The loop filter sees the target but not `loop`; filtered-out items do not count.
        std::vector<Value> kept;
        for (auto& item : items) {
            RF_RETURN_IF_ERROR(tick());
            auto test_scope = std::make_shared<Scope>();
            test_scope->parent = scope;
            RF_RETURN_IF_ERROR(assign(s.target, item, *test_scope));
            RF_ASSIGN_OR_RETURN(Value keep, eval(*s.filter, *test_scope));
            if (truthy(keep)) kept.push_back(std::move(item));
        }
        items = std::move(kept);
    }
    if (items.empty()) {
        auto else_scope = std::make_shared<Scope>();
        else_scope->parent = scope;
        return exec_body(s.else_body, else_scope);
    }
    RF_ASSIGN_OR_RETURN(std::string ignored, run_loop(s, scope, std::move(items), 0));
    (void)ignored;
    return Flow::kNormal;
}

// Runs a loop body over `items`, writing to the current output. Returns "" (the output went
// to out_); recursive `loop(...)` calls capture it by swapping out_ first.
Result<std::string> Interpreter::run_loop(const Stmt& s, const ScopePtr& scope, std::vector<Value> items, int64_t depth0) {
    auto list = std::make_shared<ListObj>();
    list->has_namespace = std::any_of(items.begin(), items.end(), [](const Value& v) { return v.contains_namespace(); });
    list->items = std::move(items);
    auto loop = std::make_shared<LoopObj>();
    loop->has_namespace = list->has_namespace;
    loop->items = list;
    loop->depth0 = depth0;
    loop->node = &s;
    loop->scope = scope;
    const Value loop_value = Value::object(Kind::kLoop, loop);
    for (size_t i = 0; i < list->items.size(); ++i) {
        if (++iterations_ > limits_.max_loop_iterations) {
            return rf::error("template exceeded the limit of {} loop iterations", limits_.max_loop_iterations);
        }
        RF_RETURN_IF_ERROR(tick());
        auto iter_scope = std::make_shared<Scope>();
        iter_scope->parent = scope;
        RF_RETURN_IF_ERROR(assign(s.target, list->items[i], *iter_scope));
        loop->index0 = static_cast<int64_t>(i);
        iter_scope->set("loop", loop_value);
        RF_ASSIGN_OR_RETURN(Flow flow, exec_body(s.body, iter_scope));
        if (flow == Flow::kBreak) break;
    }
    return std::string();
}

Status Interpreter::assign(const Target& t, Value value, Scope& scope) {
    switch (t.kind) {
        case Target::Kind::kName: scope.set(t.name, std::move(value)); return Status::ok();
        case Target::Kind::kTuple: {
            RF_ASSIGN_OR_RETURN(std::vector<Value> items, iterate(value));
            if (items.size() < t.items.size()) {
                return rf::error("not enough values to unpack (expected {}, got {})", t.items.size(), items.size());
            }
            if (items.size() > t.items.size()) return rf::error("too many values to unpack (expected {})", t.items.size());
            for (size_t i = 0; i < items.size(); ++i) RF_RETURN_IF_ERROR(assign(t.items[i], std::move(items[i]), scope));
            return Status::ok();
        }
        case Target::Kind::kNamespaceAttr: {
            const Value* ns = scope.find(t.name);
            if (ns == nullptr || !ns->is_namespace()) {
                return Status::error(located_message(t.loc, "cannot assign attribute on non-namespace object"));
            }
            // Namespaces never hold namespaces: no reference cycles, and nesting depth stays known.
            if (value.contains_namespace()) {
                return Status::error(located_message(t.loc, "a namespace attribute cannot hold a namespace"));
            }
            if (value.depth() + 1 > kMaxValueDepth) {
                return Status::error(located_message(t.loc, "value nests too deeply"));
            }
            ns->ns().set(t.attr, std::move(value));
            return Status::ok();
        }
    }
    return Status::ok();
}

Status Interpreter::exec_set(const Stmt& s, const ScopePtr& scope) {
    RF_ASSIGN_OR_RETURN(Value v, eval(*s.expr, *scope));
    return assign(s.target, std::move(v), *scope);
}

Status Interpreter::exec_call_block(const Stmt& s, const ScopePtr& scope) {
    auto caller = std::make_shared<CallableObj>();
    caller->type = CallableObj::Type::kCaller;
    caller->name = "caller";
    caller->node = &s;
    caller->closure = scope;
    RF_ASSIGN_OR_RETURN(Value callee, eval(*s.expr->a, *scope));
    RF_ASSIGN_OR_RETURN(CallValues args, eval_args(s.expr->call, *scope));
    args.kwargs.emplace_back("caller", Value::object(Kind::kCallable, std::move(caller)));
    Result<Value> result = call(callee, args);
    if (!result.is_ok()) {
        const std::string& m = result.message();
        return Status::error(m.rfind("line ", 0) == 0 ? m : located_message(s.loc, m));
    }
    return emit(py::to_str(*result));
}

Result<Value> Interpreter::apply_filter_chain(const Expr* chain, Value input, const Scope& scope) {
    if (chain == nullptr) return input;
    RF_ASSIGN_OR_RETURN(Value inner, apply_filter_chain(chain->a.get(), std::move(input), scope));
    RF_ASSIGN_OR_RETURN(CallValues args, eval_args(chain->call, scope));
    Result<Value> r = call_filter(chain->name, inner, args);
    if (!r.is_ok() && r.message().rfind("line ", 0) != 0) return Status::error(located_message(chain->loc, r.message()));
    return r;
}

Result<Value> Interpreter::call_macro(const CallableObj& macro, CallValues& call) {
    const Stmt& node = *macro.node;
    std::shared_ptr<Scope> closure = macro.closure.lock();
    if (!closure) return rf::error("macro '{}' was called after its defining scope ended", macro.name);
    if (call_depth_ >= limits_.max_call_depth) {
        return rf::error("macro calls nest deeper than {} levels", limits_.max_call_depth);
    }
    const bool is_macro = macro.type == CallableObj::Type::kMacro;
    auto scope = std::make_shared<Scope>();
    scope->parent = closure;
    const size_t n_params = node.params.size();
    std::vector<std::optional<Value>> bound(n_params);
    for (size_t i = 0; i < n_params && i < call.args.size(); ++i) bound[i] = call.args[i];
    for (size_t i = call.args.size(); i < n_params; ++i) {
        for (auto it = call.kwargs.begin(); it != call.kwargs.end(); ++it) {
            if (it->first == node.params[i].name) {
                bound[i] = std::move(it->second);
                call.kwargs.erase(it);
                break;
            }
        }
    }
    if (is_macro && node.uses_caller) {
        Value caller = Value::undefined("No caller defined");
        for (auto it = call.kwargs.begin(); it != call.kwargs.end(); ++it) {
            if (it->first == "caller") {
                caller = std::move(it->second);
                call.kwargs.erase(it);
                break;
            }
        }
        scope->set("caller", std::move(caller));
    }
    if (is_macro && node.uses_kwargs) {
        DictBuilder extra;
        for (auto& [k, v] : call.kwargs) extra.set(Value::string(k), std::move(v));
        scope->set("kwargs", extra.build());
    } else if (!call.kwargs.empty()) {
        return rf::error("macro '{}' takes no keyword argument '{}'", macro.name, call.kwargs.front().first);
    }
    if (is_macro && node.uses_varargs) {
        std::vector<Value> rest;
        for (size_t i = n_params; i < call.args.size(); ++i) rest.push_back(call.args[i]);
        scope->set("varargs", Value::tuple(std::move(rest)));
    } else if (call.args.size() > n_params) {
        return rf::error("macro '{}' takes not more than {} argument(s)", macro.name, n_params);
    }
    for (size_t i = 0; i < n_params; ++i) {
        const Param& p = node.params[i];
        if (bound[i]) {
            scope->set(p.name, std::move(*bound[i]));
        } else if (p.default_value) {
            RF_ASSIGN_OR_RETURN(Value d, eval(*p.default_value, *scope));
            scope->set(p.name, std::move(d));
        } else {
            scope->set(p.name, Value::undefined(fmt::format("parameter '{}' was not provided", p.name)));
        }
    }
    ++call_depth_;
    Result<std::string> out = capture(node.body, scope);
    --call_depth_;
    if (!out.is_ok()) return out.status();
    return Value::string(std::move(out).value());
}

}  // namespace rf::chat
