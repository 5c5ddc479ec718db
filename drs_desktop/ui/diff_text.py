"""How a plan diff reads on screen: a header line, then one indented line per change, or "no changes".

One way for every place that shows what changed between two plans (the plan history's Compare, the
sync conflicts dialog); the lines themselves come from ``domain.plan.diff.diff_plans``.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["diff_text"]


def diff_text(header: str, lines: Sequence[str], *, same: str = "no changes") -> str:
    body = "\n".join(f"  {line}" for line in lines) if lines else f"  {same}"
    return f"{header}\n{body}"
