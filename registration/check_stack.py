"""Exits 0 iff the named ZenML stack exists with all four components the platform registers.

Usage: python check_stack.py <stack name>   (connection from ZENML_STORE_URL + credentials)
"""

from __future__ import annotations

import sys

REQUIRED = ("artifact_store", "container_registry", "orchestrator", "image_builder")


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: check_stack.py <stack name>", file=sys.stderr)
        return 2
    name = argv[0]
    from zenml.client import Client

    try:
        stack = Client().get_stack(name, allow_name_prefix_match=False)
    except KeyError:
        print(f"check_stack: no ZenML stack named '{name}'", file=sys.stderr)
        return 1
    present = {ctype.value for ctype, comps in stack.components.items() if comps}
    missing = [c for c in REQUIRED if c not in present]
    if missing:
        print(f"check_stack: stack '{name}' lacks {', '.join(missing)}", file=sys.stderr)
        return 1
    print(f"check_stack: stack '{name}' has {', '.join(REQUIRED)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
