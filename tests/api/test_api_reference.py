"""``/docs`` works with no network: Swagger UI's files come from the server itself, and a real
headless Chromium, with every host but this one unresolvable, renders the route list."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.helpers import ServerProcess

#: the session servers of tests/api/conftest.py start once a run: every file using them is one group
pytestmark = pytest.mark.xdist_group("api-servers")

#: a URL the page loads: a script's src, a stylesheet's or icon's href
_LOADED = re.compile(r"""(?:src|href)=["']([^"']+)["']""")
_CHROMIUM = next(
    (found for name in ("chromium", "chromium-browser") if (found := shutil.which(name))), None
)


def test_the_page_loads_only_files_the_server_serves(offline_server: ServerProcess) -> None:
    html = httpx.get(f"{offline_server.url}/docs", timeout=30).text
    assert not re.search(r"https?://", html), "the page names a URL off this server"
    loaded = _LOADED.findall(html)
    assert sorted(loaded) == [
        "/docs/assets/favicon-32x32.png",
        "/docs/assets/swagger-ui-bundle.js",
        "/docs/assets/swagger-ui-standalone-preset.js",
        "/docs/assets/swagger-ui.css",
    ]
    for path in loaded:
        r = httpx.get(f"{offline_server.url}{path}", timeout=30)
        assert r.status_code == 200, path
        assert len(r.content) > 500, path


def _chromium(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    assert _CHROMIUM is not None
    return subprocess.run(
        [
            _CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            # nothing but this machine resolves: a CDN URL left in the page would fail to load
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            # let the page's scripts run before the DOM is read (virtual time, not a sleep)
            "--virtual-time-budget=20000",
            *args,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


@pytest.mark.skipif(_CHROMIUM is None, reason="no chromium on PATH (apt-get install chromium)")
def test_headless_chromium_renders_every_route(
    offline_server: ServerProcess, tmp_path: Path
) -> None:
    document = httpx.get(f"{offline_server.url}/openapi.json", timeout=30).json()
    dom = _chromium(f"{offline_server.url}/docs", "--dump-dom").stdout
    rendered = re.findall(r'class="opblock-summary-path" data-path="([^"]+)"', dom)
    assert "/embeddings" in rendered and "/v1/embeddings" in rendered
    assert sorted(set(rendered)) == sorted(document["paths"])
    assert "smart-embedder" in dom
    shot = tmp_path / "docs.png"
    _chromium(
        f"{offline_server.url}/docs",
        "--hide-scrollbars",
        "--window-size=1280,900",
        f"--screenshot={shot}",
    )
    with Image.open(shot) as image:
        assert image.size == (1280, 900)
        # a blank page is one colour; the rendered reference has its coloured method badges
        assert len(image.convert("RGB").getcolors(maxcolors=1 << 20) or ()) > 50
