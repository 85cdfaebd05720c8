"""Reads a ZenML or MLflow wheel's alembic migrations and metadata; prints JSON for upgrade-notes.

Usage:
  python3 migrations.py wheel <zenml-X.Y.Z-*.whl>   migrations + requirements of a release (mlflow-*.whl too)
  python3 migrations.py wheels <a.whl> <b.whl> ...  the same for each, as a list (one interpreter start)
  python3 migrations.py dir <directory>            migrations of loose files (tests)

A migration is judged by the operations its upgrade() performs (found with `ast`, never by
its title): dropping or renaming a table or column, narrowing a column's type, and writing
data (UPDATE/DELETE/INSERT SQL, SQLAlchemy update/delete/insert, bulk and ORM writes) make it
destructive. SQL the reader cannot resolve to a literal counts as a write: a false alarm is
cheaper than a missed one.
"""

import ast
import json
import os
import re
import sys
import zipfile
from email.parser import Parser

from migration_ast import (  # noqa: E402  (beside this script: python adds its folder to sys.path)
    WRITE_SQL,
    READ_SQL,
    CORE_WRITES,
    SESSION_WRITES,
    call_name,
    receiver,
    kwarg,
    arg,
    Scope,
    type_text,
    narrowing,
    bind,
)

# Where each project keeps its alembic revisions in the wheel (MLflow's tracking store; its auth
# store's few revisions live apart and are not read here).
VERSIONS_DIRS = ("zenml/zen_stores/migrations/versions/", "mlflow/store/db_migrations/versions/")

class UpgradeReader:
    """Collects the operations of one migration's upgrade() and the helpers it calls."""

    def __init__(self, module):
        self.functions = {n.name: n for n in module.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        self.constants = {}
        for n in module.body:
            bind(self.constants, n)
        self.operations = []
        self.notes = set()
        self.visited = set()

    def record(self, node, op, target, reason=None):
        self.operations.append({"op": op, "target": target, "line": node.lineno, "destructive": reason is not None, "reason": reason})

    def read(self, name):
        if name in self.visited or name not in self.functions:
            return
        self.visited.add(name)
        fn = self.functions[name]
        local = {}
        batch_tables = {}
        for node in ast.walk(fn):
            bind(local, node)
            if isinstance(node, (ast.With, ast.AsyncWith)):
                for item in node.items:
                    ctx = item.context_expr
                    if isinstance(ctx, ast.Call) and call_name(ctx) == "batch_alter_table" and isinstance(item.optional_vars, ast.Name):
                        batch_tables[item.optional_vars.id] = ctx
        scope = Scope(self.constants, local)

        def table_of(call):
            """The table a call works on: its first argument, or the batch context's table."""
            owner = receiver(call)
            if owner in batch_tables:
                return scope.literal(arg(batch_tables[owner], 0, "table_name")) or "?", 0
            return scope.literal(arg(call, 0, "table_name")) or "?", 1

        for node in ast.walk(fn):
            if isinstance(node, ast.Attribute) and node.attr == "server_version_info":
                self.notes.add("branches on the database server's version")
            if not isinstance(node, ast.Call):
                continue
            name = call_name(node)
            if isinstance(node.func, ast.Name) and name in self.functions:
                self.read(name)
                continue
            self.classify(node, name, scope, table_of)

    def classify(self, node, name, scope, table_of):
        if name == "drop_table":
            table, _ = table_of(node)
            self.record(node, name, table, f"drops table {table}")
        elif name == "rename_table":
            old, new = scope.literal(arg(node, 0, "old_table_name")) or "?", scope.literal(arg(node, 1, "new_table_name")) or "?"
            self.record(node, name, old, f"renames table {old} to {new}")
        elif name in ("drop_column", "alter_column", "add_column"):
            table, first = table_of(node)
            col_node = arg(node, first, "column_name")
            if name == "add_column":
                col = col_node.args[0] if isinstance(col_node, ast.Call) and col_node.args else col_node
                self.record(node, name, f"{table}.{scope.literal(col) or '?'}")
                return
            column = f"{table}.{scope.literal(col_node) or '?'}"
            if name == "drop_column":
                self.record(node, name, column, f"drops column {column}")
                return
            reasons = []
            new_name = kwarg(node, "new_column_name")
            if new_name is not None:
                reasons.append(f"renames column {column} to {scope.literal(new_name) or '?'}")
            new_type = kwarg(node, "type_")
            if new_type is not None:
                old_type = kwarg(node, "existing_type")
                why = narrowing(old_type, new_type, scope) if old_type is not None else f"type change to {type_text(new_type)} from an unstated type"
                if why:
                    reasons.append(f"{column}: {why}")
            self.record(node, name, column, "; ".join(reasons) or None)
        elif name == "bulk_insert":
            table = scope.resolve(arg(node, 0, "table"))
            label = scope.literal(table.args[0]) if isinstance(table, ast.Call) and call_name(table) == "table" and table.args else None
            self.record(node, name, label or "?", f"bulk-inserts rows into {label or 'a table'}")
        elif name == "execute" and (node.args or kwarg(node, "sqltext") or kwarg(node, "statement")):
            statement = node.args[0] if node.args else (kwarg(node, "sqltext") or kwarg(node, "statement"))
            why = self.sql_write(statement, scope)
            self.record(node, "execute", (receiver(node) or "?") + ".execute", why)
        elif name in SESSION_WRITES and (receiver(node) or "").lower().endswith("session"):
            self.record(node, f"session.{name}", "orm", f"writes rows through the ORM (session.{name})")
        elif name in ("update", "delete") and isinstance(node.func, ast.Attribute) and self.is_query(node.func.value):
            self.record(node, f"query.{name}", "orm", f"bulk {name} through an ORM query")
        elif name in ("create_table", "create_index", "drop_index", "create_foreign_key", "drop_constraint",
                      "create_unique_constraint", "create_primary_key", "create_check_constraint"):
            target = scope.literal(arg(node, 0)) or "?"
            self.record(node, name, target)

    @staticmethod
    def is_query(node):
        """`session.query(...)....` chains: their .update()/.delete() write in bulk."""
        while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr == "query":
                return True
            node = node.func.value
        return False

    def sql_write(self, statement, scope):
        """None when the executed statement only reads; else what it writes."""
        candidates = scope.strings(statement)
        texts = [c for c in candidates if c is not None]
        if texts and len(texts) == len(candidates):
            body = " ; ".join(re.sub(r"--[^\n]*|/\*.*?\*/", " ", t, flags=re.S) for t in texts)
            parts = [p for p in body.split(";") if re.search(r"[A-Za-z]", p)]
            writes = [p for p in parts if WRITE_SQL.match(p)]
            if writes:
                first = " ".join(writes[0].split())
                return f"rewrites data: {first[:80]}{'...' if len(first) > 80 else ''}"
            if parts and all(READ_SQL.match(p) for p in parts):
                return None
            if parts:
                return f"runs SQL it does not read as read-only: {' '.join(parts[0].split())[:80]}"
        names = {call_name(n) for e in scope.expand(statement) for n in ast.walk(e) if isinstance(n, ast.Call)}
        if names & CORE_WRITES:
            return f"rewrites data ({'/'.join(sorted(names & CORE_WRITES))} statement)"
        if "select" in names:
            return None
        return f"executes a statement it cannot resolve ({type_text(statement)[:60]}): treated as a data write"


def module_value(module, name):
    for n in module.body:
        targets = n.targets if isinstance(n, ast.Assign) else [n.target] if isinstance(n, ast.AnnAssign) and n.value else []
        for t in targets:
            if isinstance(t, ast.Name) and t.id == name:
                return ast.literal_eval(n.value)
    return None


def as_list(value):
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def title_of(module, revision):
    doc = (ast.get_docstring(module) or "").strip().splitlines()
    title = doc[0].strip() if doc else ""
    # "Add user OIDC claims [c7d4e8a2b5f1]." -> "Add user OIDC claims"; "Release [0.97.0]." keeps its number.
    if not re.match(r"^\d+\.\d+\.\d+$", str(revision)):
        title = re.sub(r"\s*\[" + re.escape(str(revision)) + r"\]\.?$", "", title)
    title = title.rstrip(".")
    return title or "(no title)"


def analyse(name, source):
    """One migration file -> its revision record, or None when it is not a revision."""
    try:
        module = ast.parse(source, filename=name)
    except SyntaxError as err:
        return {"file": name, "error": f"cannot parse: {err.msg} (line {err.lineno})"}
    try:
        revision = module_value(module, "revision")
        down = as_list(module_value(module, "down_revision"))
        depends = as_list(module_value(module, "depends_on"))
    except ValueError:
        return {"file": name, "error": "revision identifiers are not literals"}
    if revision is None:
        return None
    reader = UpgradeReader(module)
    reader.read("upgrade")
    reasons = [op["reason"] for op in reader.operations if op["destructive"]]
    return {
        "revision": str(revision),
        "down_revisions": [str(d) for d in down],
        "depends_on": [str(d) for d in depends],
        "title": title_of(module, revision),
        "file": name,
        "destructive": bool(reasons),
        "reasons": reasons,
        "operations": reader.operations,
        "notes": sorted(reader.notes),
    }


def revisions_of(files):
    out, errors = [], []
    for name, source in files:
        record = analyse(name, source)
        if record is None:
            continue
        (errors if "error" in record else out).append(record)
    return {"revisions": out, "errors": errors}


def read_wheel(path):
    with zipfile.ZipFile(path) as whl:
        names = whl.namelist()
        files = [(n.rsplit("/", 1)[-1], whl.read(n).decode("utf-8")) for n in names for d in VERSIONS_DIRS
                 if n.startswith(d) and n.endswith(".py") and "/" not in n[len(d):] and not n.endswith("__init__.py")]
        meta_name = next((n for n in names if re.match(r"^[^/]+\.dist-info/METADATA$", n)), None)
        meta = Parser().parsestr(whl.read(meta_name).decode("utf-8")) if meta_name else None
    result = revisions_of(files)
    result["migrations_found"] = bool(files)
    result["metadata"] = {
        "name": meta.get("Name") if meta else None,
        "version": meta.get("Version") if meta else None,
        "requires_python": meta.get("Requires-Python") if meta else None,
        "requires_dist": meta.get_all("Requires-Dist") or [] if meta else [],
        "provides_extra": meta.get_all("Provides-Extra") or [] if meta else [],
    }
    return result


def main(argv):
    if len(argv) < 3 or argv[1] not in ("wheel", "wheels", "dir") or (argv[1] != "wheels" and len(argv) != 3):
        sys.stderr.write("usage: migrations.py wheel <file.whl> | wheels <file.whl>... | dir <directory>\n")
        return 2
    if argv[1] == "wheel":
        result = read_wheel(argv[2])
    elif argv[1] == "wheels":
        result = [read_wheel(w) for w in argv[2:]]
    else:
        names = sorted(f for f in os.listdir(argv[2]) if f.endswith(".py") and f != "__init__.py")
        result = revisions_of([(f, open(os.path.join(argv[2], f), encoding="utf-8").read()) for f in names])
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
