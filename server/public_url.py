"""The server's public address: absolute links and the WebSocket origin check, never from a Host header alone."""

from __future__ import annotations

import ipaddress

from aiohttp import web

from .settings import SETTINGS


def _is_loopback(request: web.Request) -> bool:
    """Whether the request names this machine itself (localhost, 127.0.0.0/8, ::1)."""
    try:
        host = request.url.host or ""
    except ValueError:  # a Host header that is no host at all
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def link(request: web.Request, path: str) -> str:
    """`path` as a link for clients: under PUBLIC_URL when it is set.

    Without it, the request's own scheme and host are trusted only for a
    loopback host (a developer's machine). Anywhere else they are whatever the
    client or a proxy put in the Host header, and plain http behind a TLS
    proxy, so the link stays relative: a browser resolves it against the
    address it actually used.
    """
    public_url = request.app[SETTINGS].public_url
    if public_url is not None:
        return public_url + path
    if _is_loopback(request):
        return f"{request.scheme}://{request.host}{path}"
    return path


def own_origin(request: web.Request) -> str:
    """The origin of the pages this server serves: PUBLIC_URL's, else the request's own."""
    public_url = request.app[SETTINGS].public_url
    if public_url is not None:
        return origin_of(public_url)
    return f"{request.scheme}://{request.host}"


def origin_of(url: str) -> str:
    """scheme://host[:port] of an absolute http(s) URL."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.partition('/')[0]}"
