#!/usr/bin/env python3
"""Turn `acr-cache diff --format markdown` output into a pull request comment GitHub accepts.

    python3 .ci/pr_comment.py diff.md comment.md --marker "<!-- acr-cache diff dev -->" --full-at URL

Exit 0 with the comment written; 3 when the diff is empty (nothing to post: the caller skips the
comment instead of posting an empty one). GitHub refuses a comment body over 65,536 characters; a
large change (1,000 rules) makes a longer diff, so the table keeps as many rows as fit, then says
how many are left out and points to the full diff in the run's job summary (URL). Everything after
the table (cost, topology, footer) is kept.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

GITHUB_LIMIT = 65_536
"""Characters GitHub accepts in an issue or pull request comment body."""
EMPTY = 3


def comment(diff: str, marker: str, full_at: str, limit: int = GITHUB_LIMIT) -> str | None:
    """The comment body, within `limit` characters; None for an empty diff."""
    if not diff.strip():
        return None
    whole = f"{marker}\n{diff}"
    if len(whole) <= limit:
        return whole
    lines = diff.splitlines(keepends=True)
    rows = [i for i, line in enumerate(lines) if line.startswith("| ") and not line.startswith("| |")]
    if not rows:
        # No table to shorten: cut at a line boundary.
        return _cut(whole, limit, full_at)
    first, last = rows[0], rows[-1]
    head, table, tail = lines[:first], lines[first : last + 1], lines[last + 1 :]
    fixed = len(marker) + 1 + sum(map(len, head)) + sum(map(len, tail))
    kept: list[str] = []
    used = 0
    for row in table:
        note = _pointer(len(table) - len(kept), full_at)
        if fixed + used + len(row) + len(note) > limit:
            break
        kept.append(row)
        used += len(row)
    body = (
        f"{marker}\n"
        + "".join(head)
        + "".join(kept)
        + _pointer(len(table) - len(kept), full_at)
        + "".join(tail)
    )
    return body if len(body) <= limit else _cut(body, limit, full_at)


def _pointer(left: int, full_at: str) -> str:
    return f"| … | {left} more change(s) not shown | | [the full diff is in the job summary]({full_at}) |\n"


def _cut(text: str, limit: int, full_at: str) -> str:
    note = f"\n… cut to fit a comment: [the full diff is in the job summary]({full_at})\n"
    kept = text[: limit - len(note)]
    return kept[: kept.rfind("\n") + 1] + note


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("diff", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--marker", required=True, help="the hidden line that finds the comment again")
    parser.add_argument("--full-at", required=True, help="URL of the run (its job summary has the full diff)")
    parser.add_argument("--limit", type=int, default=GITHUB_LIMIT)
    args = parser.parse_args(argv)
    text = args.diff.read_text(encoding="utf-8") if args.diff.is_file() else ""
    body = comment(text, args.marker, args.full_at, args.limit)
    if body is None:
        print("the diff is empty: nothing to post", file=sys.stderr)
        return EMPTY
    args.output.write_text(body, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
