// Expression parsing by jinja2's precedence levels (condexpr < or < and < not < compare < +,- <
// ~ < *,/,//,% < ** < unary < postfix/filters/tests) and its call, subscript and literal syntax.
#include "chat/parser_impl.h"

namespace rf::chat::detail {

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

}  // namespace rf::chat::detail
