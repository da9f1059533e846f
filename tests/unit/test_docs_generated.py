"""The generated reference pages match their sources (settings, chart values), and say what
a reader needs from each."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app import docs
from app.settings import Settings


def test_generated_pages_are_up_to_date() -> None:
    stale = docs.drift()
    assert stale == [], f"regenerate with `python -m app.docs`: {stale}"


def test_drift_is_detected(tmp_path: Path) -> None:
    docs.write(tmp_path)
    assert docs.drift(tmp_path) == []
    page = tmp_path / "configuration.md"
    page.write_text(page.read_text().replace("`MAX_QUEUE_SIZE`", "`MAX_QUEUE`"))
    (tmp_path / "helm-values.md").unlink()
    assert docs.drift(tmp_path) == [str(page), str(tmp_path / "helm-values.md")]


def _rows(page: str) -> dict[str, list[str]]:
    """First cell (without backticks) -> the row's cells."""
    rows = {}
    for line in page.splitlines():
        if line.startswith("| `"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
            rows[cells[0].strip("`")] = cells
    return rows


def test_configuration_has_every_setting_with_its_default() -> None:
    rows = _rows(docs.configuration_page())
    assert set(rows) == {name.upper() for name in Settings.__struct_fields__}
    assert rows["MAX_SENTENCES_PER_REQUEST"][1:3] == ["integer ≥ 1", "`128`"]
    assert rows["RERANKER_MODEL"][2] == '`"BAAI/bge-reranker-v2-m3"`'
    assert rows["CROSS_REQUEST_BATCHING"][1:3] == ["boolean", "`true`"]
    assert "`float16`" in rows["DTYPE"][1]


def test_configuration_sections_follow_the_settings_groups() -> None:
    page = docs.configuration_page()
    section_of = {}
    section = ""
    for line in page.splitlines():
        if line.startswith("## "):
            section = line[3:]
        elif line.startswith("| `"):
            section_of[line.split("`")[1]] = section
    assert section_of["PORT"] == "Server"
    assert section_of["BGE_M3_MODEL"] == "Models"
    assert section_of["API_TOKEN"] == "Security"


def test_helm_values_has_every_param() -> None:
    yaml = pytest.importorskip("yaml")
    text = docs.CHART_VALUES.read_text()
    params = re.findall(r"^\s*## @param (\S+)", text, flags=re.MULTILINE)
    rows = _rows(docs.helm_values_page())
    assert sorted(rows) == sorted(params)
    values = yaml.safe_load(text)
    assert rows["server.port"][1] == f"`{values['server']['port']}`"
    assert rows["image.pullPolicy"][1] == f'`"{values["image"]["pullPolicy"]}"`'


def test_a_param_without_a_key_is_an_error(tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    values.write_text("## @param server.port Port\nserver:\n  host: x\n")
    with pytest.raises(KeyError, match=r"server\.port"):
        docs.helm_values_page(values)


def test_helm_values_escape_table_and_html_characters(tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    values.write_text(
        "## @param tag Tag; empty means <appVersion> | latest\ntag: a|b\n"
        "## @param resources Limits\nresources: {limits: {memory: 1Gi}}\n"
    )
    page = docs.helm_values_page(values)
    assert '| `tag` | `"a\\|b"` | Tag; empty means &lt;appVersion&gt; \\| latest |' in page
    assert "| `resources` | `{limits: {memory: 1Gi}}` | Limits |" in page
