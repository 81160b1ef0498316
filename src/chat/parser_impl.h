// Internal to the parser: the recursive-descent Parser shared by parser.cpp (statements) and
// parser_expr.cpp (expressions), and the small helpers both use.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "chat/ast.h"
#include "chat/parser.h"

namespace rf::chat::detail {

ExprPtr make_expr(ExprKind kind, Location loc);
StmtPtr make_stmt(StmtKind kind, Location loc);
// How a token reads in an error message: "'endfor'", "end of statement block", ...
std::string describe(const Token& t);

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

}  // namespace rf::chat::detail
