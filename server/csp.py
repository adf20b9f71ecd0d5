"""Content-Security-Policy values: a strict one for every response, and the browser app's."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping

_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>(.*?)</script>", re.DOTALL)


def content_security_policy(loosened: Mapping[str, str] | None = None) -> str:
    """Same-origin only; nothing inline, no plugins, forms or framing; pages loosen what they need.

    'self' also covers this host's ws:/wss: (CSP Level 3), which the live grid
    uses. data: images: the app's empty favicon and swagger-ui's icons.
    form-action 'none': every form here is handled by script, so one submitted
    before its script ran (the login form) is blocked instead of being sent as
    a GET with the password in the URL.
    """
    directives = {
        "default-src": "'self'",
        "img-src": "'self' data:",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'none'",
        "frame-ancestors": "'none'",
        **(loosened or {}),
    }
    return "; ".join(f"{name} {sources}" for name, sources in directives.items())


# Every response's policy unless its handler sets one. The /docs page needs no
# more: its scripts are files (swagger-ui's bundle, docs.js), and swagger-ui
# styles through the CSSOM, which style-src does not restrict, not style attributes.
DEFAULT = content_security_policy()


def for_app(index_html: str) -> str:
    """The browser app's policy: its inline import map allowed by hash, and eval for Vue."""
    # The browser hashes the script's text after turning CRLF into LF, as read_text() does.
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"
        for text in _INLINE_SCRIPT.findall(index_html)
    ]
    # 'unsafe-eval': the full Vue build compiles the island's string templates with new Function.
    return content_security_policy({"script-src": " ".join(["'self'", *hashes, "'unsafe-eval'"])})
