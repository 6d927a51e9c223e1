"""Take the README's screenshots of the demo: `make screenshots` (opt-in; the tests never write into docs/).

Loads the demo data set into a throw-away data directory, serves it, and opens each named demo customer in the
agent sidebar and the supervisor console in headless Chromium. Writes, into docs/screenshots/:
- `sidebar-<first name>.png`: what an agent sees on load at 480x900, per customer;
- `sidebar-<first name>-360.png`: the same at 360 px wide (360x800);
- `console.png` (1280x800) and `console-360.png` (360 px wide), whole pages, and `console-leaks.png` (the leak
  points page, 1280 px).
`--full-page` makes the sidebar pictures whole pages instead of what shows without scrolling.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unicodedata
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu"]
SIDEBARS = {"": {"width": 480, "height": 900}, "-360": {"width": 360, "height": 800}}  # file suffix: viewport
CONSOLES = {"": {"width": 1280, "height": 800}, "-360": {"width": 360, "height": 800}}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(base: str, proc: subprocess.Popen, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"omnicopilot serve exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=5) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    sys.exit(f"omnicopilot serve did not answer on {base} within {timeout_s:.0f} s")


def first_name(name: str) -> str:
    first = name.split()[0] if name.split() else "customer"
    first = unicodedata.normalize("NFKD", first).encode("ascii", "ignore").decode()  # Tomás -> tomas
    return re.sub(r"[^a-z0-9-]", "", first.lower()) or "customer"


def sign_in(page: Any, key: str) -> None:
    page.fill("input[name=api_key]", key)
    page.click("form.signin-form button[type=submit]")


def shoot(base: str, loaded: dict[str, Any], out: Path, *, full_page: bool = False) -> list[Path]:
    from playwright.sync_api import sync_playwright

    written: list[Path] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for suffix, viewport in SIDEBARS.items():
            for tenant, customers in loaded["customers"].items():
                written += shoot_sidebars(browser, base, loaded["keys"][tenant]["agent"], tenant, customers, out,
                                          suffix=suffix, viewport=viewport, full_page=full_page)
        tenant = next(iter(loaded["keys"]))
        for suffix, viewport in CONSOLES.items():
            console = browser.new_context(viewport=viewport).new_page()
            console.goto(f"{base}/console")
            sign_in(console, loaded["keys"][tenant]["supervisor"])
            console.wait_for_selector("body[data-ready=console]", timeout=60_000)  # set once tiles and rows are in
            console.wait_for_load_state("networkidle")
            console.wait_for_timeout(500)  # the charts animate in; the picture is not a measurement
            path = out / f"console{suffix}.png"
            console.screenshot(path=str(path), full_page=True)
            written.append(path)
            print(f"  {path.relative_to(ROOT)}  ({tenant} console, {viewport['width']} px)", flush=True)
            if not suffix:  # the leak points page, once, at the console's width
                console.goto(f"{base}/console#leaks")
                console.wait_for_selector("body[data-view=leaks]", timeout=60_000)
                console.wait_for_load_state("networkidle")
                console.wait_for_timeout(500)
                path = out / "console-leaks.png"
                console.screenshot(path=str(path), full_page=True)
                written.append(path)
                print(f"  {path.relative_to(ROOT)}  ({tenant} leak points)", flush=True)
            console.context.close()
        browser.close()
    return written


def shoot_sidebars(browser: Any, base: str, key: str, tenant: str, customers: list[dict[str, Any]], out: Path, *,
                   suffix: str, viewport: dict[str, int], full_page: bool) -> list[Path]:
    written: list[Path] = []
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    signed_in = False
    for customer in customers:
        if not customer.get("name") or not customer.get("identity"):
            continue  # a contact the demo never named is not one of its customers
        page.goto(f"{base}/sidebar?identity={urllib.request.quote(customer['identity'])}")
        if not signed_in:
            sign_in(page, key)
            signed_in = True
        page.locator("#customer-name", has_text=customer["name"]).wait_for(timeout=30_000)
        # The card and the replies arrive separately: wait for both before the picture.
        page.wait_for_selector("#facts .fact, #facts .empty-row", timeout=30_000)
        page.wait_for_selector("#suggestions .suggestion[data-suggestion-id], #suggestions .muted", timeout=60_000)
        page.wait_for_timeout(300)  # let the last paint settle; the picture is not a measurement
        path = out / f"sidebar-{first_name(customer['name'])}{suffix}.png"
        page.screenshot(path=str(path), full_page=full_page)
        written.append(path)
        print(f"  {path.relative_to(ROOT)}  ({tenant}: {customer['name']}, {viewport['width']} px)", flush=True)
    context.close()
    return written


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    ap.add_argument("--full-page", action="store_true", help="whole sidebar pages, not what shows without scrolling")
    ap.add_argument("--embedding-backend", default=None,
                    help="OMNICOPILOT_EMBEDDING_BACKEND for the demo (default: the configured one)")
    args = ap.parse_args()
    if not os.path.exists(CHROMIUM):
        sys.exit(f"Chromium is needed at {CHROMIUM}")
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="omnicopilot-screenshots-") as tmp:
        data_dir = Path(tmp) / "demo"
        # The model cache stays the user's own (no second download); only the data is thrown away.
        env = {**os.environ, "OMNICOPILOT_DATA_DIR": str(data_dir), "OMNICOPILOT_PULL_INTERVAL_S": "0",
               "OMNICOPILOT_MASTER_KEY": "shots-" + secrets.token_urlsafe(16), "OMNICOPILOT_LOG_LEVEL": "warning"}
        if args.embedding_backend:
            env["OMNICOPILOT_EMBEDDING_BACKEND"] = args.embedding_backend
        load = subprocess.run([str(BIN / "omnicopilot"), "demo", "--data-dir", str(data_dir), "--load-only"],
                              env=env, capture_output=True, text=True, timeout=600)
        if load.returncode != 0:
            sys.exit(f"omnicopilot demo --load-only failed:\n{load.stderr[-2000:]}")
        loaded = json.loads(load.stdout)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        serve = subprocess.Popen([str(BIN / "omnicopilot"), "serve", "--port", str(port)], env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            wait_healthy(base, serve)
            print(f"demo: {loaded['created']} interactions; screenshots into {args.out}", flush=True)
            written = shoot(base, loaded, args.out, full_page=args.full_page)
        finally:
            os.killpg(serve.pid, signal.SIGTERM)
            serve.wait(timeout=30)
    print(f"{len(written)} screenshots written")


if __name__ == "__main__":
    main()
