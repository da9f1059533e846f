"""The order pytest-xdist hands test files to its workers: the longest first.

Each file (or each ``xdist_group``, for files that share a session's server) is one unit of
work for a worker (``--dist loadgroup``). Units are sent in collection order as workers free
up, so starting with the longest ones keeps a long unit from being the run's tail, when only
one worker is left busy. The weights are the seconds each file took in a recorded run
(``tests/durations.json``); a file that is not there yet weighs nothing and goes last.

Record new weights after adding slow tests:

    pytest --durations=0 | tee /tmp/durations.log
    python -m tests.scheduling /tmp/durations.log
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from pathlib import Path

import pytest

WEIGHTS = Path(__file__).with_name("durations.json")
#: a line of ``pytest --durations=0``: "12.34s call     tests/ops/test_drain.py::test_x[1]"
_DURATION = re.compile(
    r"^(?P<seconds>\d+(?:\.\d+)?)s (?:setup|call|teardown)\s+(?P<file>[^:\s]+)::"
)


def record(log: str) -> dict[str, float]:
    """Seconds per test file, summed over its tests' set-ups, calls and teardowns."""
    seconds: dict[str, float] = defaultdict(float)
    for line in log.splitlines():
        found = _DURATION.match(line.strip())
        if found:
            seconds[found["file"]] += float(found["seconds"])
    return {file: round(total, 1) for file, total in sorted(seconds.items())}


def group_of(item: pytest.Item) -> str:
    """The item's ``xdist_group`` name; its file's path when it has none."""
    for mark in item.iter_markers("xdist_group"):
        return str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
    return item.nodeid.split("::", 1)[0]


def longest_first(items: list[pytest.Item]) -> None:
    """Give every item a group (its file, unless it names one), then order the items by their
    group's recorded seconds, longest first, each group's items kept together and in order."""
    weights: dict[str, float] = json.loads(WEIGHTS.read_text()) if WEIGHTS.is_file() else {}
    group_seconds: dict[str, float] = defaultdict(float)
    files_counted: set[tuple[str, str]] = set()
    for item in items:
        group = group_of(item)
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(group))
        file = item.nodeid.split("::", 1)[0]
        if (group, file) not in files_counted:
            files_counted.add((group, file))
            group_seconds[group] += weights.get(file, 0.0)
    first_seen = {group: index for index, group in enumerate(dict.fromkeys(map(group_of, items)))}
    items.sort(key=lambda item: (-group_seconds[group_of(item)], first_seen[group_of(item)]))


def refuse_lost_groups(node: object, ids: list[str]) -> None:
    """Stop a ``--dist loadgroup`` run whose groups did not reach the node ids a worker
    collected, which is how pytest-xdist tells its scheduler about them. The tests would still
    pass, each on whichever worker is free, with every module's servers started on each worker
    (pytest-xdist#1386: pytest 9.2 with pytest-xdist 3.8)."""
    lost = [nodeid for nodeid in ids if "@" not in nodeid]
    if lost:
        pytest.exit(
            f"pytest-xdist lost the group of {len(lost)} of {len(ids)} tests on {node} (the "
            f"first: {lost[0]}): pytest {pytest.__version__} with this pytest-xdist drops "
            "xdist_group; pin pytest below 9.2 (pyproject.toml)",
            returncode=pytest.ExitCode.USAGE_ERROR,
        )


if __name__ == "__main__":
    durations = record(Path(sys.argv[1]).read_text())
    WEIGHTS.write_text(json.dumps(durations, indent=0) + "\n")
    print(f"{len(durations)} files, {sum(durations.values()):.0f} s in all -> {WEIGHTS}")
