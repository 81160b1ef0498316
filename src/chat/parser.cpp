// Recursive-descent parser with jinja2's grammar: statements (for/if/set/macro/call/filter/with,
// HF's generation block, break/continue) and expressions by precedence level.
#include "chat/parser.h"

#include <algorithm>
#include <array>

namespace rf::chat {
namespace {

// Every filter and test jinja2 knows: other names fail at parse time, as jinja2 checks them when
// compiling. Some of these are not implemented and fail only when evaluated.
constexpr std::array<std::string_view, 54> kFilterNames = {
    "abs", "attr", "batch", "capitalize", "center", "count", "d", "default", "dictsort", "e", "escape",
    "filesizeformat", "first", "float", "forceescape", "format", "groupby", "indent", "int", "join", "last",
    "length", "list", "lower", "items", "map", "min", "max", "pprint", "random", "reject", "rejectattr",
    "replace", "reverse", "round", "safe", "select", "selectattr", "slice", "sort", "string", "striptags",
    "sum", "title", "trim", "truncate", "unique", "upper", "urlencode", "urlize", "wordcount", "wordwrap",
    "xmlattr", "tojson"};
constexpr std::array<std::string_view, 39> kTestNames = {
    "odd", "even", "divisibleby", "defined", "undefined", "filter", "test", "none", "boolean", "false",
    "true", "integer", "float", "lower", "upper", "string", "mapping", "number", "sequence", "iterable",
    "callable", "sameas", "escaped", "in", "==", "eq", "equalto", "!=", "ne", ">", "gt", "greaterthan",
    "ge", ">=", "<", "lt", "lessthan", "<=", "le"};

bool contains(const auto& list, std::string_view name) {
    return std::find(list.begin(), list.end(), name) != list.end();
}

ExprPtr make_expr(ExprKind kind, Location loc) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->loc = loc;
    return e;
}

StmtPtr make_stmt(StmtKind kind, Location loc) {
    auto s = std::make_unique<Stmt>();
    s->kind = kind;
    s->loc = loc;
    return s;
}

std::string describe(const Token& t) {
    switch (t.type) {
        case TokenType::kData: return "template data";
        case TokenType::kVariableBegin: return "begin of print statement";
        case TokenType::kVariableEnd: return "end of print statement";
        case TokenType::kBlockBegin: return "begin of statement block";
        case TokenType::kBlockEnd: return "end of statement block";
        case TokenType::kName: return fmt::format("'{}'", t.text);
        case TokenType::kString: return "string";
        case TokenType::kInteger: return "integer";
        case TokenType::kFloat: return "float";
        case TokenType::kOperator: return fmt::format("'{}'", op_text(t.op));
        case TokenType::kEof: return "end of template";
    }
    return "token";
}

Status check_names(const Body& body, bool soft);

class Parser {
public:
    explicit Parser(std::vector<Token> tokens) : toks_(std::move(tokens)) {}
    Result<Program> run();

private:
    using EndTags = std::vector<std::string_view>;

    const Token& cur() const { return toks_[pos_]; }
    const Token& look() const { return toks_[std::min(pos_ + 1, toks_.size() - 1)]; }
    void next() {
        if (pos_ + 1 < toks_.size()) ++pos_;
    }
    bool is_op(Op op) const { return cur().type == TokenType::kOperator && cur().op == op; }
    bool is_name(std::string_view n) const { return cur().type == TokenType::kName && cur().text == n; }
    bool skip_op(Op op) {
        if (!is_op(op)) return false;
        next();
        return true;
    }
    bool skip_name(std::string_view n) {
        if (!is_name(n)) return false;
        next();
        return true;
    }
    Status fail(const Token& t, std::string_view message) const {
        return Status::error(located_message(t.loc, message));
    }
    Status expect_op(Op op) {
        if (skip_op(op)) return Status::ok();
        return fail(cur(), fmt::format("expected '{}', got {}", op_text(op), describe(cur())));
    }
    Status expect_type(TokenType type, std::string_view what) {
        if (cur().type != type) return fail(cur(), fmt::format("expected {}, got {}", what, describe(cur())));
        next();
        return Status::ok();
    }
    Result<std::string> expect_name() {
        if (cur().type != TokenType::kName) return fail(cur(), fmt::format("expected name, got {}", describe(cur())));
        std::string n = cur().text;
        next();
        return n;
    }
    bool at_end_tag(const EndTags& tags) const {
        return cur().type == TokenType::kName && std::find(tags.begin(), tags.end(), cur().text) != tags.end();
    }
    // Guards recursion: every nested expression or block passes through here.
    Status enter() {
        if (++depth_ > kMaxParseDepth) {
            return fail(cur(), fmt::format("template nests deeper than {} levels", kMaxParseDepth));
        }
        return Status::ok();
    }
    void leave() { --depth_; }

    // statements
    Result<Body> subparse(const EndTags& end_tags);
    Result<Body> parse_statements(const EndTags& end_tags, bool drop_needle);
    Result<StmtPtr> parse_statement();
    Result<StmtPtr> parse_for();
    Result<StmtPtr> parse_if();
    Result<StmtPtr> parse_set();
    Result<StmtPtr> parse_macro();
    Result<StmtPtr> parse_call_block();
    Result<StmtPtr> parse_filter_block();
    Result<StmtPtr> parse_with();
    Result<StmtPtr> parse_print();
    Result<StmtPtr> parse_scoped_block(StmtKind kind, std::string_view end_tag);
    Status parse_signature(std::vector<Param>& params);
    Result<Target> parse_assign_target(bool with_tuple, bool name_only, const EndTags& extra_end, bool with_namespace);
    Status unknown_tag(const Token& t) const;

    // expressions, lowest precedence first
    Result<ExprPtr> parse_expression(bool with_condexpr = true);
    Result<ExprPtr> parse_condexpr();
    Result<ExprPtr> parse_or();
    Result<ExprPtr> parse_and();
    Result<ExprPtr> parse_not();
    Result<ExprPtr> parse_compare();
    Result<ExprPtr> parse_math1();
    Result<ExprPtr> parse_concat();
    Result<ExprPtr> parse_math2();
    Result<ExprPtr> parse_pow();
    Result<ExprPtr> parse_unary(bool with_filter);
    Result<ExprPtr> parse_primary();
    Result<ExprPtr> parse_tuple(bool simplified, bool with_condexpr, const EndTags& extra_end, bool explicit_parens);
    Result<ExprPtr> parse_list();
    Result<ExprPtr> parse_dict();
    Result<ExprPtr> parse_postfix(ExprPtr node);
    Result<ExprPtr> parse_filter_expr(ExprPtr node);
    Result<ExprPtr> parse_subscript(ExprPtr node);
    Result<ExprPtr> parse_subscribed();
    Result<ExprPtr> parse_call(ExprPtr node);
    Status parse_call_args(CallArgs& call);
    Result<ExprPtr> parse_filter(ExprPtr node, bool start_inline);
    Result<ExprPtr> parse_test(ExprPtr node);

    std::vector<Token> toks_;
    size_t pos_ = 0;
    int depth_ = 0;
    int loop_depth_ = 0;  // for break/continue
    std::vector<std::string> tag_stack_;
};

// --- statements ------------------------------------------------------------------------------

Result<Program> Parser::run() {
    RF_ASSIGN_OR_RETURN(Body body, subparse({}));
    RF_RETURN_IF_ERROR(check_names(body, false));
    Program program;
    program.body = std::move(body);
    return program;
}

// jinja2 rejects unknown filter and test names when compiling, except inside an if statement or
// a conditional expression (a "soft" frame), where the error waits until the call runs. Loop,
// macro and block bodies start a new frame and are strict again.
Status check_names(const Expr* e, bool soft) {
    if (e == nullptr) return Status::ok();
    if (e->kind == ExprKind::kCondExpr) soft = true;
    if (!soft && e->kind == ExprKind::kFilter && !contains(kFilterNames, e->name)) {
        return Status::error(located_message(e->loc, fmt::format("No filter named '{}'.", e->name)));
    }
    if (!soft && e->kind == ExprKind::kTest && !contains(kTestNames, e->name)) {
        return Status::error(located_message(e->loc, fmt::format("No test named '{}'.", e->name)));
    }
    for (const Expr* child : {e->a.get(), e->b.get(), e->c.get(), e->call.star_args.get(), e->call.star_kwargs.get()}) {
        RF_RETURN_IF_ERROR(check_names(child, soft));
    }
    for (const auto& i : e->items) RF_RETURN_IF_ERROR(check_names(i.get(), soft));
    for (const auto& v : e->values) RF_RETURN_IF_ERROR(check_names(v.get(), soft));
    for (const auto& [op, v] : e->ops) RF_RETURN_IF_ERROR(check_names(v.get(), soft));
    for (const auto& a : e->call.args) RF_RETURN_IF_ERROR(check_names(a.get(), soft));
    for (const auto& k : e->call.kwargs) RF_RETURN_IF_ERROR(check_names(k.value.get(), soft));
    return Status::ok();
}

Status check_names(const Body& body, bool soft) {
    for (const auto& s : body) {
        const bool is_if = s->kind == StmtKind::kIf;
        // Expressions evaluated in the enclosing frame keep its softness; if statements soften.
        for (const auto& e : s->exprs) RF_RETURN_IF_ERROR(check_names(e.get(), soft));
        const bool expr_in_own_frame = s->kind == StmtKind::kFilterBlock;
        RF_RETURN_IF_ERROR(check_names(s->expr.get(), expr_in_own_frame ? false : (soft || is_if)));
        RF_RETURN_IF_ERROR(check_names(s->filter.get(), false));
        for (const auto& p : s->params) RF_RETURN_IF_ERROR(check_names(p.default_value.get(), false));
        RF_RETURN_IF_ERROR(check_names(s->body, is_if));
        RF_RETURN_IF_ERROR(check_names(s->else_body, is_if));
    }
    return Status::ok();
}

Result<Body> Parser::subparse(const EndTags& end_tags) {
    RF_RETURN_IF_ERROR(enter());
    Body body;
    while (true) {
        const Token& t = cur();
        if (t.type == TokenType::kData) {
            auto s = make_stmt(StmtKind::kData, t.loc);
            s->text = t.text;
            body.push_back(std::move(s));
            next();
        } else if (t.type == TokenType::kVariableBegin) {
            auto s = make_stmt(StmtKind::kPrint, t.loc);
            next();
            RF_ASSIGN_OR_RETURN(ExprPtr e, parse_tuple(false, true, {}, false));
            s->exprs.push_back(std::move(e));
            RF_RETURN_IF_ERROR(expect_type(TokenType::kVariableEnd, "end of print statement"));
            body.push_back(std::move(s));
        } else if (t.type == TokenType::kBlockBegin) {
            next();
            if (!end_tags.empty() && at_end_tag(end_tags)) break;
            RF_ASSIGN_OR_RETURN(StmtPtr s, parse_statement());
            RF_RETURN_IF_ERROR(expect_type(TokenType::kBlockEnd, "end of statement block"));
            body.push_back(std::move(s));
        } else if (t.type == TokenType::kEof) {
            if (end_tags.empty()) break;
            std::string wanted;
            for (size_t i = 0; i < end_tags.size(); ++i) {
                wanted += fmt::format("{}'{}'", i == 0 ? "" : " or ", end_tags[i]);
            }
            return fail(t, fmt::format("Unexpected end of template. Jinja was looking for the following tags: {}. "
                                       "The innermost block that needs to be closed is '{}'.",
                                       wanted, tag_stack_.empty() ? "" : tag_stack_.back()));
        } else {
            return fail(t, fmt::format("unexpected {}", describe(t)));
        }
    }
    leave();
    return body;
}

Result<Body> Parser::parse_statements(const EndTags& end_tags, bool drop_needle) {
    skip_op(Op::kColon);
    RF_RETURN_IF_ERROR(expect_type(TokenType::kBlockEnd, "end of statement block"));
    RF_ASSIGN_OR_RETURN(Body body, subparse(end_tags));
    if (drop_needle) next();
    return body;
}

Status Parser::unknown_tag(const Token& t) const {
    std::string message = fmt::format("Encountered unknown tag '{}'.", t.text);
    if (!tag_stack_.empty()) {
        message += fmt::format(" The innermost block that needs to be closed is '{}'.", tag_stack_.back());
    }
    return fail(t, message);
}

Result<StmtPtr> Parser::parse_statement() {
    const Token& t = cur();
    if (t.type != TokenType::kName) return fail(t, "tag name expected");
    const std::string tag = t.text;
    if (tag == "block" || tag == "extends" || tag == "include" || tag == "from" || tag == "import" ||
        tag == "autoescape") {
        return fail(t, fmt::format("the '{}' tag is not supported in chat templates", tag));
    }
    if (tag == "break" || tag == "continue") {
        if (loop_depth_ == 0) return fail(t, fmt::format("'{}' outside loop", tag));
        auto s = make_stmt(tag == "break" ? StmtKind::kBreak : StmtKind::kContinue, t.loc);
        next();
        return s;
    }
    tag_stack_.push_back(tag);
    Result<StmtPtr> result = Status::error("");
    if (tag == "for") result = parse_for();
    else if (tag == "if") result = parse_if();
    else if (tag == "set") result = parse_set();
    else if (tag == "macro") result = parse_macro();
    else if (tag == "call") result = parse_call_block();
    else if (tag == "filter") result = parse_filter_block();
    else if (tag == "with") result = parse_with();
    else if (tag == "print") result = parse_print();
    else if (tag == "generation") result = parse_scoped_block(StmtKind::kScope, "endgeneration");
    else {
        tag_stack_.pop_back();
        return unknown_tag(t);
    }
    tag_stack_.pop_back();
    return result;
}

Result<StmtPtr> Parser::parse_for() {
    auto s = make_stmt(StmtKind::kFor, cur().loc);
    next();
    RF_ASSIGN_OR_RETURN(s->target, parse_assign_target(true, false, {"in"}, false));
    if (!skip_name("in")) return fail(cur(), fmt::format("expected 'in', got {}", describe(cur())));
    RF_ASSIGN_OR_RETURN(s->expr, parse_tuple(false, false, {"recursive"}, false));
    if (skip_name("if")) {
        RF_ASSIGN_OR_RETURN(s->filter, parse_expression());
    }
    s->recursive = skip_name("recursive");
    ++loop_depth_;
    RF_ASSIGN_OR_RETURN(s->body, parse_statements({"endfor", "else"}, false));
    --loop_depth_;
    const bool has_else = is_name("else");
    next();
    if (has_else) {
        RF_ASSIGN_OR_RETURN(s->else_body, parse_statements({"endfor"}, true));
    }
    return s;
}

Result<StmtPtr> Parser::parse_if() {
    auto s = make_stmt(StmtKind::kIf, cur().loc);
    next();
    RF_ASSIGN_OR_RETURN(s->expr, parse_tuple(false, false, {}, false));
    RF_ASSIGN_OR_RETURN(s->body, parse_statements({"elif", "else", "endif"}, false));
    if (is_name("elif")) {
        // `elif` continues as an if statement nested in the else branch; it closes with endif.
        RF_RETURN_IF_ERROR(enter());
        RF_ASSIGN_OR_RETURN(StmtPtr nested, parse_if());
        leave();
        s->else_body.push_back(std::move(nested));
        return s;
    }
    const bool has_else = is_name("else");
    next();
    if (has_else) {
        RF_ASSIGN_OR_RETURN(s->else_body, parse_statements({"endif"}, true));
    }
    return s;
}

Result<StmtPtr> Parser::parse_set() {
    const Location loc = cur().loc;
    next();
    RF_ASSIGN_OR_RETURN(Target target, parse_assign_target(true, false, {}, true));
    if (skip_op(Op::kAssign)) {
        auto s = make_stmt(StmtKind::kSet, loc);
        s->target = std::move(target);
        RF_ASSIGN_OR_RETURN(s->expr, parse_tuple(false, true, {}, false));
        return s;
    }
    auto s = make_stmt(StmtKind::kSetBlock, loc);
    s->target = std::move(target);
    if (is_op(Op::kPipe)) {
        RF_ASSIGN_OR_RETURN(s->filter, parse_filter(nullptr, false));
    }
    RF_ASSIGN_OR_RETURN(s->body, parse_statements({"endset"}, true));
    return s;
}

// Records which of caller/varargs/kwargs a macro body mentions (jinja2 decides the macro's
// calling convention from that).
void scan_special_names(const Expr* e, Stmt& macro);
void scan_special_names(const Body& body, Stmt& macro) {
    for (const auto& s : body) {
        if (s->kind == StmtKind::kMacro) continue;
        for (const auto& e : s->exprs) scan_special_names(e.get(), macro);
        scan_special_names(s->expr.get(), macro);
        scan_special_names(s->filter.get(), macro);
        for (const auto& p : s->params) scan_special_names(p.default_value.get(), macro);
        scan_special_names(s->body, macro);
        scan_special_names(s->else_body, macro);
    }
}
void scan_special_names(const Expr* e, Stmt& macro) {
    if (e == nullptr) return;
    if (e->kind == ExprKind::kName) {
        macro.uses_caller = macro.uses_caller || e->name == "caller";
        macro.uses_varargs = macro.uses_varargs || e->name == "varargs";
        macro.uses_kwargs = macro.uses_kwargs || e->name == "kwargs";
    }
    scan_special_names(e->a.get(), macro);
    scan_special_names(e->b.get(), macro);
    scan_special_names(e->c.get(), macro);
    for (const auto& i : e->items) scan_special_names(i.get(), macro);
    for (const auto& v : e->values) scan_special_names(v.get(), macro);
    for (const auto& [op, v] : e->ops) scan_special_names(v.get(), macro);
    for (const auto& a : e->call.args) scan_special_names(a.get(), macro);
    for (const auto& k : e->call.kwargs) scan_special_names(k.value.get(), macro);
    scan_special_names(e->call.star_args.get(), macro);
    scan_special_names(e->call.star_kwargs.get(), macro);
}

Result<StmtPtr> Parser::parse_macro() {
    auto s = make_stmt(StmtKind::kMacro, cur().loc);
    next();
    RF_ASSIGN_OR_RETURN(Target name, parse_assign_target(false, true, {}, false));
    s->name = name.name;
    RF_RETURN_IF_ERROR(parse_signature(s->params));
    const int saved_loops = loop_depth_;
    loop_depth_ = 0;
    RF_ASSIGN_OR_RETURN(s->body, parse_statements({"endmacro"}, true));
    loop_depth_ = saved_loops;
    scan_special_names(s->body, *s);
    for (const auto& p : s->params) {
        if (p.name == "caller") s->uses_caller = false;
    }
    return s;
}

Status Parser::parse_signature(std::vector<Param>& params) {
    RF_RETURN_IF_ERROR(expect_op(Op::kLParen));
    bool has_default = false;
    while (!is_op(Op::kRParen)) {
        if (!params.empty()) RF_RETURN_IF_ERROR(expect_op(Op::kComma));
        RF_ASSIGN_OR_RETURN(Target arg, parse_assign_target(false, true, {}, false));
        Param p;
        p.name = arg.name;
        if (skip_op(Op::kAssign)) {
            RF_ASSIGN_OR_RETURN(p.default_value, parse_expression());
            has_default = true;
        } else if (has_default) {
            return fail(cur(), "non-default argument follows default argument");
        }
        params.push_back(std::move(p));
    }
    return expect_op(Op::kRParen);
}

Result<StmtPtr> Parser::parse_call_block() {
    auto s = make_stmt(StmtKind::kCallBlock, cur().loc);
    next();
    if (is_op(Op::kLParen)) RF_RETURN_IF_ERROR(parse_signature(s->params));
    RF_ASSIGN_OR_RETURN(s->expr, parse_expression());
    if (s->expr->kind != ExprKind::kCall) return fail(cur(), "expected call");
    const int saved_loops = loop_depth_;
    loop_depth_ = 0;
    RF_ASSIGN_OR_RETURN(s->body, parse_statements({"endcall"}, true));
    loop_depth_ = saved_loops;
    return s;
}

Result<StmtPtr> Parser::parse_filter_block() {
    auto s = make_stmt(StmtKind::kFilterBlock, cur().loc);
    next();
    RF_ASSIGN_OR_RETURN(s->expr, parse_filter(nullptr, true));
    RF_ASSIGN_OR_RETURN(s->body, parse_statements({"endfilter"}, true));
    return s;
}

Result<StmtPtr> Parser::parse_with() {
    auto s = make_stmt(StmtKind::kWith, cur().loc);
    next();
    while (cur().type != TokenType::kBlockEnd) {
        if (!s->targets.empty()) RF_RETURN_IF_ERROR(expect_op(Op::kComma));
        RF_ASSIGN_OR_RETURN(Target t, parse_assign_target(true, false, {}, false));
        s->targets.push_back(std::move(t));
        RF_RETURN_IF_ERROR(expect_op(Op::kAssign));
        RF_ASSIGN_OR_RETURN(ExprPtr value, parse_expression());
        s->exprs.push_back(std::move(value));
    }
    RF_ASSIGN_OR_RETURN(s->body, parse_statements({"endwith"}, true));
    return s;
}

Result<StmtPtr> Parser::parse_print() {
    auto s = make_stmt(StmtKind::kPrint, cur().loc);
    next();
    while (cur().type != TokenType::kBlockEnd) {
        if (!s->exprs.empty()) RF_RETURN_IF_ERROR(expect_op(Op::kComma));
        RF_ASSIGN_OR_RETURN(ExprPtr e, parse_expression());
        s->exprs.push_back(std::move(e));
    }
    return s;
}

Result<StmtPtr> Parser::parse_scoped_block(StmtKind kind, std::string_view end_tag) {
    auto s = make_stmt(kind, cur().loc);
    next();
    RF_ASSIGN_OR_RETURN(s->body, parse_statements({end_tag}, true));
    return s;
}

Result<Target> Parser::parse_assign_target(bool with_tuple, bool name_only, const EndTags& extra_end,
                                           bool with_namespace) {
    Target target;
    target.loc = cur().loc;
    if (with_namespace && cur().type == TokenType::kName && look().type == TokenType::kOperator &&
        look().op == Op::kDot) {
        target.kind = Target::Kind::kNamespaceAttr;
        target.name = cur().text;
        next();
        next();
        RF_ASSIGN_OR_RETURN(target.attr, expect_name());
        return target;
    }
    if (name_only) {
        RF_ASSIGN_OR_RETURN(target.name, expect_name());
        return target;
    }
    ExprPtr e;
    if (with_tuple) {
        RF_ASSIGN_OR_RETURN(e, parse_tuple(true, true, extra_end, false));
    } else {
        RF_ASSIGN_OR_RETURN(e, parse_primary());
    }
    // Converts name / tuple-of-names expressions into a target.
    struct Convert {
        static Result<Target> run(const Expr& x) {
            Target t;
            t.loc = x.loc;
            if (x.kind == ExprKind::kName) {
                t.name = x.name;
                return t;
            }
            if (x.kind == ExprKind::kTuple) {
                t.kind = Target::Kind::kTuple;
                for (const auto& item : x.items) {
                    RF_ASSIGN_OR_RETURN(Target sub, run(*item));
                    t.items.push_back(std::move(sub));
                }
                return t;
            }
            return Status::error(located_message(x.loc, "can't assign to this expression"));
        }
    };
    return Convert::run(*e);
}

// --- expressions -----------------------------------------------------------------------------

Result<ExprPtr> Parser::parse_expression(bool with_condexpr) {
    RF_RETURN_IF_ERROR(enter());
    Result<ExprPtr> e = with_condexpr ? parse_condexpr() : parse_or();
    leave();
    return e;
}

Result<ExprPtr> Parser::parse_condexpr() {
    int wrapped = 0;  // chain links: each nests the tree one level deeper
    RF_ASSIGN_OR_RETURN(ExprPtr expr1, parse_or());
    while (is_name("if")) {
        RF_RETURN_IF_ERROR(enter());
        ++wrapped;
        const Location loc = cur().loc;
        next();
        auto node = make_expr(ExprKind::kCondExpr, loc);
        RF_ASSIGN_OR_RETURN(node->a, parse_or());
        if (skip_name("else")) {
            RF_ASSIGN_OR_RETURN(node->c, parse_condexpr());
        }
        node->b = std::move(expr1);
        expr1 = std::move(node);
    }
    depth_ -= wrapped;
    return expr1;
}

Result<ExprPtr> Parser::parse_or() {
    int wrapped = 0;  // chain links: each nests the tree one level deeper
    RF_ASSIGN_OR_RETURN(ExprPtr left, parse_and());
    while (is_name("or")) {
        RF_RETURN_IF_ERROR(enter());
        ++wrapped;
        auto node = make_expr(ExprKind::kOr, cur().loc);
        next();
        RF_ASSIGN_OR_RETURN(node->b, parse_and());
        node->a = std::move(left);
        left = std::move(node);
    }
    depth_ -= wrapped;
    return left;
}

Result<ExprPtr> Parser::parse_and() {
    int wrapped = 0;  // chain links: each nests the tree one level deeper
    RF_ASSIGN_OR_RETURN(ExprPtr left, parse_not());
    while (is_name("and")) {
        RF_RETURN_IF_ERROR(enter());
        ++wrapped;
        auto node = make_expr(ExprKind::kAnd, cur().loc);
        next();
        RF_ASSIGN_OR_RETURN(node->b, parse_not());
        node->a = std::move(left);
        left = std::move(node);
    }
    depth_ -= wrapped;
    return left;
}

Result<ExprPtr> Parser::parse_not() {
    if (is_name("not")) {
        auto node = make_expr(ExprKind::kNot, cur().loc);
        next();
        RF_RETURN_IF_ERROR(enter());
        RF_ASSIGN_OR_RETURN(node->a, parse_not());
        leave();
        return node;
    }
    return parse_compare();
}

Result<ExprPtr> Parser::parse_compare() {
    const Location loc = cur().loc;
    RF_ASSIGN_OR_RETURN(ExprPtr expr, parse_math1());
    std::vector<std::pair<CmpOp, ExprPtr>> ops;
    while (true) {
        CmpOp op = CmpOp::kEq;
        if (cur().type == TokenType::kOperator &&
            (cur().op == Op::kEq || cur().op == Op::kNe || cur().op == Op::kLt || cur().op == Op::kLe ||
             cur().op == Op::kGt || cur().op == Op::kGe)) {
            const Op o = cur().op;
            op = o == Op::kEq ? CmpOp::kEq : o == Op::kNe ? CmpOp::kNe : o == Op::kLt ? CmpOp::kLt
               : o == Op::kLe ? CmpOp::kLe : o == Op::kGt ? CmpOp::kGt : CmpOp::kGe;
            next();
        } else if (is_name("in")) {
            op = CmpOp::kIn;
            next();
        } else if (is_name("not") && look().type == TokenType::kName && look().text == "in") {
            op = CmpOp::kNotIn;
            next();
            next();
        } else {
            break;
        }
        RF_ASSIGN_OR_RETURN(ExprPtr operand, parse_math1());
        ops.emplace_back(op, std::move(operand));
    }
    if (ops.empty()) return expr;
    auto node = make_expr(ExprKind::kCompare, loc);
    node->a = std::move(expr);
    node->ops = std::move(ops);
    return node;
}

Result<ExprPtr> Parser::parse_math1() {
    int wrapped = 0;  // chain links: each nests the tree one level deeper
    RF_ASSIGN_OR_RETURN(ExprPtr left, parse_concat());
    while (is_op(Op::kAdd) || is_op(Op::kSub)) {
        RF_RETURN_IF_ERROR(enter());
        ++wrapped;
        auto node = make_expr(ExprKind::kBinary, cur().loc);
        node->bin_op = is_op(Op::kAdd) ? BinOp::kAdd : BinOp::kSub;
        next();
        RF_ASSIGN_OR_RETURN(node->b, parse_concat());
        node->a = std::move(left);
        left = std::move(node);
    }
    depth_ -= wrapped;
    return left;
}

Result<ExprPtr> Parser::parse_concat() {
    const Location loc = cur().loc;
    RF_ASSIGN_OR_RETURN(ExprPtr first, parse_math2());
    if (!is_op(Op::kTilde)) return first;
    auto node = make_expr(ExprKind::kConcat, loc);
    node->items.push_back(std::move(first));
    while (skip_op(Op::kTilde)) {
        RF_ASSIGN_OR_RETURN(ExprPtr item, parse_math2());
        node->items.push_back(std::move(item));
    }
    return node;
}

Result<ExprPtr> Parser::parse_math2() {
    int wrapped = 0;  // chain links: each nests the tree one level deeper
    RF_ASSIGN_OR_RETURN(ExprPtr left, parse_pow());
    while (is_op(Op::kMul) || is_op(Op::kDiv) || is_op(Op::kFloorDiv) || is_op(Op::kMod)) {
        RF_RETURN_IF_ERROR(enter());
        ++wrapped;
        auto node = make_expr(ExprKind::kBinary, cur().loc);
        node->bin_op = is_op(Op::kMul) ? BinOp::kMul : is_op(Op::kDiv) ? BinOp::kDiv
                     : is_op(Op::kFloorDiv) ? BinOp::kFloorDiv : BinOp::kMod;
        next();
        RF_ASSIGN_OR_RETURN(node->b, parse_pow());
        node->a = std::move(left);
        left = std::move(node);
    }
    depth_ -= wrapped;
    return left;
}

Result<ExprPtr> Parser::parse_pow() {
    int wrapped = 0;  // chain links: each nests the tree one level deeper
    RF_ASSIGN_OR_RETURN(ExprPtr left, parse_unary(true));
    while (is_op(Op::kPow)) {
        RF_RETURN_IF_ERROR(enter());
        ++wrapped;
        auto node = make_expr(ExprKind::kBinary, cur().loc);
        node->bin_op = BinOp::kPow;
        next();
        RF_ASSIGN_OR_RETURN(node->b, parse_unary(true));
        node->a = std::move(left);
        left = std::move(node);
    }
    depth_ -= wrapped;
    return left;
}

Result<ExprPtr> Parser::parse_unary(bool with_filter) {
    RF_RETURN_IF_ERROR(enter());
    ExprPtr node;
    if (is_op(Op::kSub) || is_op(Op::kAdd)) {
        node = make_expr(is_op(Op::kSub) ? ExprKind::kNeg : ExprKind::kPos, cur().loc);
        next();
        RF_ASSIGN_OR_RETURN(node->a, parse_unary(false));
    } else {
        RF_ASSIGN_OR_RETURN(node, parse_primary());
    }
    RF_ASSIGN_OR_RETURN(node, parse_postfix(std::move(node)));
    if (with_filter) {
        RF_ASSIGN_OR_RETURN(node, parse_filter_expr(std::move(node)));
    }
    leave();
    return node;
}

Result<ExprPtr> Parser::parse_primary() {
    const Token& t = cur();
    if (t.type == TokenType::kName) {
        if (t.text == "true" || t.text == "True" || t.text == "false" || t.text == "False") {
            auto node = make_expr(ExprKind::kConst, t.loc);
            node->constant = Value::boolean(t.text == "true" || t.text == "True");
            next();
            return node;
        }
        if (t.text == "none" || t.text == "None") {
            auto node = make_expr(ExprKind::kConst, t.loc);
            node->constant = Value::none();
            next();
            return node;
        }
        auto node = make_expr(ExprKind::kName, t.loc);
        node->name = t.text;
        next();
        return node;
    }
    if (t.type == TokenType::kString) {
        // Adjacent string literals concatenate.
        auto node = make_expr(ExprKind::kConst, t.loc);
        std::string text;
        while (cur().type == TokenType::kString) {
            text += cur().text;
            next();
        }
        node->constant = Value::string(std::move(text));
        return node;
    }
    if (t.type == TokenType::kInteger || t.type == TokenType::kFloat) {
        auto node = make_expr(ExprKind::kConst, t.loc);
        node->constant = t.type == TokenType::kInteger ? Value::integer(t.int_value) : Value::floating(t.float_value);
        next();
        return node;
    }
    if (is_op(Op::kLParen)) {
        next();
        RF_ASSIGN_OR_RETURN(ExprPtr node, parse_tuple(false, true, {}, true));
        RF_RETURN_IF_ERROR(expect_op(Op::kRParen));
        return node;
    }
    if (is_op(Op::kLBracket)) return parse_list();
    if (is_op(Op::kLBrace)) return parse_dict();
    return fail(t, fmt::format("unexpected {}", describe(t)));
}

Result<ExprPtr> Parser::parse_tuple(bool simplified, bool with_condexpr, const EndTags& extra_end,
                                    bool explicit_parens) {
    const Location loc = cur().loc;
    std::vector<ExprPtr> items;
    bool is_tuple = false;
    while (true) {
        if (!items.empty()) RF_RETURN_IF_ERROR(expect_op(Op::kComma));
        const bool end = cur().type == TokenType::kVariableEnd || cur().type == TokenType::kBlockEnd ||
                         is_op(Op::kRParen) || (!extra_end.empty() && at_end_tag(extra_end));
        if (end) break;
        ExprPtr item;
        if (simplified) {
            RF_ASSIGN_OR_RETURN(item, parse_primary());
        } else {
            RF_ASSIGN_OR_RETURN(item, parse_expression(with_condexpr));
        }
        items.push_back(std::move(item));
        if (is_op(Op::kComma)) {
            is_tuple = true;
        } else {
            break;
        }
    }
    if (!is_tuple) {
        if (!items.empty()) return std::move(items[0]);
        if (!explicit_parens) return fail(cur(), fmt::format("Expected an expression, got {}", describe(cur())));
    }
    auto node = make_expr(ExprKind::kTuple, loc);
    node->items = std::move(items);
    return node;
}

Result<ExprPtr> Parser::parse_list() {
    auto node = make_expr(ExprKind::kList, cur().loc);
    next();
    while (!is_op(Op::kRBracket)) {
        if (!node->items.empty()) RF_RETURN_IF_ERROR(expect_op(Op::kComma));
        if (is_op(Op::kRBracket)) break;
        RF_ASSIGN_OR_RETURN(ExprPtr item, parse_expression());
        node->items.push_back(std::move(item));
    }
    RF_RETURN_IF_ERROR(expect_op(Op::kRBracket));
    return node;
}

Result<ExprPtr> Parser::parse_dict() {
    auto node = make_expr(ExprKind::kDict, cur().loc);
    next();
    while (!is_op(Op::kRBrace)) {
        if (!node->items.empty()) RF_RETURN_IF_ERROR(expect_op(Op::kComma));
        if (is_op(Op::kRBrace)) break;
        RF_ASSIGN_OR_RETURN(ExprPtr key, parse_expression());
        RF_RETURN_IF_ERROR(expect_op(Op::kColon));
        RF_ASSIGN_OR_RETURN(ExprPtr value, parse_expression());
        node->items.push_back(std::move(key));
        node->values.push_back(std::move(value));
    }
    RF_RETURN_IF_ERROR(expect_op(Op::kRBrace));
    return node;
}

Result<ExprPtr> Parser::parse_postfix(ExprPtr node) {
    int wrapped = 0;  // chain links: each nests the tree one level deeper
    while (true) {
        if (is_op(Op::kDot) || is_op(Op::kLBracket) || is_op(Op::kLParen)) {
            RF_RETURN_IF_ERROR(enter());
            ++wrapped;
        }
        if (is_op(Op::kDot) || is_op(Op::kLBracket)) {
            RF_ASSIGN_OR_RETURN(node, parse_subscript(std::move(node)));
        } else if (is_op(Op::kLParen)) {
            RF_ASSIGN_OR_RETURN(node, parse_call(std::move(node)));
        } else {
            depth_ -= wrapped;
            return node;
        }
    }
}

Result<ExprPtr> Parser::parse_filter_expr(ExprPtr node) {
    int wrapped = 0;  // chain links: each nests the tree one level deeper
    while (true) {
        if (is_op(Op::kPipe) || is_name("is") || is_op(Op::kLParen)) {
            RF_RETURN_IF_ERROR(enter());
            ++wrapped;
        }
        if (is_op(Op::kPipe)) {
            RF_ASSIGN_OR_RETURN(node, parse_filter(std::move(node), false));
        } else if (is_name("is")) {
            RF_ASSIGN_OR_RETURN(node, parse_test(std::move(node)));
        } else if (is_op(Op::kLParen)) {
            RF_ASSIGN_OR_RETURN(node, parse_call(std::move(node)));
        } else {
            depth_ -= wrapped;
            return node;
        }
    }
}

Result<ExprPtr> Parser::parse_subscript(ExprPtr node) {
    const Token t = cur();
    next();
    if (t.type == TokenType::kOperator && t.op == Op::kDot) {
        const Token attr = cur();
        next();
        if (attr.type == TokenType::kName) {
            auto out = make_expr(ExprKind::kGetattr, t.loc);
            out->a = std::move(node);
            out->name = attr.text;
            return out;
        }
        if (attr.type != TokenType::kInteger) return fail(attr, "expected name or number");
        auto out = make_expr(ExprKind::kGetitem, t.loc);
        out->a = std::move(node);
        out->b = make_expr(ExprKind::kConst, attr.loc);
        out->b->constant = Value::integer(attr.int_value);
        return out;
    }
    std::vector<ExprPtr> args;
    while (!is_op(Op::kRBracket)) {
        if (!args.empty()) RF_RETURN_IF_ERROR(expect_op(Op::kComma));
        RF_ASSIGN_OR_RETURN(ExprPtr arg, parse_subscribed());
        args.push_back(std::move(arg));
    }
    RF_RETURN_IF_ERROR(expect_op(Op::kRBracket));
    auto out = make_expr(ExprKind::kGetitem, t.loc);
    out->a = std::move(node);
    if (args.size() == 1) {
        out->b = std::move(args[0]);
    } else {
        out->b = make_expr(ExprKind::kTuple, t.loc);
        out->b->items = std::move(args);
    }
    return out;
}

Result<ExprPtr> Parser::parse_subscribed() {
    auto slice = make_expr(ExprKind::kSlice, cur().loc);
    if (is_op(Op::kColon)) {
        next();
    } else {
        RF_ASSIGN_OR_RETURN(ExprPtr start, parse_expression());
        if (!is_op(Op::kColon)) return start;
        next();
        slice->a = std::move(start);
    }
    auto at_end = [&] { return is_op(Op::kRBracket) || is_op(Op::kComma); };
    if (!is_op(Op::kColon) && !at_end()) {
        RF_ASSIGN_OR_RETURN(slice->b, parse_expression());
    }
    if (is_op(Op::kColon)) {
        next();
        if (!at_end()) {
            RF_ASSIGN_OR_RETURN(slice->c, parse_expression());
        }
    }
    return slice;
}

Result<ExprPtr> Parser::parse_call(ExprPtr node) {
    auto out = make_expr(ExprKind::kCall, cur().loc);
    RF_RETURN_IF_ERROR(parse_call_args(out->call));
    out->a = std::move(node);
    return out;
}

Status Parser::parse_call_args(CallArgs& call) {
    const Token open = cur();
    RF_RETURN_IF_ERROR(expect_op(Op::kLParen));
    bool require_comma = false;
    auto ensure = [&](bool ok) {
        return ok ? Status::ok() : fail(open, "invalid syntax for function call expression");
    };
    while (!is_op(Op::kRParen)) {
        if (require_comma) {
            RF_RETURN_IF_ERROR(expect_op(Op::kComma));
            if (is_op(Op::kRParen)) break;
        }
        if (is_op(Op::kMul)) {
            RF_RETURN_IF_ERROR(ensure(!call.star_args && !call.star_kwargs));
            next();
            RF_ASSIGN_OR_RETURN(call.star_args, parse_expression());
        } else if (is_op(Op::kPow)) {
            RF_RETURN_IF_ERROR(ensure(!call.star_kwargs));
            next();
            RF_ASSIGN_OR_RETURN(call.star_kwargs, parse_expression());
        } else if (cur().type == TokenType::kName && look().type == TokenType::kOperator && look().op == Op::kAssign) {
            RF_RETURN_IF_ERROR(ensure(!call.star_kwargs));
            Keyword kw;
            kw.name = cur().text;
            next();
            next();
            RF_ASSIGN_OR_RETURN(kw.value, parse_expression());
            call.kwargs.push_back(std::move(kw));
        } else {
            RF_RETURN_IF_ERROR(ensure(!call.star_args && !call.star_kwargs && call.kwargs.empty()));
            RF_ASSIGN_OR_RETURN(ExprPtr arg, parse_expression());
            call.args.push_back(std::move(arg));
        }
        require_comma = true;
    }
    return expect_op(Op::kRParen);
}

Result<ExprPtr> Parser::parse_filter(ExprPtr node, bool start_inline) {
    int wrapped = 0;  // chain links: each nests the tree one level deeper
    while (is_op(Op::kPipe) || start_inline) {
        RF_RETURN_IF_ERROR(enter());
        ++wrapped;
        if (!start_inline) next();
        start_inline = false;
        const Token name_token = cur();
        RF_ASSIGN_OR_RETURN(std::string name, expect_name());
        while (skip_op(Op::kDot)) {
            RF_ASSIGN_OR_RETURN(std::string part, expect_name());
            name += "." + part;
        }
        auto out = make_expr(ExprKind::kFilter, name_token.loc);
        out->name = std::move(name);
        if (is_op(Op::kLParen)) RF_RETURN_IF_ERROR(parse_call_args(out->call));
        out->a = std::move(node);
        node = std::move(out);
    }
    depth_ -= wrapped;
    return node;
}

Result<ExprPtr> Parser::parse_test(ExprPtr node) {
    next();  // 'is'
    const bool negated = skip_name("not");
    const Token name_token = cur();
    RF_ASSIGN_OR_RETURN(std::string name, expect_name());
    while (skip_op(Op::kDot)) {
        RF_ASSIGN_OR_RETURN(std::string part, expect_name());
        name += "." + part;
    }
    auto out = make_expr(ExprKind::kTest, name_token.loc);
    out->name = std::move(name);
    const TokenType ct = cur().type;
    if (is_op(Op::kLParen)) {
        RF_RETURN_IF_ERROR(parse_call_args(out->call));
    } else if ((ct == TokenType::kName || ct == TokenType::kString || ct == TokenType::kInteger ||
                ct == TokenType::kFloat || is_op(Op::kLBracket) || is_op(Op::kLBrace)) &&
               !is_name("else") && !is_name("or") && !is_name("and")) {
        if (is_name("is")) return fail(cur(), "You cannot chain multiple tests with is");
        RF_ASSIGN_OR_RETURN(ExprPtr arg, parse_primary());
        RF_ASSIGN_OR_RETURN(arg, parse_postfix(std::move(arg)));
        out->call.args.push_back(std::move(arg));
    }
    out->a = std::move(node);
    if (!negated) return out;
    auto neg = make_expr(ExprKind::kNot, out->loc);
    neg->a = std::move(out);
    return neg;
}

}  // namespace

Result<Program> parse_template(std::string_view source) {
    RF_ASSIGN_OR_RETURN(std::vector<Token> tokens, tokenize(source));
    Parser parser(std::move(tokens));
    return parser.run();
}

}  // namespace rf::chat
