import os
import shutil

import pytest
from hypothesis import settings

# CI: more examples, no deadline (the machine is shared and noisy); locally: quick.
settings.register_profile("ci", max_examples=200, deadline=None, derandomize=True)
settings.register_profile("dev", max_examples=60, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def pytest_configure(config):
    config.addinivalue_line("markers", "compiled: needs imle's C extensions; skipped where they are not loaded "
                                       "(not built, or IMLE_NO_EXTENSIONS=1)")
    config.addinivalue_line("markers", "heavy: an end-to-end run of thousands of solves (a learning loop, a sweep); "
                                       "skipped where the extensions are not loaded, as the pure-Python solver "
                                       "would take minutes (what it tests is not the solver)")


def pytest_collection_modifyitems(config, items):
    import imle.noise
    import imle.solvers.grid

    if imle.noise._compiled is not None and imle.solvers.grid._compiled is not None:
        return
    import pytest

    skip = pytest.mark.skip(reason="imle's C extensions are not loaded (not built, or IMLE_NO_EXTENSIONS=1)")
    for item in items:
        if "compiled" in item.keywords or "heavy" in item.keywords:
            item.add_marker(skip)


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def browser():
    """Debian's chromium through Playwright (its own browser download is not reachable): the studio's
    page and the documentation site are looked at in it. Skipped where chromium is missing; CI must
    have it."""
    if CHROMIUM is None and os.environ.get("CI"):
        pytest.fail("CI must have Debian's chromium (.ci/run installs it)")
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()
