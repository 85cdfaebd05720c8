"""Exits 0 iff the named ZenML stack exists with all four components the platform registers.

Usage: python check_stack.py <stack name>
Connection as for register_stack.py: ZENML_STORE_URL plus ZENML_STORE_API_KEY or
ZENML_STORE_USERNAME/ZENML_STORE_PASSWORD. Any failure is one line on stderr, exit 1.
"""

from __future__ import annotations

import os
import sys
import tempfile

REQUIRED = ("artifact_store", "container_registry", "orchestrator", "image_builder")


def check(name: str) -> str:
    """Returns a one-line verdict; raises LookupError with the reason when the stack is not whole."""
    from zenml.client import Client

    try:
        stack = Client().get_stack(name, allow_name_prefix_match=False)
    except KeyError:
        raise LookupError(f"no ZenML stack named '{name}'") from None
    present = {ctype.value for ctype, comps in stack.components.items() if comps}
    missing = [c for c in REQUIRED if c not in present]
    if missing:
        raise LookupError(f"stack '{name}' lacks {', '.join(missing)}")
    return f"stack '{name}' has {', '.join(REQUIRED)}"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: check_stack.py <stack name>", file=sys.stderr)
        return 2
    out, sys.stdout = sys.stdout, sys.stderr  # ZenML's log lines go to stderr
    os.environ.setdefault("ZENML_CONFIG_PATH", tempfile.mkdtemp(prefix="zenml-check-"))
    os.environ.setdefault("ZENML_ANALYTICS_OPT_IN", "false")
    try:
        verdict = check(argv[0])
    except LookupError as err:
        print(f"check_stack: {err}", file=sys.stderr)
        return 1
    except Exception as err:  # unreachable server, bad credentials: one line, no traceback
        text = str(err).strip().splitlines()
        print(f"check_stack: cannot check stack '{argv[0]}': {text[0] if text else type(err).__name__}", file=sys.stderr)
        return 1
    finally:
        sys.stdout = out
    print(f"check_stack: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
