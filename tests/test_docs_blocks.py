"""The shell blocks the README and docs/ mark `<!-- doc-test -->` run as written against a server."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from server.settings import PROJECT_ROOT
from tests.support import TEST_JWT_SECRET, server_process

MARK = "<!-- doc-test -->"
README = PROJECT_ROOT / "README.md"
# The address the blocks are written for: `make run`'s.
DOCUMENTED_BASE_URL = "http://127.0.0.1:8080"


def marked_blocks(path: Path) -> list[str]:
    """The ```sh blocks right after a MARK line, in order."""
    blocks = []
    lines = iter(path.read_text().splitlines())
    for line in lines:
        if line.strip() != MARK:
            continue
        fence = next(lines)
        assert fence.startswith("```sh"), f"{path.name}: {MARK} must come right before a ```sh block"
        body = []
        for line in lines:
            if line.startswith("```"):
                break
            body.append(line)
        blocks.append("\n".join(body))
    return blocks


def documents_with_blocks() -> list[Path]:
    return [README] + [path for path in sorted((PROJECT_ROOT / "docs").glob("*.md")) if marked_blocks(path)]


@pytest.mark.parametrize("document", documents_with_blocks(), ids=lambda path: path.name)
def test_marked_shell_blocks_run_as_written(document: Path, reset_db: str, tmp_path: Path):
    # Blocks in docs/ say they run in the shell of the README's tour.
    blocks = marked_blocks(README) + ([] if document == README else marked_blocks(document))
    assert len(blocks) >= 2
    env = {"DATABASE_URL": reset_db, "JWT_SECRET": TEST_JWT_SECRET}
    with server_process(env, tmp_path / "server.log") as (base_url, _):
        script = "\n".join(blocks).replace(DOCUMENTED_BASE_URL, base_url)
        run = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            capture_output=True,
            text=True,
            timeout=120,
        )
    log = (tmp_path / "server.log").read_text()
    assert run.returncode == 0, f"stdout:\n{run.stdout}\nstderr:\n{run.stderr}"
    assert "internal_error" not in run.stdout
    assert "Traceback" not in log
