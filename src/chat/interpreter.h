// Tree-walking interpreter over the syntax tree: jinja2's scoping (per-iteration loop scopes,
// macro closures, namespaces), its sandboxed attribute lookup, and hard limits on work done.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "chat/ast.h"
#include "chat/value.h"
#include "core/status.h"

namespace rf::chat {

// Deepest recursion of statement and expression evaluation (macro calls included); keeps the
// interpreter's stack well under 8 MiB even with sanitizers.
inline constexpr uint32_t kMaxNesting = 1500;

// Bounds on one render, so a hostile template cannot hang or exhaust memory.
struct Limits {
    size_t max_output_bytes = 32u << 20;       // rendered text, and any one string value
    uint64_t max_steps = 10'000'000;           // expression evaluations + statements executed
    uint64_t max_loop_iterations = 1'000'000;  // over all for loops
    uint32_t max_call_depth = 64;              // nested macro / caller / recursive-loop calls
    uint64_t max_work_bytes = 512ull << 20;    // bytes created or scanned by value operations
};

// A variable scope: the render context at the root, then macro, loop-iteration and block scopes.
struct Scope {
    std::shared_ptr<Scope> parent;
    std::vector<std::pair<std::string, Value>> vars;

    const Value* find_local(std::string_view name) const;
    const Value* find(std::string_view name) const;  // this scope, then its parents
    void set(std::string_view name, Value value);

private:
    size_t index_of(std::string_view name) const;  // position in vars, or vars.size()
    // Scopes with many variables (the root of a long template) are searched through an index.
    mutable std::unordered_map<std::string, size_t> index_;
};

// Arguments of one call after evaluation.
struct CallValues {
    std::vector<Value> args;
    std::vector<std::pair<std::string, Value>> kwargs;
};

// Binds positional then keyword arguments to `params` Python-style (all optional; nullopt when
// not given). Errors name `func` on too many or unknown arguments.
Result<std::vector<std::optional<Value>>> bind_args(const CallValues& call, std::initializer_list<std::string_view> params,
                                                    std::string_view func);

// Python's iter(): the items of a str (code points), list/tuple/view, dict (keys), Undefined
// (nothing), iterator (what remains; consumed), loop. Other values are not iterable.
Result<std::vector<Value>> iterate(const Value& v);
// len(); errors for values without a length.
Result<int64_t> length_of(const Value& v);

class Interpreter {
public:
    Interpreter(const Program& program, const Limits& limits, std::optional<int64_t> now_unix);

    // Renders with `context` as the root variables.
    Result<std::string> render(std::vector<std::pair<std::string, Value>> context);

    // The sandbox's attribute / item lookup (see jinja2.sandbox): a method of the value's type
    // wins for `.name`, an item wins for `[key]`; misses give Undefined, never an error, unless
    // `obj` itself is Undefined.
    Result<Value> getattr(const Value& obj, std::string_view name);
    Result<Value> getitem(const Value& obj, const Value& key);
    Result<Value> call(const Value& callee, CallValues& call);
    Result<Value> call_filter(std::string_view name, const Value& input, CallValues& call);
    Result<bool> call_test(std::string_view name, const Value& input, CallValues& call);

    const Limits& limits() const { return limits_; }
    std::optional<int64_t> now_unix() const { return now_unix_; }
    // Errors when a string of `bytes` would exceed the per-value limit.
    Status check_size(size_t bytes) const;

private:
    enum class Flow { kNormal, kBreak, kContinue };
    using ScopePtr = std::shared_ptr<Scope>;

    Status tick();
    // Counts one level of recursion in exec/eval; the guard undoes it.
    struct NestingGuard {
        explicit NestingGuard(uint32_t& n) : n_(++n) {}
        ~NestingGuard() { --n_; }
        NestingGuard(const NestingGuard&) = delete;
        NestingGuard& operator=(const NestingGuard&) = delete;
        uint32_t& n_;
    };
    Status emit(std::string_view text);

    // statements
    Result<Flow> exec_body(const Body& body, const ScopePtr& scope);
    Result<Flow> exec(const Stmt& s, const ScopePtr& scope);
    Result<Flow> exec_for(const Stmt& s, const ScopePtr& scope);
    Result<std::string> run_loop(const Stmt& s, const ScopePtr& scope, std::vector<Value> items, int64_t depth0);
    Status exec_set(const Stmt& s, const ScopePtr& scope);
    Status exec_call_block(const Stmt& s, const ScopePtr& scope);
    Result<std::string> capture(const Body& body, const ScopePtr& scope);
    Status assign(const Target& t, Value value, Scope& scope);
    Result<Value> apply_filter_chain(const Expr* chain, Value input, const Scope& scope);

    // expressions
    Result<Value> eval(const Expr& e, const Scope& scope);
    Result<Value> eval_inner(const Expr& e, const Scope& scope);
    Result<Value> eval_name(const Expr& e, const Scope& scope);
    Result<Value> eval_concat(const Expr& e, const Scope& scope);
    Result<Value> eval_compare(const Expr& e, const Scope& scope);
    Result<Value> eval_getitem(const Expr& e, const Scope& scope);
    Result<Value> eval_literal(const Expr& e, const Scope& scope);
    Result<CallValues> eval_args(const CallArgs& args, const Scope& scope);
    Result<Value> binary(BinOp op, const Value& a, const Value& b);
    Result<Value> call_macro(const CallableObj& macro, CallValues& call);
    Result<Value> call_builtin(const CallableObj& fn, CallValues& call);

    const Program& program_;
    Limits limits_;
    std::optional<int64_t> now_unix_;
    ScopePtr root_;
    std::string* out_ = nullptr;  // where output goes now (captures swap it)
    uint64_t steps_ = 0;
    uint64_t iterations_ = 0;
    uint32_t call_depth_ = 0;
    uint32_t nesting_ = 0;  // statements + expressions being evaluated (bounds stack use)
    WorkMeter* meter_ = nullptr;
};

// Implemented in filters.cpp, tests.cpp and methods.cpp.
Result<Value> apply_filter(Interpreter& in, std::string_view name, const Value& input, CallValues& call);
Result<bool> apply_test(Interpreter& in, std::string_view name, const Value& input, CallValues& call);
bool is_test_name(std::string_view name);
bool is_filter_name(std::string_view name);
// Methods of Python's str/dict/list (and the loop object): whether `name` is one (unsafe: the
// immutable sandbox blocks it), and calling it.
bool lookup_method(const Value& self, std::string_view name, bool& unsafe);
Result<Value> call_method(Interpreter& in, const Value& self, std::string_view name, CallValues& call);
// Python comparison helpers shared by filters and operators.
Result<bool> contains(const Value& container, const Value& item);
Result<Value> add_values(const Value& a, const Value& b, size_t max_bytes);
// "'dict object'"-style names jinja2 uses in undefined messages.
std::string object_type_repr(const Value& v);
// markupsafe.escape of text.
std::string html_escape(std::string_view text);

}  // namespace rf::chat
