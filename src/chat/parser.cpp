// Recursive-descent parser with jinja2's grammar: statements (for/if/set/macro/call/filter/with,
// HF's generation block, break/continue) and expressions by precedence level.
#include "chat/parser.h"

#include <algorithm>
#include <array>

#include "chat/parser_impl.h"

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

}  // namespace

namespace detail {

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

// --- statements ------------------------------------------------------------------------------

Result<Program> Parser::run() {
    RF_ASSIGN_OR_RETURN(Body body, subparse({}));
    RF_RETURN_IF_ERROR(check_names(body, false));
    Program program;
    program.body = std::move(body);
    return program;
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

}  // namespace detail

Result<Program> parse_template(std::string_view source) {
    RF_ASSIGN_OR_RETURN(std::vector<Token> tokens, tokenize(source));
    detail::Parser parser(std::move(tokens));
    return parser.run();
}

}  // namespace rf::chat
