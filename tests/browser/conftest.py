"""Browser tests: JupyterLab in headless Chromium, as a student and an instructor would use it.

They are marked ``browser`` and run by CI (``./scripts/setup.sh --test`` installs Chromium and
Playwright). Where either is missing they are skipped with the reason, except under CI
(``CI=true``), where a missing browser fails them: a green CI must have run them.
Screenshots of every step go to ``test-artifacts/browser/<test>/``.
"""

from __future__ import annotations

import os

import pytest

from tests.browser.lab import missing_browser


@pytest.fixture(autouse=True)
def _browser_available():
    why = missing_browser()
    if why and os.environ.get("CI"):
        pytest.fail(why)
    if why:
        pytest.skip(why)
