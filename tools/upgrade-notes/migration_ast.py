"""What migrations.py reads an alembic upgrade() with: call and argument helpers over `ast`, the
names a module binds, and MySQL column-type capacities (a narrowing loses data). No I/O."""

import ast
import re

# MySQL capacity of string/binary types (bytes or characters, whichever MySQL counts).
TINY, TEXT, MEDIUM, LONG = 255, 65535, 16777215, 4294967295
SIZED = {
    "tinytext": ("text", TINY), "text": ("text", TEXT), "unicodetext": ("text", TEXT),
    "mediumtext": ("text", MEDIUM), "longtext": ("text", LONG), "json": ("text", LONG),
    "tinyblob": ("binary", TINY), "blob": ("binary", TEXT), "largebinary": ("binary", TEXT),
    "mediumblob": ("binary", MEDIUM), "longblob": ("binary", LONG),
    "boolean": ("int", 1), "tinyint": ("int", 1), "smallinteger": ("int", 2), "smallint": ("int", 2),
    "integer": ("int", 4), "int": ("int", 4), "biginteger": ("int", 8), "bigint": ("int", 8),
    "float": ("float", 4), "real": ("float", 4), "double": ("float", 8), "double_precision": ("float", 8),
    "datetime": ("datetime", 1), "timestamp": ("datetime", 1), "date": ("date", 1),
    "uuid": ("uuid", 1), "uuidtype": ("uuid", 1),
}
VARCHAR_LIKE = {"string", "varchar", "char", "nvarchar", "nchar", "unicode", "autostring"}
TEXT_BY_LENGTH = {"text", "unicodetext", "largebinary", "blob"}

WRITE_SQL = re.compile(r"^\s*(update|delete|insert|replace|truncate|drop|alter|rename|merge|load)\b", re.I)
READ_SQL = re.compile(r"^\s*(select|show|describe|explain|with\s+\w+\s+as\s*\(\s*select|set\b|pragma)", re.I)
CORE_WRITES = {"update", "delete", "insert"}
SESSION_WRITES = {"add", "add_all", "merge", "delete", "bulk_save_objects", "bulk_insert_mappings", "bulk_update_mappings"}


def call_name(node):
    """Last name of a call's function: `op.drop_table(...)` -> "drop_table"."""
    func = node.func if isinstance(node, ast.Call) else node
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def receiver(node):
    """Name the method is called on: `batch_op.drop_column(...)` -> "batch_op"."""
    if isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
        return node.func.value.id
    return None


def kwarg(node, name):
    for kw in node.keywords:
        if kw.arg == name:
            return kw.value
    return None


def arg(node, index, name=None):
    if name is not None and kwarg(node, name) is not None:
        return kwarg(node, name)
    return node.args[index] if len(node.args) > index else None


class Scope:
    """Module-level names (constants, functions) plus one function's local assignments.

    A name may be bound several times (`sql = ...; sql = sql[:-1] + ";"`, loop variables):
    every binding is kept, and a statement counts as a write if any of them writes.
    """

    def __init__(self, module_names, local_names):
        self.module = module_names
        self.local = local_names

    def bindings(self, name):
        return self.local.get(name) or self.module.get(name) or []

    def resolve(self, node, depth=0):
        """Follows a name bound exactly once to its value (for types and table names)."""
        while isinstance(node, ast.Name) and depth < 10:
            found = self.bindings(node.id)
            if len(found) != 1:
                return node
            node, depth = found[0], depth + 1
        return node

    def literal(self, node):
        """The one string a node stands for, or None."""
        found = self.strings(node)
        return found[0] if len(found) == 1 and found[0] is not None else None

    def strings(self, node, seen=None):
        """Every string a node may stand for; None in the list marks a part that is unknown."""
        seen = set() if seen is None else seen
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [node.value]
        if isinstance(node, ast.JoinedStr):
            return ["".join(v.value if isinstance(v, ast.Constant) else "?" for v in node.values)]
        if isinstance(node, ast.Name):
            if node.id in seen or not self.bindings(node.id):
                return [] if node.id in seen else [None]
            seen = seen | {node.id}
            return [s for value in self.bindings(node.id) for s in self.strings(value, seen)]
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
            return self.strings(node.left, seen) + self.strings(node.right, seen)
        if isinstance(node, ast.Subscript):
            return self.strings(node.value, seen)
        if isinstance(node, (ast.List, ast.Tuple)):
            return [s for e in node.elts for s in self.strings(e, seen)]
        if isinstance(node, ast.Call):
            name = call_name(node)
            if name == "text" and node.args:
                return self.strings(node.args[0], seen)
            if name in ("format", "strip", "rstrip", "lstrip", "replace") and isinstance(node.func, ast.Attribute):
                return self.strings(node.func.value, seen)
            if name == "join" and node.args:
                return self.strings(node.args[0], seen)
        return [None]

    def expand(self, node, seen=None):
        """The node and, through names, everything bound to them (for statement builders)."""
        seen = set() if seen is None else seen
        out = [node]
        for n in ast.walk(node):
            if isinstance(n, ast.Name) and n.id not in seen:
                seen.add(n.id)
                for value in self.bindings(n.id):
                    out += self.expand(value, seen)
        return out


def type_capacity(node, scope):
    """(family, size) of a column type as MySQL stores it, or None when unknown."""
    node = scope.resolve(node)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "with_variant":
        dialect = scope.literal(arg(node, 1, "dialect_name")) if len(node.args) > 1 or kwarg(node, "dialect_name") else None
        if dialect == "mysql":
            return type_capacity(node.args[0], scope)
        return type_capacity(node.func.value, scope)
    name = call_name(node) if isinstance(node, (ast.Call, ast.Attribute, ast.Name)) else None
    if name is None:
        return None
    key = name.lower()
    length = None
    if isinstance(node, ast.Call):
        raw = scope.resolve(arg(node, 0, "length")) if (node.args or kwarg(node, "length")) else None
        if isinstance(raw, ast.Constant) and isinstance(raw.value, int):
            length = raw.value
    if key in VARCHAR_LIKE:
        return ("text", length if length is not None else TINY)
    if key in TEXT_BY_LENGTH and length is not None:
        family = "binary" if "blob" in key or "binary" in key else "text"
        size = next(s for s in (TINY, TEXT, MEDIUM, LONG) if length <= s) if length <= LONG else LONG
        return (family, size)
    if key == "enum" and isinstance(node, ast.Call):
        values = [scope.literal(a) for a in node.args]
        if values and all(v is not None for v in values):
            return ("enum", frozenset(values))
        return None
    return SIZED.get(key)


def type_text(node):
    try:
        return ast.unparse(node)
    except Exception:  # pragma: no cover - unparse handles every expression ast produces
        return "?"


def narrowing(old, new, scope):
    """None when the change provably keeps every value; else why it may not."""
    before, after = type_capacity(old, scope), type_capacity(new, scope)
    if before is None or after is None:
        return f"type change {type_text(old)} -> {type_text(new)} that cannot be shown to widen"
    if before[0] != after[0]:
        return f"type change {type_text(old)} -> {type_text(new)} (different kind of value)"
    if before[0] == "enum":
        lost = sorted(before[1] - after[1])
        return f"enum loses {', '.join(lost)}" if lost else None
    if after[1] < before[1]:
        return f"type narrows {type_text(old)} -> {type_text(new)}"
    return None


def bind(names, node):
    """Records `x = v`, `x += v`, `x: T = v` and `for x in v` bindings of plain names."""
    if isinstance(node, ast.Assign):
        pairs = [(t, node.value) for t in node.targets]
    elif isinstance(node, (ast.AugAssign, ast.AnnAssign)) and node.value is not None:
        pairs = [(node.target, node.value)]
    elif isinstance(node, (ast.For, ast.AsyncFor)):
        pairs = [(node.target, node.iter)]
    else:
        return
    for target, value in pairs:
        if isinstance(target, ast.Name):
            names.setdefault(target.id, []).append(value)
