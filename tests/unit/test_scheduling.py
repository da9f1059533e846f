"""The suite's own scheduling (tests/scheduling.py): the weights it orders test files by, and
the groups that keep each module's servers on one worker."""

from __future__ import annotations

import ast
import json

import pytest

from app.testing.server import REPO
from tests.scheduling import WEIGHTS, record, refuse_lost_groups

DURATIONS = """\
============================= slowest durations =============================
262.89s call     tests/ops/test_gpu_check_script.py::test_the_cpu_mode_runs[a b]
76.64s setup    tests/ops/test_fuzz.py::test_the_document_lists_every_route
1.50s call     tests/ops/test_fuzz.py::test_the_document_lists_every_route
0.20s teardown tests/ops/test_fuzz.py::test_the_document_lists_every_route
(12 durations < 0.005s hidden.  Use -vv to show these durations.)
1252 passed, 10 skipped in 1788.96s (0:29:48)
"""


def test_a_files_weight_is_the_sum_of_its_tests_phases() -> None:
    assert record(DURATIONS) == {
        "tests/ops/test_fuzz.py": 78.3,
        "tests/ops/test_gpu_check_script.py": 262.9,
    }


def test_the_recorded_weights_name_files_that_exist() -> None:
    weights = json.loads(WEIGHTS.read_text())
    assert weights, "tests/durations.json is empty"
    missing = [file for file in weights if not (REPO / file).is_file()]
    assert not missing, f"tests/durations.json names files that are gone: {missing}"


def test_a_run_whose_groups_were_lost_stops_with_the_reason() -> None:
    grouped = ["tests/a.py::test_x@tests/a.py", "tests/b.py::test_y[1]@ops-default-server"]
    refuse_lost_groups("gw0", grouped)  # every test grouped: the run goes on
    with pytest.raises(pytest.exit.Exception, match=r"lost the group of 1 of 3 tests on gw1"):
        refuse_lost_groups("gw1", [*grouped, "tests/c.py::test_z"])


def test_this_test_runs_in_its_files_group(request: pytest.FixtureRequest) -> None:
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("not a pytest-xdist worker of a --dist loadgroup run")
    assert request.node.nodeid.endswith("@tests/unit/test_scheduling.py"), request.node.nodeid


#: the session servers of tests/api/conftest.py
API_SESSION_SERVERS = {"server", "server_http", "offline_server"}


def _fixtures_asked_for(module: ast.Module) -> set[str]:
    """The argument names of the module's functions that are not its own fixtures."""
    own = {
        node.name
        for node in ast.walk(module)
        if isinstance(node, ast.FunctionDef)
        and any("fixture" in ast.unparse(decorator) for decorator in node.decorator_list)
    }
    asked = {
        argument.arg
        for node in ast.walk(module)
        if isinstance(node, ast.FunctionDef)
        for argument in node.args.args
    }
    return asked - own


def test_every_file_on_the_api_session_servers_is_in_their_group() -> None:
    # a file outside the group would start both servers again on the other worker
    sources = {path.name: path.read_text() for path in (REPO / "tests" / "api").glob("test_*.py")}
    outside = [
        name
        for name, source in sorted(sources.items())
        if _fixtures_asked_for(ast.parse(source)) & API_SESSION_SERVERS
        and 'xdist_group("api-servers")' not in source
    ]
    assert not outside, outside
