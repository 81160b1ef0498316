#!/usr/bin/env python3
"""Reference renderings for the chat-template tests, made by Python jinja2 in the environment
Hugging Face transformers builds for `apply_chat_template`:

  ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True) with the loop-controls
  extension and the `{% generation %}` tag, `tojson` = json.dumps(ensure_ascii=False, ...),
  globals raise_exception / strftime_now, and render(messages=..., tools=None or the schemas,
  documents=None, add_generation_prompt=..., bos_token=..., eos_token=..., **extra).

strftime_now reads a fixed clock (FIXED_NOW, UTC) so outputs are reproducible; the C++ tests
pass the same value. Writes, under tests/fixtures/templates/:
  expected/<template>.json  every template x every conversation in conversations/ x
                            add_generation_prompt false/true: the output or the error
  expected/gguf-<file>.json the same for chat templates stored in GGUF files (../shared/testdata/
                            vocab), with the file's own BOS/EOS texts, as `-m MODEL` renders them
  snippets.json             the SNIPPETS below (one per engine feature) and their outputs;
                            each renders with base_context updated by its own extra variables

Usage: scripts/render_templates.py [--templates DIR] [--fixtures DIR]
"""

import argparse
import json
import struct
import sys
from datetime import datetime, timezone
from pathlib import Path

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension, loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

FIXED_NOW = 1721995200  # 2024-07-26 12:00:00 UTC
BOS = "<s>"
EOS = "</s>"


class GenerationTag(Extension):
    """`{% generation %}...{% endgeneration %}`: renders its body (HF marks assistant tokens)."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_body"), [], [], body).set_lineno(lineno)

    def _body(self, caller):
        return caller()


def make_environment():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(fmt):
        return datetime.fromtimestamp(FIXED_NOW, timezone.utc).strftime(fmt)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[GenerationTag, loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def render(env, source, messages, tools=None, add_generation_prompt=False, extra=None, bos=BOS, eos=EOS):
    """Returns {"output": text} or {"error": "Type: message"}."""
    context = dict(messages=messages, tools=tools, documents=None, add_generation_prompt=add_generation_prompt,
                   bos_token=bos, eos_token=eos)
    context.update(extra or {})
    try:
        return {"output": env.from_string(source).render(**context)}
    except Exception as e:  # the C++ side must fail too; the message is informative only
        return {"error": f"{type(e).__name__}: {e}"}


def write_json(path, value):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, ensure_ascii=False, indent=1)
        f.write("\n")


def load_conversations(fixtures_dir):
    conversations = {}
    for path in sorted((fixtures_dir / "conversations").glob("*.json")):
        with open(path, encoding="utf-8") as f:
            conversations[path.stem] = json.load(f)
    return conversations


def render_real_templates(env, templates_dir, fixtures_dir, conversations):
    count = 0
    for template_path in sorted(templates_dir.glob("*.jinja")):
        source = template_path.read_text(encoding="utf-8")
        cases = []
        for name, conv in conversations.items():
            for agp in (False, True):
                result = render(env, source, conv["messages"], conv.get("tools"), agp, conv.get("extra"))
                cases.append({"conversation": name, "add_generation_prompt": agp, **result})
                count += 1
        write_json(fixtures_dir / "expected" / (template_path.stem + ".json"),
                   {"template": template_path.name, "bos_token": BOS, "eos_token": EOS, "now_unix": FIXED_NOW,
                    "cases": cases})
    return count


def read_gguf_metadata(path):
    """The key/value metadata of a GGUF file (enough to find its chat template and tokens)."""
    data = path.read_bytes()
    if data[:4] != b"GGUF":
        return None
    n_kv = struct.unpack_from("<Q", data, 16)[0]
    pos = 24
    scalars = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}

    def read_value(kind):
        nonlocal pos
        if kind == 8:
            n = struct.unpack_from("<Q", data, pos)[0]
            pos += 8 + n
            return data[pos - n:pos].decode("utf-8", errors="replace")
        if kind == 9:
            element, n = struct.unpack_from("<IQ", data, pos)
            pos += 12
            return [read_value(element) for _ in range(n)]
        fmt = scalars[kind]
        pos += struct.calcsize(fmt)
        return struct.unpack_from(fmt, data, pos - struct.calcsize(fmt))[0]

    meta = {}
    for _ in range(n_kv):
        key = read_value(8)
        kind = struct.unpack_from("<I", data, pos)[0]
        pos += 4
        meta[key] = read_value(kind)
    return meta


def render_gguf_templates(env, vocab_dir, fixtures_dir, conversations):
    """Templates stored in GGUF files, with the file's own BOS/EOS token texts (`-m MODEL`)."""
    count = 0
    for path in sorted(vocab_dir.glob("*.gguf")):
        meta = read_gguf_metadata(path)
        if not meta or "tokenizer.chat_template" not in meta:
            continue
        tokens = meta.get("tokenizer.ggml.tokens", [])

        def token(key):
            i = meta.get(key)
            return tokens[i] if isinstance(i, int) and 0 <= i < len(tokens) else ""

        bos, eos = token("tokenizer.ggml.bos_token_id"), token("tokenizer.ggml.eos_token_id")
        source = meta["tokenizer.chat_template"]
        cases = []
        for name, conv in conversations.items():
            for agp in (False, True):
                result = render(env, source, conv["messages"], conv.get("tools"), agp, conv.get("extra"), bos, eos)
                cases.append({"conversation": name, "add_generation_prompt": agp, **result})
                count += 1
        write_json(fixtures_dir / "expected" / ("gguf-" + path.stem + ".json"),
                   {"gguf": path.name, "bos_token": bos, "eos_token": eos, "now_unix": FIXED_NOW, "cases": cases})
    return count


# Shared variables for the snippets (each snippet may add or override some).
BASE = {
    "messages": [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "user", "content": "bye"},
    ],
    "users": [
        {"name": "ann", "age": 31, "active": True},
        {"name": "Bob", "age": 25, "active": False},
        {"name": "cy", "age": 40, "active": True},
    ],
    "d": {"a": 1, "b": [1, 2], "c": {"x": None}},
    "data": {"b": 1, "a": [1, 2.5, "é\"\n<>&'\t\u0001", None, True, False], "nested": {"k": {}, "l": []}, "f": 1e-7},
    "tree": [{"name": "a", "children": [{"name": "b", "children": []}, {"name": "c", "children": [{"name": "d"}]}]},
             {"name": "e"}],
    "x": 5,
    "y": "why",
    "m": {"role": "user", "items": "the-items", "content": "c", "keys": 3},
}

# (name, template, extra variables). Raw strings: the template text is exactly what is written.
SNIPPETS = [
    # --- whitespace control ---
    ("ws_trim_blocks", "{% if true %}\nyes\n{% endif %}\nafter", {}),
    ("ws_lstrip_blocks", "  {% if true %}\n  x\n  {% endif %}\n  y", {}),
    ("ws_lstrip_not_variables", "  {{ 'v' }}\n  {% if true %}a{% endif %}\n", {}),
    ("ws_minus_both_sides", "a  \n  {%- if true -%}  \n  b  \n  {%- endif -%}  \n  c", {}),
    ("ws_minus_variable", "a \n {{- 'b' -}} \n c", {}),
    ("ws_plus_disables", "  {%+ if true %}\nx{% endif +%}\ny", {}),
    ("ws_comments", "a\n  {# comment #}\nb\n{#- c -#}\n  d\n{#+ e +#}\nf", {}),
    ("ws_trailing_newline", "line\n", {}),
    ("ws_two_trailing_newlines", "line\n\n", {}),
    ("ws_crlf", "a\r\nb\r\n{% if true %}\r\nc\r\n{% endif %}\r\nd\re", {}),
    ("ws_raw", "{% raw %}{{ x }} {% for %}{% endraw %}|x {%- raw -%}  {{ y }}  {%- endraw -%} z", {}),
    ("ws_raw_lines", "{% raw %}\n  abc\n  {% endraw %}\nz", {}),
    ("ws_inline_if", "a {% if true %}b{% endif %} c\nd", {}),
    ("ws_tag_after_text", "text {% if true %}\nnext{% endif %}", {}),
    ("ws_unicode_space_before_tag", "\u3000{% if true %}x{% endif %}\n\u00a0 {% if true %}y{% endif %}", {}),
    ("ws_tabs_loop", "\t\t{% for i in [1, 2] %}\n\t{{ i }}\n\t\t{% endfor %}\nend", {}),
    ("ws_comment_line", "  {# c #}\nx", {}),
    ("ws_set_block", "{% set v %}\n  a\n{% endset %}[{{ v }}]", {}),
    ("ws_chat_style", "{%- for m in messages %}\n    {{- m.role }}: {{ m.content }}\n{% endfor %}\n{%- if add_generation_prompt %}\n    {{- 'assistant:' }}\n{%- endif %}", {"add_generation_prompt": True}),
    ("ws_variable_end_newline", "{{ 'a' }}\n{{ 'b' }}\n", {}),
    ("ws_minus_comment_newlines", "x\n\n{#- strip before #}\ny", {}),
    # --- literals and printing ---
    ("print_none_bool", "{{ none }} {{ None }} {{ true }} {{ False }} {{ True }}", {}),
    ("print_floats", "{{ 1.0 }} {{ 0.1 }} {{ 1e-05 }} {{ 1e-4 }} {{ 1e16 }} {{ 1e15 }} {{ 123456789.123456789 }} {{ 1.5e300 }} {{ 2 ** 0.5 }} {{ 0.1 + 0.2 }} {{ 1 / 3 }} {{ -0.0 }} {{ 100.0 }} {{ 1e22 }} {{ 12345678901234567890.0 }} {{ 5e-324 }} {{ 1_000.5 }} {{ 2.5E3 }}", {}),
    ("print_int_literals", "{{ 0x1F }} {{ 0o17 }} {{ 0b101 }} {{ 1_000_000 }} {{ 00 }} {{ 9223372036854775807 }}", {}),
    ("print_string_escapes", r'''{{ 'a\nb' }}|{{ "tab\there" }}|{{ '\x41\u00e9\U0001F600' }}|{{ 'q\'s' }}|{{ '\\' }}|{{ '\q' }}|{{ '\101\0' }}|{{ 'é\é' }}|{{ 'line\
cont' }}''', {}),
    ("print_list_repr", "{{ [1, 'two', 3.0, none, true, [4], {'k': 'v'}, (5,)] }}", {}),
    ("print_tuples", "{{ (1,) }} {{ (1, 2) }} {{ () }} {{ 1, 'a' }} {{ ((1, 2), [3]) }}", {}),
    ("print_dict_repr", "{{ {'a': 1, 'b': [1, 2], 'c': {'d': none}, 1: 'int key', 2.5: 'f', none: 0, (1, 2): 't'} }}", {}),
    ("print_repr_quotes", r"""{{ ["it's", 'say "hi"', 'both \' "', 'back\\slash', 'nl\n', 'uni é ☃ 😀', '\x00\x7f\x85\xa0\u200b\u2028\u3000\ufeff'] }}""", {}),
    ("print_context_value", "{{ d }} {{ data }}", {}),
    ("print_adjacent_strings", "{{ 'a' 'b' \"c\" }}", {}),
    ("print_undefined", "[{{ missing }}][{{ missing ~ 'x' }}]", {}),
    ("print_statement", "{% print 'a', 1 %}|{% print [1] %}", {}),
    ("print_comment_inside_text", "a{# comment {{ x }} #}b", {}),
    # --- operators ---
    ("op_arithmetic", "{{ 7 + 3 }} {{ 7 - 10 }} {{ 7 * 3 }} {{ 7 / 2 }} {{ 6 / 3 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 2 ** 3 ** 2 }} {{ 7.5 // 2 }} {{ -7.5 % 2 }} {{ 1 + 2.5 }} {{ true + 1 }} {{ 5.5 % 2 }} {{ -5 // 2.0 }}", {}),
    ("op_precedence", "{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ -2 ** 2 }} {{ 2 * -1 }} {{ not true or true }} {{ not (true or true) }} {{ 1 ~ 2 + 3 ~ 4 }} {{ 10 - 2 - 3 }} {{ 2 ** 2 * 3 }} {{ 'a' ~ 'b' == 'ab' }}", {}),
    ("op_sequences", "{{ 'ab' + 'cd' }} {{ 'ab' * 3 }} {{ 3 * 'x' }} {{ 'a' ~ 1 ~ none ~ true ~ 1.5 }} {{ [1] + [2] }} {{ [0] * 3 }} {{ (1,) + (2,) }} {{ 'x' * 0 }} {{ [1] * -1 }}", {}),
    ("op_percent_format", "{{ '%s and %s' % ('a', 'b') }} {{ '%d%%' % 50 }} {{ '%05.2f' % 3.14159 }} {{ '%-5s|' % 'ab' }} {{ '%x %X %o' % (255, 255, 8) }} {{ '%(name)s' % {'name': 'n'} }} {{ '%r' % 'q' }} {{ '%s' % [1, 2] }} {{ '%+d % d' % (5, 5) }} {{ '%e' % 12345.678 }} {{ '%g' % 0.00001234 }} {{ '%c' % 65 }} {{ '%5.1s|' % 'abc' }} {{ '%d' % 3.99 }} {{ '%#x' % 255 }} {{ '%s' % none }}", {}),
    ("op_compare", "{{ 1 < 2 }} {{ 2 <= 2 }} {{ 3 > 4 }} {{ 'a' < 'b' }} {{ [1, 2] < [1, 3] }} {{ 1 == 1.0 }} {{ 1 != '1' }} {{ none == none }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ true == 1 }} {{ 'abc' == 'abc' }} {{ (1, 2) == (1, 2) }} {{ [1] == (1,) }} {{ {'a': 1} == {'a': 1} }} {{ 'B' < 'a' }} {{ 'é' > 'z' }} {{ missing == missing }} {{ missing == none }}", {}),
    ("op_in", "{{ 'a' in 'cat' }} {{ 'z' not in 'cat' }} {{ 1 in [1, 2] }} {{ 3 in (1, 2) }} {{ 'k' in {'k': 1} }} {{ 'v' in {'k': 'v'} }} {{ 'x' in missing }} {{ '' in 'abc' }} {{ 1.0 in [1] }} {{ 'role' in messages[0] }} {{ 'tool_calls' in messages[0] }}", {}),
    ("op_logic_values", "{{ 0 or 'x' }} {{ 'a' and 'b' }} [{{ '' and 'b' }}] {{ none or none }} {{ [] or {} }} {{ not [] }} {{ not 'a' }} {{ 1 and 0 or 'z' }}", {}),
    ("op_conditional", "{{ 'y' if true else 'n' }} {{ 'y' if false else 'n' }} [{{ 'y' if false }}] {{ 'a' if 0 else 'b' if 1 else 'c' }} {{ ('p' if x > 3 else 'q') ~ '!' }}", {}),
    ("op_unary", "{{ -(3) }} {{ +3 }} {{ -3.5 }} {{ - -3 }} {{ -x|abs }} {{ -x }} {{ not not x }}", {}),
    ("op_concat_binds_tighter_error", "{{ 1 + 2 ~ 3 }}", {}),
    # --- attribute and item lookup ---
    ("lookup_dict", "{{ m.role }} {{ m['role'] }} {{ m.content }} {{ m['items'] }} {{ m.missing is defined }} {{ m['missing'] is undefined }} {{ m.keys is callable }} {{ m['keys'] }}", {}),
    ("lookup_dict_methods", "{{ m.items is callable }} {{ m.get('role') }} {{ m.get('zz', 'dflt') }} {{ m.get('zz') }} {{ m.get('items') }}", {}),
    ("lookup_list", "{{ users[0].name }} {{ users[-1]['name'] }} {{ users.1.name }} {{ users[5] is defined }} {{ [10, 20, 30][1:] }} {{ [10, 20, 30][::-1] }} {{ [10, 20, 30][::2] }} {{ [10, 20, 30][-2:] }} {{ [10, 20, 30][:-1] }} {{ [10, 20, 30][10:] }} {{ [10, 20, 30][1:2] }} {{ (1, 2, 3)[1:] }} {{ [1, 2, 3][true] }}", {}),
    ("lookup_string", "{{ 'héllo'[1] }} {{ 'héllo'[-1] }} {{ 'héllo'[1:3] }} {{ 'héllo'[::-1] }} {{ 'héllo'|length }} {{ 'abcdef'[1:5:2] }} {{ 'abcdef'[5:1:-2] }} {{ 'abc'[5] is defined }} {{ 'abc'[-10:10] }}", {}),
    ("lookup_undefined_chain_defined", "{{ d.zz is defined }} {{ d.c.x is none }} {{ d['c']['x'] }} {{ none.attr is defined }} {{ 'abc'.nope is defined }} {{ 3.5.is_integer() }}", {}),
    ("lookup_undefined_attr_error", "{{ missing.attr }}", {}),
    ("lookup_undefined_item_error", "{{ missing['k'] }}", {}),
    ("lookup_undefined_nested_error", "{{ d.zz.yy }}", {}),
    ("lookup_messages", "{{ messages[0]['content'] }} {{ messages[0].content }} {{ messages[-1].role }} {{ messages|length }} {{ messages[1:]|map(attribute='role')|join(',') }}", {}),
    ("lookup_slice_step_zero_error", "{{ [1, 2][::0] }}", {}),
    # --- for loops ---
    ("for_basic", "{% for v in [1, 2, 3] %}{{ v }}{% if not loop.last %}, {% endif %}{% endfor %}", {}),
    ("for_loop_variables", "{% for c in 'abc' %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.depth }}{{ loop.depth0 }}|{% endfor %}", {}),
    ("for_prev_next", "{% for v in [1, 2, 3] %}{{ loop.previtem }}-{{ loop.nextitem }};{% endfor %}{% for v in [1] %}{{ loop.previtem is defined }}{% endfor %}", {}),
    ("for_else", "{% for v in [] %}x{% else %}empty{% endfor %}|{% for v in [1] %}x{% else %}empty{% endfor %}|{% for v in missing %}x{% else %}undef{% endfor %}", {}),
    ("for_filter", "{% for v in range(10) if v is odd %}{{ v }}:{{ loop.index }}/{{ loop.length }} {% endfor %}{% for v in [] if v %}{% else %}none{% endfor %}", {}),
    ("for_unpacking", "{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}{% for a, b in [[1, 2], (3, 4), 'ef'] %}{{ a ~ b }}{% endfor %}{% for (a, b), c in [((1, 2), 3)] %}{{ a }}{{ b }}{{ c }}{% endfor %}", {}),
    ("for_dict_keys", "{% for k in {'x': 1, 'y': 2} %}{{ k }}{% endfor %}{% for k in d %}{{ k }}{% endfor %}", {}),
    ("for_cycle_changed", "{% for v in range(5) %}{{ loop.cycle('a', 'b', 'c') }}{% endfor %}|{% for v in [1, 1, 2, 2, 1] %}{% if loop.changed(v) %}{{ v }}{% endif %}{% endfor %}", {}),
    ("for_nested", "{% for a in [1, 2] %}{% set outer = loop %}{% for b in 'xy' %}{{ outer.index }}{{ loop.index }}{{ b }} {% endfor %}{% endfor %}", {}),
    ("for_scoping", "{% set v = 0 %}{% for i in range(3) %}{% set v = v + i %}{{ v }}{% endfor %}|{{ v }}|{% for i in range(2) %}{% if i == 0 %}{% set w = 5 %}{% endif %}[{{ w }}]{% endfor %}[{{ w }}]", {}),
    ("for_break_continue", "{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 5 %}{% break %}{% endif %}{{ i }}{% endfor %}|{% for i in range(3) %}{% for j in range(3) %}{% if j == 1 %}{% break %}{% endif %}{{ i }}{{ j }} {% endfor %}{% endfor %}", {}),
    ("for_recursive", "{% for n in tree recursive %}[{{ n.name }}:{{ loop.depth }}{% if n.children %}{{ loop(n.children) }}{% endif %}]{% endfor %}", {}),
    ("for_string_chars", "{% for c in 'héé😀' %}{{ c }}.{% endfor %}", {}),
    ("for_none_error", "{% for v in none %}{% endfor %}", {}),
    ("for_int_error", "{% for v in 5 %}{% endfor %}", {}),
    ("for_reversed_messages", "{% for msg in messages[::-1] %}{{ loop.index0 }}{{ msg.role[0] }}{% endfor %}", {}),
    ("for_loop_outside_undefined", "[{{ loop }}][{{ loop is defined }}]", {}),
    # --- if / set / namespace ---
    ("if_elif_else", "{% for n in [1, 5, 10] %}{% if n < 3 %}small{% elif n < 7 %}mid{% elif n < 9 %}large{% else %}big{% endif %} {% endfor %}", {}),
    ("if_set_leaks", "{% if true %}{% set y2 = 5 %}{% endif %}{{ y2 }}", {}),
    ("set_forms", "{% set a = 1 %}{% set b, c = 2, 3 %}{% set e = [a, b, c] %}{{ e }}{% set f, g = 'xy' %}{{ f }}{{ g }}{% set t = 1, 2 %}{{ t }}", {}),
    ("set_block", "{% set text %}Hello {{ y }}!{% endset %}{{ text|upper }} {{ text|length }}", {}),
    ("set_block_filter", "{% set t | upper | replace('B', 'x') %}abc{% endset %}{{ t }}", {}),
    ("set_overrides_context", "{% set x = 'new' %}{{ x }}{% set messages = messages[1:] %}{{ messages|length }}", {}),
    ("namespace_counter", "{% set ns = namespace(count=0, found=false) %}{% for i in range(4) %}{% set ns.count = ns.count + i %}{% if i == 2 %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.count }} {{ ns.found }} {{ ns.missing is defined }}", {}),
    ("namespace_print", "{% set ns = namespace(a=1) %}{% set ns.b = 'x' %}{{ ns }}", {}),
    ("namespace_block_set", "{% set ns = namespace() %}{% set ns.t %}x{{ 1 }}{% endset %}{{ ns.t }}", {}),
    ("namespace_from_dict", "{% set ns = namespace({'a': 1}, b=2) %}{{ ns.a }}{{ ns.b }}{{ ns['a'] }}", {}),
    ("namespace_alias", "{% set ns = namespace(v=1) %}{% set alias = ns %}{% set ns.v = 2 %}{{ alias.v }}", {}),
    ("namespace_last_user_index", "{% set ns = namespace(idx=-1) %}{% for msg in messages %}{% if msg.role == 'user' %}{% set ns.idx = loop.index0 %}{% endif %}{% endfor %}{{ ns.idx }}", {}),
    ("set_attr_non_namespace_error", "{% set v = 1 %}{% set v.y = 2 %}", {}),
    ("set_unpack_error", "{% set a, b = [1] %}", {}),
    # --- macros and call blocks ---
    ("macro_basic", "{% macro greet(name, greeting='Hello') %}{{ greeting }}, {{ name }}!{% endmacro %}{{ greet('Ann') }} {{ greet('Bob', 'Hi') }} {{ greet(greeting='Yo', name='Cy') }}", {}),
    ("macro_default_refers_to_param", "{% macro f(a, b=a * 2) %}{{ a }}/{{ b }}{% endmacro %}{{ f(3) }} {{ f(3, 1) }}", {}),
    ("macro_varargs_kwargs", "{% macro f(a) %}{{ a }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ f(1, 2, 3, x=4) }}|{{ f(1) }}", {}),
    ("macro_missing_argument", "{% macro f(a, b) %}[{{ a }}][{{ b }}][{{ b is defined }}]{% endmacro %}{{ f(1) }}", {}),
    ("macro_too_many_arguments_error", "{% macro f(a) %}{% endmacro %}{{ f(1, 2) }}", {}),
    ("macro_unknown_kwarg_error", "{% macro f(a) %}{% endmacro %}{{ f(b=1) }}", {}),
    ("macro_recursion", "{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * fact(n - 1)|int }}{% endif %}{% endmacro %}{{ fact(6) }}", {}),
    ("macro_sees_later_globals", "{% macro f() %}{{ g }}{% endmacro %}{% set g = 'late' %}{{ f() }}", {}),
    ("macro_result_is_string", "{% macro f() %}12{% endmacro %}{{ f() ~ 'x' }} {{ f()|int + 1 }} {{ f() is string }} {{ f }}", {}),
    ("macro_render_json_schema", "{% macro render(p, indent) %}{% for k, v in p.items() %}{{ indent }}{{ k }}: {% if v is mapping %}\n{{ render(v, indent ~ '  ') }}{% else %}{{ v }}\n{% endif %}{% endfor %}{% endmacro %}{{ render(data, '') }}", {}),
    ("call_block", "{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}bold {{ 1 + 1 }}{% endcall %}", {}),
    ("call_block_arguments", "{% macro each(items) %}{% for i in items %}{{ caller(i, loop.index) }}{% endfor %}{% endmacro %}{% call(item, n) each(['a', 'b']) %}{{ n }}:{{ item }} {% endcall %}", {}),
    ("call_without_caller", "{% macro f() %}[{{ caller is defined }}]{% endmacro %}{{ f() }}", {}),
    ("filter_block", "{% filter upper %}hello {{ 'world' }}{% endfilter %}|{% filter trim|replace('a', 'o') %}  banana  {% endfilter %}", {}),
    ("with_block", "{% with a = 1, b = 'x' %}{{ a }}{{ b }}{% endwith %}[{{ a }}]{% with x = x + 1 %}{{ x }}{% endwith %}{{ x }}", {}),
    ("generation_block", "{% for msg in messages %}{% if msg.role == 'assistant' %}{% generation %}{{ msg.content }}{% set inner = 1 %}{% endgeneration %}{% else %}{{ msg.content }}{% endif %}|{% endfor %}[{{ inner }}]", {}),
    # --- filters ---
    ("filter_trim", "[{{ '  x  '|trim }}][{{ 'xxaxx'|trim('x') }}][{{ '\n\t y \u3000'|trim }}][{{ 5|trim }}]", {}),
    ("filter_tojson", "{{ data|tojson }}|{{ users|tojson }}", {}),
    ("filter_tojson_indent", "{{ data|tojson(indent=2) }}|{{ [1, [2, {}]]|tojson(indent=0) }}|{{ {'a': [1]}|tojson(indent='\t') }}", {}),
    ("filter_tojson_options", "{{ data|tojson(separators=(',', ':'), sort_keys=true) }}|{{ {'b': 1, 'a': 2}|tojson(sort_keys=true) }}|{{ 'é😀'|tojson(ensure_ascii=true) }}", {}),
    ("filter_tojson_scalars", "{{ none|tojson }} {{ true|tojson }} {{ 1.0|tojson }} {{ 'x'|tojson }} {{ (1, 2)|tojson }} {{ 1e100|tojson }} {{ {1: 'a', none: 'b', true: 'c'}|tojson }} {{ 'a\\b'|tojson }}", {}),
    ("filter_tojson_undefined_error", "{{ missing|tojson }}", {}),
    ("filter_length", "{{ 'héllo'|length }} {{ [1, 2]|length }} {{ {'a': 1}|length }} {{ missing|length }} {{ [1, 2, 3]|count }} {{ messages|selectattr('role', 'eq', 'user')|list|length }}", {}),
    ("filter_length_error", "{{ 5|length }}", {}),
    ("filter_case", "{{ 'hello WORLD'|upper }} {{ 'HeLLo'|lower }} {{ 'hello world-wide (foo) [bar] x'|title }} {{ \"they're\"|title }} {{ 'hELLO wORLD'|capitalize }} {{ 'ß straße'|upper }} {{ 'ÀÉÎ ΣΑΣ'|lower }} {{ 'ǆemal'|upper }} {{ none|upper }}", {}),
    ("filter_default", "{{ missing|default('d') }} {{ missing|d('d2') }} [{{ ''|default('e') }}] {{ ''|default('e', true) }} {{ none|default('n') }} {{ none|default('n', boolean=true) }} {{ 0|d(5, true) }} [{{ missing|default }}]", {}),
    ("filter_join", "{{ [1, 2, 3]|join }} {{ ['a', 'b']|join(', ') }} {{ users|join(', ', attribute='name') }} {{ 'abc'|join('-') }} {{ [none, true]|join }} {{ d|join('+') }}", {}),
    ("filter_first_last", "{{ [1, 2, 3]|first }} {{ [1, 2, 3]|last }} {{ 'abc'|first }} {{ 'abc'|last }} [{{ []|first }}] {{ {'k': 1, 'j': 2}|first }} {{ {'k': 1, 'j': 2}|last }} {{ (messages|last).content }}", {}),
    ("filter_replace", "{{ 'aaa'|replace('a', 'b') }} {{ 'aaa'|replace('a', 'b', 2) }} {{ 'abc'|replace('', '-') }} {{ 12|replace('1', 'x') }}", {}),
    ("filter_items", "{% for k, v in {'b': 1, 'a': 2}|items %}{{ k }}{{ v }}{% endfor %} [{% for k, v in missing|items %}x{% endfor %}] {{ d|items|list }}", {}),
    ("filter_selectattr", "{{ messages|selectattr('role', 'equalto', 'user')|map(attribute='content')|join(',') }} | {{ messages|rejectattr('role', 'eq', 'user')|list|length }} | {{ users|selectattr('active')|map(attribute='name')|list }} | {{ users|rejectattr('active')|first }}", {}),
    ("filter_select_reject", "{{ [1, 2, 3, 4, 5]|select('odd')|list }} {{ [1, 2, 3, 4, 5]|reject('odd')|list }} {{ [0, 1, '', none, 'a']|select|list }} {{ [1, 5, 10]|select('gt', 3)|list }} {{ ['a', 'b']|select('in', ['a'])|list }} {{ [1, 2, 3]|select('==', 2)|list }} {{ [1, 2, 3]|select('lessthan', 3)|list }} {{ [none, 1]|reject('none')|list }}", {}),
    ("filter_generator_truthiness", "{% if []|select %}T{% else %}F{% endif %}{% if []|select|list %}T{% else %}F{% endif %} {{ (users|map(attribute='name'))|list|length }}", {}),
    ("filter_generator_length_error", "{{ users|map(attribute='name')|length }}", {}),
    ("filter_map", "{{ ['a', 'b']|map('upper')|join }} {{ [1.5, 2.5]|map('int')|list }} {{ [{'a': 1}, {}]|map(attribute='a', default=0)|list }} {{ ['x']|map('replace', 'x', 'y')|list }} {{ users|map(attribute='name')|map('title')|list }} {{ [[1, 2], [3]]|map('length')|list }} {{ []|map('upper')|list }}", {}),
    ("filter_list_string", "{{ 'abc'|list }} {{ {'a': 1}|list }} {{ 123|string ~ 'x' }} {{ [1]|string }} {{ none|string }} {{ (1, 2)|list }} {{ missing|list }}", {}),
    ("filter_int_float", "{{ '42'|int }} {{ ' 7 '|int }} {{ '3.9'|int }} {{ 'abc'|int }} {{ 'abc'|int(-1) }} {{ '0x1A'|int(0, 16) }} {{ '1e3'|int }} {{ 4.7|int }} {{ true|int }} {{ '3.25'|float }} {{ 'x'|float }} {{ 2|float }} {{ ' -1.5e2 '|float }} {{ '1_000'|int }} {{ none|int }} {{ '-0'|int }} {{ 'inf'|float }} {{ '+7'|int }} {{ '1__0'|int }}", {}),
    ("filter_abs_round", "{{ -5|abs }} {{ (-5)|abs }} {{ -2.5|abs }} {{ 2.5|round }} {{ 3.5|round }} {{ 2.675|round(2) }} {{ 2.1|round(0, 'ceil') }} {{ 2.9|round(method='floor') }} {{ 7|round }} {{ 1234.5678|round(-2) }} {{ -0.5|round }} {{ 0.125|round(2) }} {{ 1.23456|round(3, 'floor') }}", {}),
    ("filter_escape_safe", "{{ '<b>&'|e }} {{ '<b>'|safe }} {{ '<b>'|safe|e }} {{ '<i>'|escape|length }} {{ ('<a>'|safe) + '<b>' }} {{ '\"\\''|forceescape }} {{ 'x'|safe is string }}", {}),
    ("filter_indent", "{{ 'a\nb\n\nc'|indent }}|{{ 'a\nb'|indent(2, true) }}|{{ 'a\n\nb'|indent(width='> ', blank=true) }}|{{ ''|indent(first=true) }}|{{ 'x\n'|indent(3) }}", {}),
    ("filter_indent_error", "{{ 5|indent }}", {}),
    ("filter_unique", "{{ ['a', 'A', 'b', 'a']|unique|list }} {{ ['a', 'A']|unique(case_sensitive=true)|list }} {{ users|unique(attribute='active')|map(attribute='name')|list }} {{ [1, 1.0, true, 2]|unique|list }}", {}),
    ("filter_sort", "{{ [3, 1, 2]|sort }} {{ ['b', 'A', 'c']|sort }} {{ ['b', 'A', 'c']|sort(case_sensitive=true) }} {{ [3, 1, 2]|sort(reverse=true) }} {{ users|sort(attribute='age')|map(attribute='name')|list }} {{ users|sort(attribute='active,name')|map(attribute='name')|join }} {{ [[2, 'b'], [1, 'z'], [2, 'a']]|sort }} {{ ['b', 'a', 'B', 'A']|sort }}", {}),
    ("filter_sort_mixed_error", "{{ [1, 'a']|sort }}", {}),
    ("filter_reverse", "{{ [1, 2, 3]|reverse|list }} {{ 'abc'|reverse }} {% for v in (1, 2)|reverse %}{{ v }}{% endfor %} {{ {'a': 1, 'b': 2}|reverse|list }} {{ [1, 2]|map('string')|reverse|list }}", {}),
    ("filter_dictsort", "{{ {'b': 1, 'A': 3, 'c': 2}|dictsort }} {{ {'b': 1, 'A': 3, 'c': 2}|dictsort(true) }} {{ {'b': 1, 'a': 3}|dictsort(by='value') }} {{ {'b': 1, 'a': 3}|dictsort(reverse=true) }}", {}),
    ("filter_batch_slice", "{{ [1, 2, 3, 4, 5]|batch(2)|list }} {{ [1, 2, 3]|batch(2, 'x')|list }} {{ [1, 2, 3, 4, 5]|slice(2)|list }} {{ [1, 2, 3, 4]|slice(3, 0)|list }}", {}),
    ("filter_sum_min_max", "{{ [1, 2, 3]|sum }} {{ [1.5, 2]|sum }} {{ users|sum(attribute='age') }} {{ [1, 2]|sum(start=10) }} {{ [3, 1, 2]|min }} {{ [3, 1, 2]|max }} {{ ['b', 'A', 'c']|min }} {{ ['b', 'A', 'c']|max(case_sensitive=true) }} {{ (users|max(attribute='age'))['name'] }} [{{ []|min }}] {{ ['a', 'B']|max }}", {}),
    ("filter_wordcount_center", "{{ 'hello  big world'|wordcount }} {{ 'one,two;three four_five'|wordcount }} [{{ 'ab'|center(7) }}] [{{ 'abc'|center(6) }}] [{{ 'abc'|center(2) }}]", {}),
    ("filter_format", "{{ '%s-%s'|format('a', 1) }} {{ '%(x)s'|format(x='y') }} {{ '%.3f'|format(3.14159) }} {{ '%5s|%-5s|'|format('r', 'l') }}", {}),
    ("filter_truncate", "{{ 'The quick brown fox jumps'|truncate(12) }}|{{ 'The quick brown fox jumps'|truncate(12, true) }}|{{ 'short'|truncate(10) }}|{{ 'The quick brown fox'|truncate(9, end='…', leeway=0) }}", {}),
    ("filter_striptags", "{{ '<p>Hello <b>world</b></p>  &amp; more <!-- c -->'|striptags }}", {}),
    ("filter_groupby", "{% for g, items in users|groupby('active') %}{{ g }}:{{ items|map(attribute='name')|join(',') }};{% endfor %}|{% for g in [{'k': 'B'}, {'k': 'b'}, {'k': 'a'}]|groupby('k') %}{{ g[0] }}={{ g[1]|length }} {% endfor %}", {}),
    ("filter_attr", "{% set ns = namespace(v=3) %}{{ ns|attr('v') }} {{ {'k': 1}|attr('k') is defined }} {{ 'abc'|attr('upper') is callable }}", {}),
    ("filter_filesizeformat", "{{ 100|filesizeformat }} {{ 1500|filesizeformat }} {{ 1500000|filesizeformat(true) }} {{ 1|filesizeformat }} {{ 1000|filesizeformat }}", {}),
    ("filter_on_undefined", "[{{ missing|upper }}|{{ missing|trim }}|{{ missing|list }}|{{ missing|join(',') }}|{{ missing|first is defined }}|{{ missing|default('x')|upper }}|{{ missing|string }}|{{ missing|lower|length }}|{{ missing|reverse|list }}|{{ missing|sort }}|{{ missing|select|list }}]", {}),
    ("filter_int_of_undefined_error", "{{ missing|int }}", {}),
    ("filter_unknown_error", "{{ 1|nofilter }}", {}),
    ("filter_unknown_in_if_is_runtime", "{% if false %}{{ 1|nofilter }}{% endif %}{{ 'y' if x else 2|nofilter }}{% if false and x is nosuchtest %}{% endif %}ok", {}),
    ("filter_unknown_in_if_executed_error", "{% if true %}{{ 1|nofilter }}{% endif %}", {}),
    ("filter_unknown_in_loop_inside_if_error", "{% if false %}{% for i in [] %}{{ i|nofilter }}{% endfor %}{% endif %}", {}),
    ("filter_pprint", "{{ {'a': [1, 'b']}|pprint }}", {}),
    # --- tests ---
    ("test_defined", "{{ x is defined }} {{ missing is defined }} {{ missing is undefined }} {{ none is none }} {{ 0 is none }} {{ x is not none }} {{ not x is defined }} {{ x is not defined }}", {}),
    ("test_types", "{{ 'a' is string }} {{ 1 is number }} {{ 1.5 is number }} {{ true is number }} {{ 1 is integer }} {{ true is integer }} {{ 1.0 is float }} {{ 1 is float }} {{ {} is mapping }} {{ [] is mapping }} {{ [] is sequence }} {{ 'a' is sequence }} {{ {} is sequence }} {{ 1 is sequence }} {{ [] is iterable }} {{ 'a' is iterable }} {{ 1 is iterable }} {{ none is iterable }} {{ true is boolean }} {{ 1 is boolean }} {{ true is true }} {{ 1 is true }} {{ false is false }} {{ 0 is false }} {{ missing is sequence }} {{ missing is iterable }} {{ missing is string }} {{ none is mapping }} {{ (1,) is sequence }}", {}),
    ("test_callable", "{{ range is callable }} {{ 'a'.upper is callable }} {{ 1 is callable }} {{ namespace is callable }} {{ raise_exception is callable }}", {}),
    ("test_numbers", "{{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ 9 is divisibleby(4) }} {{ -3 is odd }} {{ 3.0 is odd }} {{ 0 is even }}", {}),
    ("test_comparisons", "{{ 1 is eq 1 }} {{ 1 is equalto 2 }} {{ 1 is ne 2 }} {{ 1 is lt 2 }} {{ 2 is le 2 }} {{ 3 is gt 2 }} {{ 3 is ge 4 }} {{ 2 is greaterthan 1 }} {{ 1 is lessthan 1 }} {{ 'a' is sameas 'a' }}", {}),
    ("test_in", "{{ 'a' is in 'abc' }} {{ 3 is in [1, 2] }} {{ 'k' is in {'k': 1} }}", {}),
    ("test_case", "{{ 'abc' is lower }} {{ 'Abc' is lower }} {{ 'ABC' is upper }} {{ '123' is upper }} {{ 'ÉA' is upper }}", {}),
    ("test_sameas_escaped_filter", "{{ none is sameas none }} {{ true is sameas true }} {{ 1 is sameas true }} {{ 'a'|safe is escaped }} {{ 'a' is escaped }} {{ 'upper' is filter }} {{ 'nope' is filter }} {{ 'odd' is test }}", {}),
    ("test_with_and_or", "{{ x is defined and x > 3 }} {{ missing is defined or 'fallback' }} {{ 'y' if x is number else 'n' }}", {}),
    ("test_odd_string_error", "{{ 'a' is odd }}", {}),
    # --- string methods ---
    ("str_startswith", "{{ 'hello'.startswith('he') }} {{ 'hello'.endswith('lo') }} {{ 'hello'.startswith(('x', 'h')) }} {{ 'hello'.startswith('l', 2) }} {{ 'hello'.endswith('ll', 0, 4) }} {{ ''.startswith('') }}", {}),
    ("str_strip", "[{{ '  a b  '.strip() }}][{{ '  a b  '.lstrip() }}][{{ '  a b  '.rstrip() }}][{{ 'xxaxx'.strip('x') }}][{{ '\n\nab\n'.lstrip('\n') }}][{{ 'abc'.rstrip('cb') }}][{{ '\u00a0x\u2003'.strip() }}][{{ 'aaa'.strip('a') }}]", {}),
    ("str_split", "{{ 'a,b,,c'.split(',') }} {{ '  a  b  '.split() }} {{ 'a b c d'.split(' ', 2) }} {{ 'a b c d'.rsplit(' ', 1) }} {{ 'a  b c '.split(None, 1) }} {{ 'x</think>y'.split('</think>')[-1] }} {{ 'abc'.split('z') }} {{ ''.split() }} {{ ''.split(',') }} {{ '  a b  '.rsplit(None, 1) }} {{ 'a\nb\r\nc'.splitlines() }} {{ 'a\n'.splitlines(true) }} {{ 'a b'.split(maxsplit=0) }}", {}),
    ("str_split_empty_separator_error", "{{ 'abc'.split('') }}", {}),
    ("str_case_methods", "{{ 'abc'.upper() }} {{ 'ABC'.lower() }} {{ \"they're bill's friends\".title() }} {{ 'hELLO'.capitalize() }} {{ 'AbC'.swapcase() }} {{ 'x1y'.title() }} {{ 'ǆ'.title() }}", {}),
    ("str_replace_find", "{{ 'a-b-c'.replace('-', '+') }} {{ 'a-b-c'.replace('-', '', 1) }} {{ 'hello'.find('l') }} {{ 'hello'.rfind('l') }} {{ 'hello'.find('z') }} {{ 'héllo'.find('l') }} {{ 'hello'.count('l') }} {{ 'hello'.index('e') }} {{ 'hello'.find('l', 3) }} {{ 'hello'.find('', 10) }}", {}),
    ("str_index_error", "{{ 'hello'.index('z') }}", {}),
    ("str_join", "{{ ', '.join(['a', 'b']) }} {{ ''.join('abc') }} {{ '-'.join(messages|map(attribute='role')) }}", {}),
    ("str_join_type_error", "{{ ','.join([1, 2]) }}", {}),
    ("str_format", "{{ '{} {}'.format('a', 1) }} {{ '{0}{1}{0}'.format('x', 'y') }} {{ '{name} is {age}'.format(name='Ann', age=3) }} {{ '{:>6}|{:<6}|{:^6}'.format('r', 'l', 'c') }} {{ '{:.2f} {:05d} {:,} {:x} {:+d}'.format(3.14159, 42, 1234567, 255, 7) }} {{ '{{literal}} {}'.format(1) }} {{ '{!r} {!s}'.format('q', 'q') }} {{ '{0[0]} {0[1]}'.format(['a', 'b']) }} {{ '{m[role]}'.format(m=messages[0]) }} {{ '{:%}'.format(0.25) }} {{ '{:e}'.format(12345.678) }} {{ '{:g}'.format(1e-7) }} {{ '{}'.format(none) }} {{ '{:*^9}'.format('mid') }} {{ '{:.3}'.format(2.0) }} {{ '{:10.3f}|'.format(-3.14159) }} {{ '{0.role}'.format(messages[0]) }} {{ '{:>{w}}'.format('v', w=4) }} {{ '{}'.format(1.0) }} {{ '{:08.3f}'.format(-1.5) }} {{ '{:_b}'.format(255) }}", {}),
    ("str_format_error", "{{ '{} {}'.format(1) }}", {}),
    ("str_misc_methods", "{{ 'abc'.center(7, '*') }} {{ 'ab'.ljust(4, '.') }} {{ 'ab'.rjust(4) }} {{ '42'.zfill(5) }} {{ '-42'.zfill(5) }} {{ 'a=b=c'.partition('=') }} {{ 'a=b=c'.rpartition('=') }} {{ 'prefix_x'.removeprefix('prefix_') }} {{ 'x.json'.removesuffix('.json') }} {{ 'abc'.isalpha() }} {{ '123'.isdigit() }} {{ ' '.isspace() }} {{ 'abc'.islower() }} {{ ''.isalpha() }} {{ 'a1'.isalnum() }}", {}),
    # --- dict and list methods (the sandbox blocks mutation) ---
    ("dict_methods", "{{ d.keys()|list }} {{ d.values()|list }} {{ d.items()|list }} {{ d.get('a') }} {{ d.get('zz', 0) }} {% for k, v in d.items() %}{{ k }}{{ v }}{% endfor %} {{ d.keys() }} {{ d.items() }} {{ d.values() }} {{ 'a' in d.keys() }} {{ d.items()|length }} {{ d.copy() }}", {}),
    ("list_methods", "{{ [1, 2, 1].count(1) }} {{ [1, 2, 3].index(2) }} {{ (1, 2).count(2) }} {{ [1, 2].copy() }}", {}),
    ("list_append_blocked_error", "{% set l = [] %}{{ l.append(1) }}", {}),
    ("list_append_is_undefined", "{% set l = [] %}{{ l.append is defined }}[{{ l.append }}]", {}),
    ("dict_update_blocked_error", "{% set dd = {} %}{{ dd.update({'a': 1}) }}", {}),
    ("list_pop_blocked_error", "{{ [1].pop() }}", {}),
    # --- globals ---
    ("global_range", "{{ range(3)|list }} {{ range(1, 4)|list }} {{ range(10, 0, -3)|list }} {{ range(0)|list }} {{ range(5)|length }} {{ range(-2, 2)|list }}", {}),
    ("global_range_too_big_error", "{{ range(100001)|length }}", {}),
    ("global_dict", "{{ dict(a=1, b='x') }} {{ dict({'a': 1}, b=2) }} {{ dict([('k', 'v')]) }} {{ dict() }}", {}),
    ("global_raise_exception_error", "{{ raise_exception('Bad role!') }}", {}),
    ("global_raise_exception_unreached", "{% if messages[1].role == 'system' %}{{ raise_exception('no system') }}{% endif %}ok", {}),
    ("global_strftime_now", "{{ strftime_now('%Y-%m-%d %H:%M:%S %a %A %b %B %d %j %p %y %I %%') }}|{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%Z %z %f %-d %e %U %w %c %x %X %G-%V %%f') }}", {}),
    ("global_joiner", "{% set sep = joiner(' | ') %}{% for v in [1, 2, 3] %}{{ sep() }}{{ v }}{% endfor %}", {}),
    ("global_overridden_by_context", "{{ range }}", {"range": "shadowed"}),
    # --- syntax and runtime errors ---
    ("error_unclosed_if", "{% if true %}no end", {}),
    ("error_unknown_tag", "{% foo %}", {}),
    ("error_unbalanced_paren", "{{ (1 }}", {}),
    ("error_call_int", "{{ 1() }}", {}),
    ("error_str_plus_int", "{{ 'a' + 1 }}", {}),
    ("error_int_plus_str", "{{ 1 + 'a' }}", {}),
    ("error_call_undefined", "{{ nope() }}", {}),
    ("error_undefined_arithmetic", "{{ nope + 1 }}", {}),
    ("error_division_by_zero", "{{ 1 / 0 }}", {}),
    ("error_modulo_by_zero", "{{ 1 % 0 }}", {}),
    ("error_compare_types", "{{ 1 < 'a' }}", {}),
    ("error_break_outside_loop", "{% break %}", {}),
    ("error_endfor_without_for", "{% endfor %}", {}),
    ("error_missing_endraw", "{% raw %}abc", {}),
    ("error_unclosed_comment", "{# abc", {}),
    ("error_unclosed_variable", "{{ x ", {}),
    ("error_bad_character", "{{ x ! y }}", {}),
    ("error_unterminated_string", "{{ 'abc }}", {}),
    ("error_chained_is", "{{ 1 is number is number }}", {}),
    ("error_default_before_required", "{% macro f(a=1, b) %}{% endmacro %}", {}),
    ("error_unhashable_key", "{{ {[1]: 2} }}", {}),
    ("error_in_wrong_type", "{{ 1 in 'abc' }}", {}),
    ("error_not_iterable_in", "{{ 1 in 5 }}", {}),
    ("error_assign_to_literal", "{% set true = 1 %}", {}),
    ("error_extends_unsupported", "{% extends 'base.html' %}", {}),
    # --- chat-template shaped snippets ---
    ("chat_chatml", "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}", {"add_generation_prompt": True}),
    ("chat_llama2", "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}", {}),
    ("chat_mistral_alternation_error", "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('alternate!') }}{% endif %}{{ message['content'] }}{% endfor %}", {}),
    ("chat_tool_json", "{%- for tool in tools %}\n{{ tool | tojson(indent=4) }}\n{% endfor %}", {"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {"q": {"type": "string", "description": "Query — “quoted”"}}}}}]}),
    ("chat_tools_none_vs_undefined", "{{ tools is none }} {{ tools is defined }} {{ documents is none }} {{ custom_tools is defined }}", {}),
    ("chat_messages_loop_last", "{%- for message in messages %}{%- if loop.last and message.role == 'user' %}LAST:{{ message.content }}{%- endif %}{%- endfor %}", {}),
]


def render_snippets(env, fixtures_dir):
    cases = []
    for name, source, extra in SNIPPETS:
        context = {k: v for k, v in BASE.items() if k != "messages"}
        context.update(extra)
        result = render(env, source, BASE["messages"], extra.get("tools"), bool(extra.get("add_generation_prompt")),
                        context)
        cases.append({"name": name, "template": source, "extra": extra, **result})
    base_context = {k: v for k, v in BASE.items() if k != "messages"}
    write_json(fixtures_dir / "snippets.json",
               {"messages": BASE["messages"], "base_context": base_context, "bos_token": BOS, "eos_token": EOS,
                "now_unix": FIXED_NOW, "cases": cases})
    return len(cases)


def main():
    root = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--templates", type=Path, default=root.parent / "shared" / "testdata" / "templates")
    parser.add_argument("--vocab", type=Path, default=root.parent / "shared" / "testdata" / "vocab",
                        help="GGUF files whose embedded chat templates are rendered too")
    parser.add_argument("--fixtures", type=Path, default=root / "tests" / "fixtures" / "templates")
    args = parser.parse_args()
    env = make_environment()
    n_snippets = render_snippets(env, args.fixtures)
    conversations = load_conversations(args.fixtures)
    n_cases = 0
    if args.templates.is_dir():
        n_cases = render_real_templates(env, args.templates, args.fixtures, conversations)
    else:
        print(f"render_templates: {args.templates} not found; only snippets rendered", file=sys.stderr)
    if args.vocab.is_dir():
        n_cases += render_gguf_templates(env, args.vocab, args.fixtures, conversations)
    print(f"render_templates: jinja2 {jinja2.__version__}: {n_snippets} snippets, {n_cases} template cases")


if __name__ == "__main__":
    main()
