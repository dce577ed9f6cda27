#!/usr/bin/env python3
"""gen.py - writes the generated part of the bad-input corpus (see README.md).

    python3 tests/corpus/gen.py          # rewrites spec/g*.* and ndjson/g*.*

Deterministic: the same files every run, and they are committed, so the
tests never depend on running this. Hand-written cases (h*) and regression
cases (regress/) are left alone. Each case is a file the engine must refuse,
with a .expect file holding a piece of the message that names the place:
a JSON path ("nodes.n.argv[1]: "), "line N", or the NDJSON line and path
("line 3: $.qty"). The expectations come from the rules of DESIGN.md
section 5 and the JSON grammar, not from running the engine.

Big cases (over 1 MiB, 10,000 nodes, 100,000 levels of nesting) are not
written here: tests/unit/test_corpus.c and tests/mnt/t_16_corpus.sh make
them at test time, to keep the repository small.
"""
import copy
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SPEC_DIR = os.path.join(HERE, "spec")
ND_DIR = os.path.join(HERE, "ndjson")

counters = {"spec": 0, "ndjson": 0}

# Start from a clean slate: the generated files of a previous run go.
for _d in (SPEC_DIR, ND_DIR):
    os.makedirs(_d, exist_ok=True)
    for _f in os.listdir(_d):
        if _f.startswith("g") and _f[1:4].isdigit():
            os.unlink(os.path.join(_d, _f))


def dumps(v):
    return json.dumps(v, ensure_ascii=False, separators=(", ", ": "))


def write(kind, name, data, expect, extra=None):
    """extra: {suffix: bytes} written next to the case (e.g. .schema)."""
    counters[kind] += 1
    d = SPEC_DIR if kind == "spec" else ND_DIR
    base = os.path.join(d, "g%03d-%s" % (counters[kind], name))
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    with open(base + (".json" if kind == "spec" else ".ndjson"), "wb") as f:
        f.write(data)
    with open(base + ".expect", "w", encoding="utf-8") as f:
        f.write(expect + "\n")
    for suffix, content in (extra or {}).items():
        if isinstance(content, str):
            content = content.encode()
        with open(base + suffix, "wb") as f:
            f.write(content)


def spec(name, data, expect):
    write("spec", name, data, expect)


# ---- how the engine shows user text in a path (schema_show_text) ----

def show(s):
    """Escapes like schema_show_text(): control characters as \\xNN,
    '"' and '\\' with a backslash, C1 controls and U+2028/9 as \\uNNNN,
    at most 64 bytes of input, then "..."."""
    b = s.encode("utf-8", "surrogateescape")
    out, i = "", 0
    while i < len(b) and i < 64:
        c = b[i]
        n = 1 if c < 0x80 else 2 if 0xC2 <= c <= 0xDF else 3 if 0xE0 <= c <= 0xEF else 4 if 0xF0 <= c <= 0xF4 else 0
        if n and (n > len(b) - i or any((x & 0xC0) != 0x80 for x in b[i + 1:i + n])):
            n = 0
        if n == 0 or c < 0x20 or c == 0x7F:
            out += "\\x%02x" % c
            i += 1
            continue
        if c in (0x22, 0x5C):
            out += "\\" + chr(c)
        elif n == 2 and c == 0xC2 and b[i + 1] < 0xA0:
            out += "\\u%04x" % b[i + 1]
        elif n == 3 and b[i:i + 2] == b"\xe2\x80" and b[i + 2] in (0xA8, 0xA9):
            out += "\\u%04x" % (0x2028 + b[i + 2] - 0xA8)
        else:
            out += b[i:i + n].decode()
        i += n
    if i < len(b):
        out += "..."
    return out


def path_str(path):
    s = ""
    for p in path:
        if isinstance(p, int):
            s += "[%d]" % p
        else:
            s += ("." if s else "") + (show(p) if p else '""')
    return s


def get_in(doc, path):
    for p in path:
        doc = doc[p]
    return doc


def set_in(doc, path, v):
    get_in(doc, path[:-1])[path[-1]] = v


# ---- 1. a wrong type at every field ----

KINDS = {
    "null": [None],
    "boolean": [True, False],
    "integer": [42, -7],
    "number": [1.5],
    "string": ["str"],
    "array": [[], ["x", 1]],
    "object": [{}, {"k": 1}],
}
KIND_ORDER = ["null", "boolean", "integer", "number", "string", "array", "object"]


ROTATE = [0]


def wrong_values(accepted, no_object_members=False, per_field=2):
    """per_field wrong values, taken in turn from every wrong kind and
    variant, so that across the fields each kind is used many times."""
    pool = []
    for k in KIND_ORDER:
        if k in accepted:
            continue
        vals = KINDS[k]
        if k == "object" and no_object_members:
            vals = [{}]
        pool.extend(vals)
    out = []
    for _ in range(min(per_field, len(pool))):
        v = pool[ROTATE[0] % len(pool)]
        ROTATE[0] += 1
        if v in out:
            v = pool[ROTATE[0] % len(pool)]
            ROTATE[0] += 1
        if v not in out:
            out.append(v)
    return out


def kind_name(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def type_cases(label, base, fields):
    """fields: [(path tuple, accepted kinds, options)]."""
    for path, accepted, opts in fields:
        for v in wrong_values(accepted, opts.get("no_object_members", False)):
            doc = copy.deepcopy(base)
            set_in(doc, path, v)
            where = path_str(path)
            name = "%s-%s-%s" % (label, where.replace("[", ".").replace("]", ""), kind_name(v))
            if isinstance(v, (list, dict)) and v:
                name += "-1"
            spec("type-" + name, dumps(doc) + "\n", where + ": ")


def F(path, *accepted, **opts):
    return (tuple(path), set(accepted), opts)


STR, INT, NUM, BOOL, ARR, OBJ = "string", "integer", "number", "boolean", "array", "object"

TOP = {
    "name": "gen", "description": "generated",
    "inputs": {"x": {"format": "lines"}},
    "outputs": {"y": {"from": "p"}},
    "nodes": {"p": {"op": "pass", "in": "x", "description": "copies x"}},
}
type_cases("top", TOP, [
    F(["name"], STR), F(["description"], STR),
    F(["inputs"], OBJ), F(["inputs", "x"], OBJ), F(["inputs", "x", "format"], STR),
    F(["outputs"], OBJ), F(["outputs", "y"], OBJ), F(["outputs", "y", "from"], STR),
    F(["nodes"], OBJ), F(["nodes", "p"], OBJ), F(["nodes", "p", "op"], STR),
    F(["nodes", "p", "in"], STR, ARR, no_object_members=True),
    F(["nodes", "p", "description"], STR),
])

OPTS = {
    "options": {
        "s": {"type": "string", "enum": ["a", "b"], "default": "a", "description": "a letter"},
        "i": {"type": "integer", "minimum": 1, "maximum": 9, "default": 5},
        "f": {"type": "number", "minimum": 0.5, "maximum": 2.5, "default": 1.5},
        "b": {"type": "boolean", "default": False},
    },
    "inputs": {"x": {"format": "lines"}},
    "outputs": {"y": {"from": "g"}},
    "nodes": {"g": {"op": "grep", "in": "x", "pattern": "${s}${i}${f}${b}"}},
}
type_cases("opt", OPTS, [
    F(["options"], OBJ),
    F(["options", "s"], OBJ), F(["options", "s", "type"], STR),
    F(["options", "s", "enum"], ARR), F(["options", "s", "enum", 0], STR),
    F(["options", "s", "default"], STR), F(["options", "s", "description"], STR),
    F(["options", "i", "minimum"], INT, NUM), F(["options", "i", "maximum"], INT, NUM),
    F(["options", "i", "default"], INT),
    F(["options", "f", "minimum"], INT, NUM), F(["options", "f", "default"], INT, NUM),
    F(["options", "b", "default"], BOOL),
])

SCHEMA = {
    "inputs": {"x": {"format": "json", "schema": {
        "type": "object", "title": "order", "description": "one order",
        "required": ["id"],
        "properties": {
            "id": {"type": "integer", "minimum": 1, "maximum": 9},
            "name": {"type": ["string", "null"], "minLength": 1, "maxLength": 5, "enum": ["a", "bb"]},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
    }}},
    "outputs": {"y": {"from": "x"}},
}
S = ["inputs", "x", "schema"]
type_cases("schema", SCHEMA, [
    F(S, OBJ), F(S + ["type"], STR, ARR), F(S + ["title"], STR), F(S + ["description"], STR),
    F(S + ["required"], ARR), F(S + ["required", 0], STR),
    F(S + ["properties"], OBJ), F(S + ["properties", "id"], OBJ),
    F(S + ["properties", "id", "type"], STR, ARR),
    F(S + ["properties", "id", "minimum"], INT, NUM), F(S + ["properties", "id", "maximum"], INT, NUM),
    F(S + ["properties", "name", "type", 0], STR),
    F(S + ["properties", "name", "minLength"], INT), F(S + ["properties", "name", "maxLength"], INT),
    F(S + ["properties", "name", "enum"], ARR),
    F(S + ["properties", "tags", "items"], OBJ), F(S + ["properties", "tags", "items", "type"], STR, ARR),
])

# One node of each operator, with every param it has.
OPS = {
    "pass": {"op": "pass", "in": "x"},
    "upper": {"op": "upper", "in": "x"},
    "lower": {"op": "lower", "in": ["x"]},
    "merge": {"op": "merge", "in": ["x", "x"]},
    "concat": {"op": "concat", "in": ["x", "x"]},
    "exec": {"op": "exec", "in": "x", "argv": ["sort", "-r"], "env": {"LC_ALL": "C"},
             "accept_exit": [0, 1], "timeout_ms": 1000},
    "grep": {"op": "grep", "in": "x", "pattern": "^a", "invert": False, "ignore_case": True},
    "replace": {"op": "replace", "in": "x", "pattern": "(a)", "with": "\\1b", "global": True},
    "head": {"op": "head", "in": "x", "n": 3},
    "count": {"op": "count", "in": "x", "what": "bytes"},
    "template": {"op": "template", "in": "x", "text": "{id}: {item}"},
    "pick": {"op": "pick", "in": "x", "fields": ["id", "item"]},
    "filter": {"op": "filter", "in": "x", "field": "item", "matches": "^t"},
    "split": {"op": "split", "in": "x", "pattern": "a", "ignore_case": False},
    "delay": {"op": "delay", "in": "x", "ms": 10},
    "invoke": {"op": "invoke", "in": "x", "spec": "shout", "options": {"mark": "!"}},
}
JSON_OPS = {"template", "pick", "filter"}
PARAMS = {
    "exec": [F(["argv"], ARR), F(["argv", 1], STR), F(["env"], OBJ), F(["env", "LC_ALL"], STR),
             F(["accept_exit"], ARR), F(["accept_exit", 1], INT), F(["timeout_ms"], INT)],
    "grep": [F(["pattern"], STR), F(["invert"], BOOL), F(["ignore_case"], BOOL)],
    "replace": [F(["pattern"], STR), F(["with"], STR), F(["global"], BOOL)],
    "head": [F(["n"], INT)],
    "count": [F(["what"], STR)],
    "template": [F(["text"], STR)],
    "pick": [F(["fields"], ARR), F(["fields", 0], STR)],
    "filter": [F(["field"], STR), F(["matches"], STR)],
    "split": [F(["pattern"], STR), F(["ignore_case"], BOOL)],
    "delay": [F(["ms"], INT)],
    "invoke": [F(["spec"], STR), F(["options"], OBJ)],
}


def op_spec(op, node):
    return {
        "inputs": {"x": {"format": "json" if op in JSON_OPS else "lines"}},
        "outputs": {"y": {"from": "n"}},
        "nodes": {"n": node},
    }


for op, node in OPS.items():
    fields = [F(["nodes", "n", "op"], STR)]
    if op != "exec":  # exec may have no inputs: [] and {} are fine
        fields.append(F(["nodes", "n", "in"], STR, ARR if op != "invoke" else None,
                        no_object_members=True))
    else:
        fields.append(F(["nodes", "n", "in"], STR, ARR, OBJ))
    for p, acc, o in PARAMS.get(op, []):
        fields.append((("nodes", "n") + p, acc, o))
    type_cases(op, op_spec(op, node), fields)

# ---- 2. required params, unknown params, missing "in", per operator ----

REQUIRED = {"exec": ["argv"], "grep": ["pattern"], "replace": ["pattern", "with"], "head": ["n"],
            "template": ["text"], "pick": ["fields"], "filter": ["field"], "split": ["pattern"],
            "delay": ["ms"], "invoke": ["spec"]}
for op, node in OPS.items():
    for p in REQUIRED.get(op, []):
        n = dict(node)
        del n[p]
        spec("missing-param-%s-%s" % (op, p), dumps(op_spec(op, n)) + "\n",
             "nodes.n.%s: missing required parameter" % p)
    n = dict(node)
    n["colour"] = "red"
    spec("unknown-param-%s" % op, dumps(op_spec(op, n)) + "\n",
         'nodes.n.colour: unknown parameter for operator "%s"' % op)
    if op != "exec":
        n = dict(node)
        del n["in"]
        doc = op_spec(op, n)
        doc["outputs"]["z"] = {"from": "x"}  # keep x used
        spec("missing-in-%s" % op, dumps(doc) + "\n", "nodes.n.in: missing required field")

# ---- 3. self-loops and cycles ----

for op, node in OPS.items():
    n = dict(node)
    n["in"] = "n" if op == "invoke" else ["x", "n"]
    if op == "split":
        n["in"] = ["x", "n.rest"]
    doc = op_spec(op, n)
    doc["outputs"]["z"] = {"from": "x"}
    spec("self-loop-%s" % op, dumps(doc) + "\n", "nodes.n.in: cycle n -> n")

for k in range(2, 9):
    nodes = {"n0": {"op": "merge", "in": ["x", "n%d" % (k - 1)]}}
    for i in range(1, k):
        nodes["n%d" % i] = {"op": ["pass", "upper", "lower", "head"][i % 4], "in": "n%d" % (i - 1)}
        if nodes["n%d" % i]["op"] == "head":
            nodes["n%d" % i]["n"] = 5
    doc = {"inputs": {"x": {}}, "outputs": {"y": {"from": "n%d" % (k - 1)}}, "nodes": nodes}
    ring = " -> ".join("n%d" % i for i in range(k)) + " -> n0"
    spec("cycle-of-%d" % k, dumps(doc) + "\n", "nodes.n0.in: cycle " + ring)

# two separate cycles and a node behind one: both cycles reported
doc = {"inputs": {"x": {}}, "outputs": {"y": {"from": "c"}, "z": {"from": "x"}},
       "nodes": {"a": {"op": "pass", "in": "b"}, "b": {"op": "pass", "in": "a"},
                 "c": {"op": "upper", "in": "a"},
                 "d": {"op": "merge", "in": ["d", "x"]}}}
spec("two-cycles-a", dumps(doc) + "\n", "nodes.a.in: cycle a -> b -> a")
spec("two-cycles-d", dumps(doc) + "\n", "nodes.d.in: cycle d -> d")

# ---- 4. names outside [A-Za-z0-9._-] (or empty, too long, leading dot) ----

BAD_NAMES = ["", ".hidden", "a b", "a/b", "a\\b", "caf\u00e9", "x" * 256, "tab\there",
             "semi;colon", "dollar$", "star*", 'quo"te', "new\nline", "\u2028", "nul\u0001"]
for i, bad in enumerate(BAD_NAMES):
    tag = "%02d" % i
    doc = {"inputs": {bad: {}}, "outputs": {"y": {"from": "p"}}, "nodes": {"p": {"op": "pass", "in": bad}}}
    spec("bad-input-tag-" + tag, dumps(doc) + "\n", "inputs.%s: invalid name" % path_str([bad])[:300])
    doc = {"inputs": {"x": {}}, "outputs": {"y": {"from": bad}}, "nodes": {bad: {"op": "pass", "in": "x"}}}
    spec("bad-node-name-" + tag, dumps(doc) + "\n", "nodes.%s: invalid name" % path_str([bad]))
    doc = {"inputs": {"x": {}}, "outputs": {bad: {"from": "x"}}}
    spec("bad-output-tag-" + tag, dumps(doc) + "\n", "outputs.%s: invalid name" % path_str([bad]))
for i, bad in enumerate(["", "9lives", "a-b", "a.b", "caf\u00e9", "x" * 256, "a b", "$x"]):
    doc = {"options": {bad: {"type": "string", "default": "v"}},
           "inputs": {"x": {}}, "outputs": {"y": {"from": "x"}}}
    spec("bad-option-name-%02d" % i, dumps(doc) + "\n",
         "options.%s: invalid option name" % path_str([bad]))

# ---- 5. not an object at the top ----

for v in [[], ["nodes"], "spec", 1, 1.5, True, False, None]:
    spec("top-level-" + kind_name(v), dumps(v) + "\n", "expected a JSON object, got " + kind_name(v))

# ---- 6. broken JSON text: the error is on a known line ----

PIZZA = """{
  "name": "pizza",
  "description": "the gourmet pizza of the Livestack docs",
  "options": {
    "spice": {"type": "string", "enum": ["mild", "hot", "extra"], "default": "mild"},
    "size":  {"type": "integer", "minimum": 20, "maximum": 50, "default": 30}
  },
  "inputs": {
    "dough":    {"format": "lines"},
    "toppings": {"format": "json", "schema": {"type": "object", "required": ["name"]}}
  },
  "outputs": {
    "pizza":   {"from": "bake"},
    "receipt": {"from": "count"}
  },
  "nodes": {
    "knead": {"op": "upper", "in": "dough"},
    "names": {"op": "template", "in": "toppings", "text": "{name}"},
    "bake":  {"op": "exec", "in": ["knead", "names"],
              "argv": ["sed", "s/^/${spice} ${size}cm: /"]},
    "count": {"op": "count", "in": "toppings"}
  }
}
"""


def line_of(text, pos):
    return text.count("\n", 0, pos) + 1


# Truncated: the text ends in the middle of a line; jansson stops at the end.
n_trunc = 0
for pos in range(7, len(PIZZA) - 2, 29):
    if PIZZA[pos - 1] == "\n" or PIZZA[:pos].strip() == "":
        continue
    cut = PIZZA[:pos]
    n_trunc += 1
    spec("truncated-at-%d" % pos, cut, "line %d" % line_of(PIZZA, pos))

# Byte injected inside a string value: a control character or bad UTF-8.
value_starts = [i + 1 for i in range(len(PIZZA)) if PIZZA[i] == '"' and PIZZA[i - 2:i] == ": "]
BAD_BYTES = [
    ("ctl-01", "\x01"), ("ctl-08", "\x08"), ("ctl-0b", "\x0b"), ("ctl-0c", "\x0c"),
    ("ctl-0d", "\r"), ("ctl-1b", "\x1b"), ("ctl-1f", "\x1f"), ("tab", "\t"),
    ("cont-80", "\udc80"), ("cont-bf", "\udcbf"), ("overlong-c0", "\udcc0\udc80"),
    ("overlong-c1", "\udcc1\udcbf"), ("overlong-e0", "\udce0\udc80\udc80"),
    ("surrogate-ed", "\udced\udca0\udc80"), ("above-10ffff", "\udcf4\udc90\udc80\udc80"),
    ("f5", "\udcf5\udc80\udc80\udc80"), ("fe", "\udcfe"), ("ff", "\udcff"),
    ("cut-2-byte", "\udcc3"), ("cut-3-byte", "\udce2\udc82"), ("latin1-e9", "\udce9"),
]
for k, (label, bad) in enumerate(BAD_BYTES):
    pos = value_starts[(k * 7) % len(value_starts)]
    text = PIZZA[:pos] + bad + PIZZA[pos:]
    spec("byte-in-string-%s" % label, text, "line %d" % line_of(PIZZA, pos))

# A stray byte between tokens.
token_gaps = [i for i in range(1, len(PIZZA)) if PIZZA[i] == " " and PIZZA[i - 1] in ",:"]
for k, (label, bad) in enumerate([("ctl-01", "\x01"), ("ff", "\udcff"), ("at", "@"), ("hash", "#"),
                                  ("semicolon", ";"), ("letter", "x"), ("nbsp", "\u00a0"),
                                  ("bom", "\ufeff"), ("backslash", "\\"), ("quote", "'")]):
    pos = token_gaps[(k * 11) % len(token_gaps)]
    text = PIZZA[:pos] + bad + PIZZA[pos:]
    spec("byte-between-tokens-%s" % label, text, "line %d" % line_of(PIZZA, pos))

# A NUL byte anywhere: refused before parsing, with its offset.
for pos in [0, 1, 40, 200, 555, len(PIZZA) - 3, len(PIZZA)]:
    text = PIZZA.encode()
    spec("nul-at-%d" % pos, text[:pos] + b"\0" + text[pos:], "contains a NUL byte (at byte %d)" % pos)

# A member written twice: jansson names the line of the second key.
dup_members = []
for lineno, line in enumerate(PIZZA.split("\n"), 1):
    s = line.strip()
    if (s.startswith('"') and s.endswith(",") and s.count("{") == s.count("}")
            and s.count("[") == s.count("]")):
        dup_members.append(lineno)
lines = PIZZA.split("\n")
for lineno in dup_members:
    text = "\n".join(lines[:lineno] + [lines[lineno - 1]] + lines[lineno:])
    key = lines[lineno - 1].strip().split('"')[1]
    spec("duplicate-%s-line-%d" % (key, lineno + 1), text, "line %d" % (lineno + 1))
# ... and inline, in the node objects
for lineno in (17, 18, 21):
    line = lines[lineno - 1]
    text = "\n".join(lines[:lineno - 1] + [line.replace('{"op": ', '{"in": "x", "op": ', 1).replace('"in": "x", ', '"in": "x", "in": "y", ', 1)] + lines[lineno:])
    spec("duplicate-in-line-%d" % lineno, text, "line %d" % lineno)

# Literals JSON does not have, in place of a value.
for k, lit in enumerate(["NaN", "-Infinity", "undefined", "None", "TRUE", "0x1F", "1_000", ".5",
                         "5.", "1e", "--1", "'mild'", "`mild`", "mild", "[,]"]):
    text = PIZZA.replace('"default": 30', '"default": ' + lit, 1)
    spec("literal-%02d" % k, text, "line 6")

# ---- 7. range and value mistakes in params ----

for op, key, val, expect in [
        ("head", "n", -1, "nodes.n.n: must be 0 or more"),
        ("head", "n", -9223372036854775807, "nodes.n.n: must be 0 or more"),
        ("delay", "ms", -1, "nodes.n.ms: must be from 0 to 86400000"),
        ("delay", "ms", 86400001, "nodes.n.ms: must be from 0 to 86400000"),
        ("exec", "timeout_ms", -5, "nodes.n.timeout_ms: must be more than 0"),
        ("exec", "accept_exit", [-1], "nodes.n.accept_exit"),
        ("exec", "accept_exit", [0, 300], "nodes.n.accept_exit"),
        ("exec", "argv", [], "nodes.n.argv"),
        ("exec", "argv", ["", "x"], "nodes.n.argv"),
        ("count", "what", "words", "nodes.n.what"),
        ("count", "what", "", "nodes.n.what"),
        ("grep", "pattern", "(", "nodes.n.pattern: invalid regular expression"),
        ("grep", "pattern", "a**{", "nodes.n.pattern: regular expression refused: a quantifier applied to a quantifier"),
        ("grep", "pattern", "[[:nope:]]", "nodes.n.pattern: invalid regular expression"),
        ("grep", "pattern", "a{1", "nodes.n.pattern: invalid regular expression"),
        ("grep", "pattern", "\\", "nodes.n.pattern: invalid regular expression"),
        ("split", "pattern", "[z-a]", "nodes.n.pattern: invalid regular expression"),
        ("replace", "pattern", "(a){3,2}", "nodes.n.pattern: invalid regular expression"),
        ("replace", "with", "\\9", "nodes.n.with: \\9 refers to group 9"),
        ("filter", "matches", "+", "nodes.n.matches: invalid regular expression"),
        ("template", "text", "{", 'nodes.n.text: unclosed "{"'),
        ("template", "text", "}", 'nodes.n.text: single "}"'),
        ("template", "text", "{a{b}}", 'nodes.n.text: unclosed "{"'),
        ("template", "text", "{}", 'nodes.n.text: empty "{}"'),
        ("template", "text", "a}}b}", 'nodes.n.text: single "}"')]:
    n = dict(OPS[op])
    n[key] = val
    spec("value-%s-%s-%s" % (op, key, "".join(c for c in dumps(val) if c.isalnum())[:12] or "x"),
         dumps(op_spec(op, n)) + "\n", expect)

# ---- NDJSON lines for an input with a schema ----

ORDERS = {
    "type": "object",
    "required": ["id", "item", "qty", "status"],
    "properties": {
        "id": {"type": "integer", "minimum": 1},
        "item": {"type": "string", "minLength": 1, "maxLength": 40},
        "qty": {"type": "integer", "minimum": 1, "maximum": 100},
        "status": {"enum": ["pending", "shipped", "cancelled"]},
        "customer": {"type": "string"},
    },
}
ORDERS_TEXT = dumps(ORDERS) + "\n"
GOOD = [
    {"id": 1, "item": "tea", "qty": 2, "status": "shipped", "customer": "ann"},
    {"id": 2, "item": "cake", "qty": 1, "status": "pending"},
    {"id": 3, "item": "coffee", "qty": 5, "status": "cancelled", "customer": "bo"},
]


def nd(name, bad_line, expect_tail, schema=True, before=None, after=True):
    """`before` good lines (cycling 0..3), the bad line, one good line after."""
    k = (counters["ndjson"] % 4) if before is None else before
    lines = [dumps(GOOD[i % 3]).encode() for i in range(k)]
    lines.append(bad_line.encode("utf-8", "surrogateescape") if isinstance(bad_line, str) else bad_line)
    if after:
        lines.append(dumps(GOOD[0]).encode())
    data = b"\n".join(lines) + b"\n"
    write("ndjson", name, data, "line %d: %s" % (k + 1, expect_tail),
          {".schema": ORDERS_TEXT} if schema else None)


def order(**kw):
    o = dict(GOOD[0])
    for k, v in kw.items():
        if v is DROP:
            del o[k]
        else:
            o[k] = v
    return dumps(o)


DROP = object()
for f in ["id", "item", "qty", "status"]:
    nd("missing-" + f, order(**{f: DROP}), "$.%s: required property is missing" % f)
for f, v, why in [
        ("id", "1", "expected integer, got string"), ("id", 1.5, "expected integer, got number"),
        ("id", None, "expected integer, got null"), ("id", True, "expected integer, got boolean"),
        ("id", [1], "expected integer, got array"), ("id", {"n": 1}, "expected integer, got object"),
        ("id", 0, "0 is below minimum 1"), ("id", -5, "-5 is below minimum 1"),
        ("item", 5, "expected string, got integer"), ("item", None, "expected string, got null"),
        ("item", "", "0 characters, fewer than minLength 1"),
        ("item", "x" * 41, "41 characters, more than maxLength 40"),
        ("item", "\u00e9" * 41, "41 characters, more than maxLength 40"),
        ("item", "x" * 5000, "5000 characters, more than maxLength 40"),
        ("qty", 0, "0 is below minimum 1"), ("qty", 101, "101 is above maximum 100"),
        ("qty", "2", "expected integer, got string"), ("qty", 2.5, "expected integer, got number"),
        ("qty", 1e300, ""), ("qty", -9223372036854775807, ""),
        ("status", "lost", '"lost" is not one of'), ("status", "Shipped", '"Shipped" is not one of'),
        ("status", 1, "1 is not one of"), ("status", None, "null is not one of"),
        ("status", ["shipped"], '["shipped"] is not one of'),
        ("customer", 5, "expected string, got integer"), ("customer", [], "expected string, got array"),
        ("customer", {}, "expected string, got object"), ("customer", False, "expected string, got boolean")]:
    nd("%s-%s" % (f, kind_name(v)) + ("-" + "".join(c for c in str(v) if c.isalnum())[:10] if kind_name(v) in ("integer", "string") else ""),
       order(**{f: v}), "$.%s: %s" % (f, why))
for v in [[], [GOOD[0]], "order", 1, 1.5, True, False, None]:
    nd("not-an-object-%s" % kind_name(v), dumps(v), "$: expected object, got %s" % kind_name(v))

# Lines that are not JSON, with and without a schema.
NOT_JSON = [
    ("truncated", order()[:-1]), ("trailing-comma", order()[:-1] + ", }"),
    ("single-quotes", order().replace('"', "'")), ("nan", order(qty=0).replace(": 0", ": NaN")),
    ("infinity", order(qty=0).replace(": 0", ": Infinity")), ("unquoted-keys", '{id: 1, item: "tea"}'),
    ("comment", order() + " // ok"), ("two-values", order() + " " + order()),
    ("close-brace", "}"), ("ctl-in-string", order(item="tXea").replace("X", "\x01")), ("tab-in-string", order(item="tXea").replace("X", "\t")),
    ("escape-in-string", order(item="X[31mtea").replace("X", "\x1b")),
    ("bad-utf8-ff", order(item="tea\udcff")), ("bad-utf8-c3-28", order(item="tea\udcc3(")),
    ("bad-utf8-surrogate", order(item="tea\udced\udca0\udc80")), ("latin1", order(item="caf\udce9")),
    ("nul-byte-outside", order() + "\x00"), ("nul-byte-in-string", order(item="tXea").replace("X", "\x00")),
    ("escaped-nul", order(item="tea").replace("tea", "t\\u0000ea")),
    ("lone-surrogate", order(item="tea").replace("tea", "\\udc00")),
    ("real-overflow", order(qty=0).replace(": 0", ": 1e400")),
    ("integer-overflow", order(qty=0).replace(": 0", ": 123456789012345678901234567890")),
    ("leading-zero", order(qty=0).replace(": 0", ": 007")),
    ("deep-3000", "[" * 3000 + "]" * 3000), ("bom", "\ufeff" + order()),
    ("csv", "1,tea,2,shipped,ann"), ("python-dict", "{'id': 1, 'item': 'tea', 'ok': True}"),
    ("pretty-printed-first-line", "{"), ("xml", "<order id=\"1\"/>"), ("bare-word", "shipped"),
]
for label, line in NOT_JSON:
    nd("syntax-" + label, line, "not JSON")
for label, line in NOT_JSON[::3]:
    nd("syntax-no-schema-" + label, line, "not JSON", schema=False)
# The bad line last, without a newline: refused when the writer closes.
for label, line in NOT_JSON[:4]:
    k = 2
    data = b"\n".join([dumps(GOOD[i]).encode() for i in range(k)] + [line.encode()])
    write("ndjson", "last-line-unterminated-" + label, data, "line %d: not JSON" % (k + 1),
          {".schema": ORDERS_TEXT})


if __name__ == "__main__":
    print("gen.py: %d spec cases in %s, %d ndjson cases in %s" %
          (counters["spec"], os.path.relpath(SPEC_DIR), counters["ndjson"], os.path.relpath(ND_DIR)),
          file=sys.stderr)
