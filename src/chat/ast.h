// Syntax tree of a parsed template: expressions and statements as jinja2's parser builds them.
// Nodes are plain structs owned by unique_ptr; the interpreter switches on `kind`.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "chat/lexer.h"
#include "chat/value.h"

namespace rf::chat {

enum class ExprKind : uint8_t {
    kConst,     // constant
    kName,      // name
    kGetattr,   // a.name
    kGetitem,   // a[b]
    kSlice,     // a[b:c:d] (inside kGetitem's key; operands may be null)
    kCall,      // a(args)
    kFilter,    // a | name(args); a is null in filter blocks' chains
    kTest,      // a is name(args)
    kNot,       // not a
    kNeg,       // -a
    kPos,       // +a
    kBinary,    // a op b
    kAnd,       // a and b
    kOr,        // a or b
    kConcat,    // items[0] ~ items[1] ~ ...
    kCompare,   // a op1 b1 op2 b2 ...
    kCondExpr,  // b if a else c
    kList,      // [items]
    kTuple,     // (items)
    kDict,      // {items[i]: values[i]}
};

enum class BinOp : uint8_t { kAdd, kSub, kMul, kDiv, kFloorDiv, kMod, kPow };
enum class CmpOp : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe, kIn, kNotIn };

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Keyword {
    std::string name;
    ExprPtr value;
};

struct CallArgs {
    std::vector<ExprPtr> args;
    std::vector<Keyword> kwargs;
    ExprPtr star_args;    // *args
    ExprPtr star_kwargs;  // **kwargs
};

struct Expr {
    ExprKind kind = ExprKind::kConst;
    Location loc;
    Value constant;   // kConst
    std::string name;  // kName, kGetattr attribute, kFilter / kTest name
    BinOp bin_op = BinOp::kAdd;
    ExprPtr a, b, c;  // operands (see ExprKind)
    std::vector<ExprPtr> items;
    std::vector<ExprPtr> values;                    // kDict values
    std::vector<std::pair<CmpOp, ExprPtr>> ops;     // kCompare
    CallArgs call;                                   // kCall, kFilter, kTest
};

// Left side of set / for / with: a name, a tuple of targets, or `ns.attr`.
struct Target {
    enum class Kind : uint8_t { kName, kTuple, kNamespaceAttr };
    Kind kind = Kind::kName;
    std::string name;
    std::string attr;
    std::vector<Target> items;
    Location loc;
};

struct Param {
    std::string name;
    ExprPtr default_value;  // null when required
};

enum class StmtKind : uint8_t {
    kData,         // text
    kPrint,        // {{ expr }} and {% print %}: exprs
    kIf,           // expr, body, else_body (elif is a nested kIf in else_body)
    kFor,          // target in expr [if filter] [recursive]: body, else_body
    kSet,          // target = expr
    kSetBlock,     // target [| filter]: body captured
    kMacro,        // name(params): body
    kCallBlock,    // {% call(params) expr %}: body is the caller
    kFilterBlock,  // {% filter chain %}: body
    kWith,         // targets = exprs: body in a new scope
    kBreak,
    kContinue,
    kScope,        // {% generation %}: body rendered in a new scope
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct Stmt {
    StmtKind kind = StmtKind::kData;
    Location loc;
    std::string text;            // kData
    std::vector<ExprPtr> exprs;  // kPrint, kWith values
    ExprPtr expr;                // if test, for iterable, set value, call-block call, filter chain
    ExprPtr filter;              // for-loop filter; set-block filter chain
    Target target;               // for, set, set block
    std::vector<Target> targets;  // with
    bool recursive = false;
    std::string name;            // macro name
    std::vector<Param> params;   // macro / caller parameters
    bool uses_caller = false;    // macro body mentions `caller`
    bool uses_varargs = false;   // macro body mentions `varargs`
    bool uses_kwargs = false;    // macro body mentions `kwargs`
    Body body;
    Body else_body;
};

// A parsed template.
struct Program {
    Body body;
};

}  // namespace rf::chat
