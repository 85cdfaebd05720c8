"""The one reader of the stack files' pins outside TypeScript (tools/offline/stack-files.ts is that one).

    python3 rehearsal/pins.py <stack> [<key>]    prints zenml-platform:<key> of Pulumi.<stack>.yaml
                                                 (key: zenmlVersion); exit 3 when it is missing or empty

Shell (rehearse.sh, .ci/run.d/prepare-python.sh, components/post-upgrade/run-tests.sh) and Python
(driver.py, steps_mlflow.py) both read the pins here. Why Python, and why without a YAML library:
it runs before anything is installed (the CI lane starts before `npm ci`, and the pin picks the
venv to build) on a bare python3, where a file the TypeScript program writes would not exist yet.
It reads what Pulumi writes, the block mapping under `config:` (plain or quoted scalars, comments,
nested lists and mappings), and refuses anything it does not understand rather than guess;
tests/rehearsal-pins.test.ts proves it reads every scalar of both stack files as `yaml` does.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "zenml-platform"
NESTED = object()  # a key whose value is a list or a mapping, not a scalar


class PinError(Exception):
    """The stack file cannot give the value; the message names the file and the key."""


def _strip_comment(text: str) -> str:
    """The line without a `#` comment (one at the start or after a blank, outside quotes)."""
    quote, i = None, 0
    while i < len(text):
        ch = text[i]
        if quote == "'" and text.startswith("''", i):
            i += 1  # an escaped quote inside a single-quoted scalar
        elif quote:
            quote = None if ch == quote and text[i - 1] != "\\" else quote
        elif ch in "\"'" and (i == 0 or text[i - 1] in " \t:"):
            quote = ch
        elif ch == "#" and (i == 0 or text[i - 1] in " \t"):
            return text[:i].rstrip()
        i += 1
    return text.rstrip()


def scalar(raw: str, where: str) -> str:
    """A plain, "double-" or 'single-quoted' scalar as YAML reads it (as text: the pins are strings)."""
    if raw.startswith('"'):
        try:
            value = json.loads(raw)  # YAML's double-quoted escapes that matter here are JSON's
        except json.JSONDecodeError:
            raise PinError(f"{where}: cannot read the quoted value {raw}") from None
        return value
    if raw.startswith("'"):
        if len(raw) < 2 or not raw.endswith("'") or "'" in raw[1:-1].replace("''", ""):
            raise PinError(f"{where}: cannot read the quoted value {raw}")
        return raw[1:-1].replace("''", "'")
    if raw[0] in "[{&*!|>%@`":  # an empty [] or {} is caught as NESTED before this
        raise PinError(f"{where}: {raw!r} is YAML this reader does not take (flow, anchor, tag or block scalar)")
    return raw


def read_config(path: Path) -> Dict[str, object]:
    """Every key under `config:` with its value as written (read it with `scalar`), or NESTED for a
    list or a mapping. Values are read on request: an odd value elsewhere does not stop a pin."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        raise PinError(f"cannot read {path}") from None
    config: Dict[str, object] = {}
    inside, indent, key = False, None, None
    for number, line in enumerate(lines, 1):
        text = _strip_comment(line)
        if not text.strip():
            continue
        depth = len(text) - len(text.lstrip(" "))
        if depth == 0:
            inside = text == "config:"
            continue
        if not inside or (indent is not None and depth > indent):
            if inside and key is not None and config[key] is not NESTED:
                raise PinError(f"{path.name}:{number}: {key} has a value and more lines under it")
            continue
        if indent is not None and depth < indent:
            raise PinError(f"{path.name}:{number}: indentation this reader does not take")
        indent = depth
        match = re.match(r"(\"[^\"]*\"|'[^']*'|[^\s\"'#][^\s]*?):(?:\s+(.*))?$", text.strip())
        if not match:
            raise PinError(f"{path.name}:{number}: not a `key: value` line under config:")
        key = scalar(match.group(1), f"{path.name}:{number}")
        if key in config:
            raise PinError(f"{path.name}:{number}: {key} is set twice")
        value = match.group(2) or ""
        config[key] = NESTED if value in ("", "[]", "{}") else value
    return config


def stack_file(stack: str, root: Path = ROOT) -> Path:
    return root / f"Pulumi.{stack}.yaml"


def stack_value(stack: str, key: str, root: Path = ROOT, missing: Optional[str] = None) -> str:
    """zenml-platform:<key> of Pulumi.<stack>.yaml ("" when set empty); `missing` when the file does
    not set it (the schema's default), else an error."""
    path = stack_file(stack, root)
    full = f"{PROJECT}:{key}"
    value: Optional[object] = read_config(path).get(full) if path.exists() else None
    if value is None and missing is not None and path.exists():
        return missing
    if value is None:
        raise PinError(f"no {full} in {path}")
    if value is NESTED:
        raise PinError(f"{full} in {path} is not a single value")
    return scalar(str(value), f"{path.name}: {full}")


def zenml_pin(stack: str, root: Path = ROOT) -> str:
    """The ZenML version a stack pins: a release number, never empty."""
    value = stack_value(stack, "zenmlVersion", root)
    if not re.fullmatch(r"[0-9][0-9A-Za-z.]*", value):
        raise PinError(f"{PROJECT}:zenmlVersion in {stack_file(stack, root)} is {value!r}, not a version")
    return value


def main(argv: List[str]) -> int:
    if len(argv) not in (1, 2) or argv[0].startswith("-"):
        print("usage: python3 rehearsal/pins.py <stack> [<key>]    (key: zenmlVersion)", file=sys.stderr)
        return 2
    stack, key = argv[0], argv[1] if len(argv) == 2 else "zenmlVersion"
    try:
        value = zenml_pin(stack) if key == "zenmlVersion" else stack_value(stack, key)
        if not value:
            raise PinError(f"{PROJECT}:{key} in {stack_file(stack)} is empty")
    except PinError as err:
        print(f"FATAL: {err}", file=sys.stderr)
        return 3
    print(value)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
