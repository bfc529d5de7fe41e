"""The README's table of attacks, generated from :data:`attacks.ATTACKS` (each row is asserted by
``test_attacks.py``). ``python tests/adversarial/table.py`` rewrites the README section between
``<!-- attacks -->`` and ``<!-- /attacks -->``; ``--check`` only reports whether it is current."""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "grader"))
sys.path.insert(0, str(Path(__file__).parent))

from attacks import ATTACKS, FULL

README = Path(__file__).parents[2] / "README.md"
SECTION = re.compile(r"(<!-- attacks -->\n).*?(<!-- /attacks -->)", re.S)


def render() -> str:
    """The Markdown table, one row per attack."""
    lines = [
        "Every row is a hostile submission of the fixture week (17 points; the attacked answers are wrong)",
        "graded in one sandboxed batch by `tests/adversarial` (`python tests/adversarial/table.py` rewrites",
        "this table from the suite).",
        "",
        "| Attack | Points it gets | Outcome |",
        "|---|---|---|",
    ]
    for attack in ATTACKS:
        lost = ", ".join(f"{q} {p:g}/{FULL[q]:g}" for q, p in attack.lost.items())
        score = f"{sum(attack.points.values()):g}/{sum(FULL.values()):g}" + (f" ({lost})" if lost else "")
        lines.append(f"| {attack.title} | {score} | {attack.outcome} |")
    return "\n".join(lines) + "\n"


def updated(text: str) -> str:
    """``text`` (the README) with the table section replaced."""
    return SECTION.sub(lambda m: m.group(1) + render() + m.group(2), text, count=1)


def main(argv: list[str]) -> int:
    text = README.read_text()
    if "--check" in argv:
        current = updated(text) == text
        print("the README's attack table is current" if current else "run python tests/adversarial/table.py")
        return 0 if current else 1
    README.write_text(updated(text))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
