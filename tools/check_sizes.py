"""House limits: no module in portal/, customer/, internal/ or jobs/ over 450 lines and no
function over 60 lines. ``python tools/check_sizes.py`` lists what is over and exits 1."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("portal", "customer", "internal", "jobs")
MAX_FILE_LINES = 450
MAX_FUNCTION_LINES = 60


def problems(root: Path = ROOT) -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            name = path.relative_to(root)
            lines = text.count("\n")
            if lines > MAX_FILE_LINES:
                found.append(f"{name}: {lines} lines (limit {MAX_FILE_LINES})")
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    start = min([node.lineno] + [d.lineno for d in node.decorator_list])
                    length = node.end_lineno - start + 1
                    if length > MAX_FUNCTION_LINES:
                        found.append(f"{name}:{node.lineno} {node.name}(): {length} lines "
                                     f"(limit {MAX_FUNCTION_LINES})")
    return found


def main() -> int:
    found = problems()
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
