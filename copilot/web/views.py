"""GET /sidebar, /console, /static/... and /apps/... (the helpdesk apps): plain HTML, CSS and JS; no build step.

The pages carry a Content-Security-Policy: scripts and styles from this origin only, and
`frame-ancestors` from OMNICOPILOT_FRAME_ANCESTORS so only the configured helpdesk can embed the
sidebar (clickjacking). `GET /v1/whoami` lets a page check a key and its role.
"""
from __future__ import annotations

import html
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from copilot.deps import get_principal
from copilot.exceptions import NotFound


def web_dir() -> Path:
    """`web/` at the repository root, else the copy a wheel installs under `<prefix>/share/omnicopilot/web`."""
    import sys

    checkout = Path(__file__).resolve().parents[2] / "web"
    installed = Path(sys.prefix) / "share" / "omnicopilot" / "web"
    return checkout if checkout.is_dir() or not installed.is_dir() else installed


WEB_DIR = web_dir()
# The helpdesk apps (apps/<vendor>/, DESIGN: "at the desk"): pages a helpdesk embeds, which embed the sidebar.
APPS_DIR = WEB_DIR.parent / "apps"
APP_FILE_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                  ".css": "text/css; charset=utf-8", ".json": "application/json", ".png": "image/png",
                  ".svg": "image/svg+xml"}
CSP_KEYWORDS = {"self", "none"}

router = APIRouter(tags=["web"])


def frame_sources(setting: str) -> list[str]:
    """CSP sources from the setting; bare `self`/`none` get the quotes .env files tend to strip."""
    sources = []
    for token in setting.replace(",", " ").split():
        sources.append(f"'{token}'" if token.lower() in CSP_KEYWORDS else token)
    return sources or ["'self'"]


def security_headers(frame_ancestors: list[str]) -> dict[str, str]:
    csp = "; ".join([
        "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
        "connect-src 'self' ws: wss:", "object-src 'none'", "base-uri 'none'", "form-action 'self'",
        "frame-ancestors " + " ".join(frame_ancestors),
    ])
    return {"Content-Security-Policy": csp, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-cache"}


@lru_cache(maxsize=8)
def page_text(name: str, mtime: float) -> str:  # noqa: ARG001 - mtime invalidates the cache on edits
    return (WEB_DIR / name).read_text(encoding="utf-8")


def render(request: Request, name: str, *, embeddable: bool) -> HTMLResponse:
    path = WEB_DIR / name
    if not path.is_file():
        raise NotFound(f"web page {name} is not installed (expected under {WEB_DIR})")
    ancestors = frame_sources(request.app.state.services.settings.frame_ancestors) if embeddable else ["'self'"]
    # The page learns which hosts may talk to it (postMessage origin checks) from a meta tag.
    body = page_text(name, path.stat().st_mtime).replace("{{FRAME_ANCESTORS}}", html.escape(" ".join(ancestors)))
    return HTMLResponse(body, headers=security_headers(ancestors))


@router.get("/sidebar", response_class=HTMLResponse, include_in_schema=False)
def sidebar(request: Request) -> HTMLResponse:
    return render(request, "sidebar.html", embeddable=True)


@router.get("/console", response_class=HTMLResponse, include_in_schema=False)
def console(request: Request) -> HTMLResponse:
    return render(request, "console.html", embeddable=False)


@router.get("/apps/{path:path}", include_in_schema=False, response_model=None)
def app_file(request: Request, path: str) -> FileResponse | RedirectResponse:
    """A helpdesk app's page or asset, embeddable by the same frame-ancestors as the sidebar it frames."""
    root = APPS_DIR.resolve()
    target = (root / path).resolve()
    if target.is_dir() and target.is_relative_to(root):
        if path and not path.endswith("/"):
            return RedirectResponse(f"/apps/{path}/", status_code=308)  # relative asset links need the slash
        target = target / "index.html"
    if not target.is_relative_to(root) or not target.is_file() or target.suffix not in APP_FILE_TYPES:
        raise NotFound(f"no helpdesk app file {path}")
    ancestors = frame_sources(request.app.state.services.settings.frame_ancestors)
    return FileResponse(target, media_type=APP_FILE_TYPES[target.suffix], headers=security_headers(ancestors))


@router.get("/v1/whoami", tags=["auth"])
def whoami(request: Request) -> dict:
    """The caller's tenant, role and key name: lets the pages check a key before using it."""
    principal = get_principal(request, request.app.state.services)
    return {"tenant": principal.tenant_id, "role": principal.role, "name": principal.name}


def mount_static(app: FastAPI) -> None:
    if (WEB_DIR / "vendor").is_dir():
        app.mount("/static/vendor", StaticFiles(directory=WEB_DIR / "vendor"), name="vendor")
    if (WEB_DIR / "static").is_dir():
        app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")
