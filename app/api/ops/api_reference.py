"""The interactive API reference at ``/docs``: Swagger UI, served from the package itself.

Litestar's render plugin fetches Swagger UI's JavaScript, CSS and favicon from a CDN by
default, which leaves a blank page on an air-gapped cluster. The ``swagger-ui-bundle-v2``
package ships those files; they are served under ``/docs/assets/`` (an operations path: no
token, no rate limit) and the plugin's page points at them.
"""

from __future__ import annotations

from pathlib import Path

from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.router import Router
from litestar.static_files import create_static_files_router
from swagger_ui_bundle import swagger_ui_path

#: where the reference page loads its files from (under /docs: see ``app.paths``)
ASSETS_PATH = "/docs/assets"
#: the files the page needs, all inside the bundle's directory
_FILES = ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-standalone-preset.js")


def swagger_ui_dir() -> Path:
    directory = Path(swagger_ui_path)
    missing = [name for name in _FILES if not (directory / name).is_file()]
    if missing:
        raise RuntimeError(f"swagger-ui-bundle-v2 at {directory} lacks {', '.join(missing)}")
    return directory


def swagger_plugin() -> SwaggerRenderPlugin:
    """Swagger UI at ``/docs``, every file it loads from ``ASSETS_PATH``."""
    return SwaggerRenderPlugin(
        path="/",
        js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        css_url=f"{ASSETS_PATH}/swagger-ui.css",
        standalone_preset_js_url=f"{ASSETS_PATH}/swagger-ui-standalone-preset.js",
        favicon=f"<link rel='icon' type='image/png' href='{ASSETS_PATH}/favicon-32x32.png'>",
    )


def assets_router() -> Router:
    """The bundle's files at ``ASSETS_PATH``, left out of the OpenAPI document."""
    return create_static_files_router(
        path=ASSETS_PATH,
        directories=[swagger_ui_dir()],
        include_in_schema=False,
        name="api-reference-assets",
    )
