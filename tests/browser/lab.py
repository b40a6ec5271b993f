"""A JupyterLab server on a free port and a headless Chromium page driving it, for the browser tests.

The browser is Debian's ``chromium`` (``/usr/bin/chromium``, installed by ``./scripts/setup.sh --test``),
driven by Playwright's Python API; Playwright's own browser builds are never downloaded. Each step
of a test is a :meth:`Steps.step`: it saves a screenshot under ``test-artifacts/browser/`` and, when
it fails, says which step failed and where its screenshot is.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

#: JupyterLab settings for a quiet, deterministic page: no news or update pop-ups, every cell in the DOM.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "Playwright is not installed: run ./scripts/setup.sh --test"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing: run ./scripts/setup.sh --test as root (apt-get install chromium)"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class JupyterLab:
    """``jupyter lab`` serving ``folder`` (its working folder too, so nbgrader reads its config)."""

    def __init__(self, folder: Path, home: Path) -> None:
        self.folder = folder
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = home / "jupyterlab.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> JupyterLab:
        settings = self.home / "lab-settings"
        for name, values in LAB_SETTINGS.items():
            path = settings / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        env = dict(os.environ)
        env.update(JUPYTER_CONFIG_DIR=str(self.home / "config"), JUPYTER_RUNTIME_DIR=str(self.home / "runtime"),
                   JUPYTERLAB_SETTINGS_DIR=str(settings), JUPYTERLAB_WORKSPACES_DIR=str(self.home / "workspaces"),
                   IPYTHONDIR=str(self.home / "ipython"), PYTHONWARNINGS="ignore::DeprecationWarning")
        command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
                   "--port-retries=0", "--IdentityProvider.token=", "--ServerApp.password=",
                   f"--ServerApp.root_dir={self.folder}",
                   "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")  # CI and containers run as root
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(command, cwd=self.folder, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.process.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/status", timeout=2) as reply:
                    if reply.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"jupyter lab did not answer on {self.url} within {timeout:g} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:] if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextlib.contextmanager
def chromium_page(width: int = 1280, height: int = 900) -> Iterator[object]:
    """A Playwright page in Debian's headless Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.set_default_timeout(30_000)
            yield page
        finally:
            browser.close()


class StepFailed(AssertionError):
    """A browser step failed; the message names the step and its screenshot."""


class Steps:
    """Numbered, named steps of one browser test, each ending in a screenshot."""

    def __init__(self, page, name: str) -> None:
        self.page = page
        self.folder = ARTIFACTS / name
        if self.folder.exists():
            shutil.rmtree(self.folder)
        self.folder.mkdir(parents=True)
        self.count = 0
        self.screenshots: list[Path] = []

    @contextlib.contextmanager
    def step(self, title: str) -> Iterator[None]:
        self.count += 1
        slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:50]
        shot = self.folder / f"{self.count:02d}-{slug}.png"
        try:
            yield
        except Exception as problem:
            failed = shot.with_name(shot.stem + "-FAILED.png")
            with contextlib.suppress(Exception):
                self.page.screenshot(path=str(failed), full_page=False)
            raise StepFailed(f"browser step {self.count} failed: {title}\n"
                             f"  screenshot: {failed}\n  {type(problem).__name__}: {problem}") from problem
        self.page.screenshot(path=str(shot), full_page=False)
        self.screenshots.append(shot)


class NotebookPage:
    """A notebook open in JupyterLab: find cells by their text, type into them, run them."""

    def __init__(self, page) -> None:
        self.page = page

    def open(self, lab: JupyterLab, path: str) -> NotebookPage:
        self.page.goto(f"{lab.url}/lab/tree/{path}")
        self.page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=60_000)
        self.wait_idle()
        return self

    def wait_idle(self, timeout: float = 60_000) -> None:
        """Wait until the kernel has started and is idle (the status bar says so)."""
        self.page.locator("#jp-main-statusbar", has_text="| Idle").wait_for(timeout=timeout)

    def cell(self, text: str):
        """The one code cell whose code (not output) contains ``text``."""
        found = self.page.locator(".jp-Notebook .jp-CodeCell").filter(
            has=self.page.locator(".jp-InputArea .cm-content", has_text=text))
        count = found.count()
        if count != 1:
            raise AssertionError(f"{count} code cells contain {text!r}, expected one")
        return found.first

    def menu(self, *path: str) -> None:
        """Click through the main menu, e.g. menu("Run", "Run All Cells")."""
        self.page.locator("#jp-menu-panel .lm-MenuBar-itemLabel", has_text=re.compile(f"^{path[0]}$")).click()
        for label in path[1:]:
            self.page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(label)}$")).first.click()

    def type_into(self, cell, source: str) -> None:
        """Replace the cell's text with ``source``, as if typed (or pasted) by the student."""
        cell.locator(".cm-content").click()
        self.page.keyboard.press("Control+a")
        self.page.keyboard.press("Delete")
        self.page.keyboard.insert_text(source)

    def prompt(self, cell) -> str:
        return cell.locator(".jp-InputArea-prompt").inner_text().strip()

    def run(self, cell, timeout: float = 60_000) -> str:
        """Run one cell (Shift+Enter in it) and wait for it to finish; return its output text."""
        before = self.prompt(cell)
        cell.locator(".cm-content").click()
        self.page.keyboard.press("Shift+Enter")
        deadline = time.monotonic() + timeout / 1000
        while time.monotonic() < deadline:
            now = self.prompt(cell)
            if re.search(r"\[\d+\]", now) and now != before:
                break
            time.sleep(0.1)
        else:
            raise AssertionError(f"the cell did not finish within {timeout / 1000:g} s (prompt {self.prompt(cell)})")
        return self.output(cell)

    def save(self, timeout: float = 30_000) -> None:
        """Ctrl+S, then wait until the notebook's tab is no longer marked as modified."""
        self.page.keyboard.press("Control+s")
        self.page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.jp-mod-dirty").first.wait_for(
            state="detached", timeout=timeout)

    def output(self, cell) -> str:
        return "\n".join(cell.locator(".jp-OutputArea-output").all_inner_texts())

    def show(self, cell) -> None:
        """Scroll so that the cell and its output are in view (for the screenshot)."""
        cell.scroll_into_view_if_needed()
        cell.evaluate("node => node.scrollIntoView({block: 'center'})")
