"""The official Wix JavaScript SDK, driving a live Stockroom server.

Each script in this folder is a sequence of named checks written against the SDK; this module
installs the pinned SDK with ``npm ci`` and runs each script once per way the SDK can be
pointed at a host. Without Node.js the tests skip and say so, except in CI, where they fail.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.live import LiveServer

HERE = Path(__file__).parent
SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed$", re.MULTILINE)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def node() -> str:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        message = "the SDK tests need Node.js 20 and npm on PATH"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI must run them")
        pytest.skip(f"{message}; install them to run these tests")
    installed = HERE / "node_modules" / ".package-lock.json"
    lock = HERE / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=HERE,
            check=True,
            timeout=600,
        )
    return node


@pytest.mark.parametrize("host_mode", ["wixapis", "custom"])
@pytest.mark.parametrize("script", ["inventory.mjs", "query.mjs", "stores.mjs"])
def test_sdk_script_passes_against_the_server(
    node: str, live_server: LiveServer, script: str, host_mode: str
) -> None:
    env = os.environ | {
        "STOCKROOM_URL": live_server.url,
        "STOCKROOM_SITE_ID": str(uuid.uuid4()),
        "STOCKROOM_SDK_HOST": host_mode,
    }

    finished = subprocess.run(
        [node, script], cwd=HERE, env=env, capture_output=True, text=True, timeout=600, check=False
    )

    report = finished.stdout + finished.stderr
    summary = SUMMARY.search(finished.stdout)
    assert summary is not None, report
    assert int(summary[1]) > 0, report
    assert (finished.returncode, summary[2]) == (0, "0"), report
