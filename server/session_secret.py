"""The secret that signs session JWTs: JWT_SECRET, or one made once and kept under .data/."""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
from pathlib import Path

from .settings import MIN_SECRET_LENGTH

log = logging.getLogger(__name__)


def session_secret(configured: str | None, path: Path) -> str:
    """The configured secret, else the one kept at `path`, created on first use.

    A secret that changes at every start signs every open tab out at every
    restart. The file is created with mode 0600 and never logged; where it
    cannot be written (a read-only image), a secret for this process alone
    is used, with a warning.
    """
    if configured is not None:
        return configured
    try:
        return _read(path) or _create(path)
    except OSError as exc:
        log.warning(
            "JWT_SECRET is not set and %s cannot be used (%s): using a random secret; "
            "sessions end when this process does",
            path,
            exc.strerror or exc,
        )
        return secrets.token_urlsafe(48)


def _read(path: Path) -> str | None:
    try:
        value = path.read_text().strip()
    except FileNotFoundError:
        return None
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)  # only the owner may read what forges any session
    if len(value) < MIN_SECRET_LENGTH:
        raise OSError(f"the secret in it is shorter than {MIN_SECRET_LENGTH} characters")
    return value


def _create(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    # Written under a unique temporary name (mkstemp: mode 0600), then linked
    # into place: servers starting at once end up with the same secret, never
    # half of one.
    descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    temporary = Path(name)
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(value + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            return _read(path) or value
    finally:
        temporary.unlink(missing_ok=True)
    log.info("Created %s, the secret that signs sessions (set JWT_SECRET to use another)", path)
    return value
