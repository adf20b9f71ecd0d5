"""Webhooks: which URLs may receive them, and one signed call (Standard Webhooks) to one."""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import json
import re
import secrets
import socket
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from standardwebhooks import Webhook

from .errors import DeliveryFailed, ValidationFailed

# What an endpoint may subscribe to; "*" is all of them. Not audit.ACTIONS, which
# records who did what rather than what changed (see there).
EVENT_TYPES = (
    "reservation.booked",
    "reservation.released",
    "reservation.checked_in",
    "closure.created",
    "closure.deleted",
    "spot.created",
    "spot.updated",
    "rules.changed",
)
ALL_EVENTS = "*"
SECRET_PREFIX = "whsec_"
CALL_TIMEOUT_SECONDS = 10.0
RESOLVE_TIMEOUT_SECONDS = 5.0
MAX_URL_LENGTH = 2048

# Link-local, which includes the cloud metadata address 169.254.169.254.
# Loopback and private networks stay allowed: a lot's integrations (a
# barrier controller, a chat bridge) live on its own network.
_REFUSED_NETWORKS = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"))


def refused_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])  # fe80::1%eth0
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in _REFUSED_NETWORKS)


def check_url(url: str) -> str:
    """The URL, if it is an absolute http(s) URL whose host is no refused address literal."""
    if len(url) > MAX_URL_LENGTH:
        raise ValidationFailed(f"'url' must be at most {MAX_URL_LENGTH} characters.")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a bad port
    except ValueError:
        raise ValidationFailed("'url' is not a valid URL.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationFailed("'url' must be an http:// or https:// URL with a host.")
    if not url.isprintable() or any(c.isspace() for c in url):
        raise ValidationFailed("'url' must not contain spaces or control characters.")
    if not _is_ip(parts.hostname) and not _HOST_NAME.fullmatch(_ascii(parts.hostname)):
        raise ValidationFailed("'url' has an invalid host name.")
    if parts.username is not None or parts.password is not None:
        raise ValidationFailed("'url' must not carry a user name or password.")
    if _is_ip(parts.hostname) and refused_address(parts.hostname):
        raise ValidationFailed("'url' points at a link-local or metadata address, which is refused.")
    return url


async def check_resolves_to_allowed(url: str) -> None:
    """Refuse a host name that resolves to a refused address now (it is checked again per call)."""
    host = urlsplit(url).hostname or ""
    if _is_ip(host):
        return
    resolver = GuardedResolver()
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT_SECONDS):
            resolved = await resolver.resolve(host, 0, socket.AF_UNSPEC)
    except RefusedAddress:
        raise ValidationFailed(
            f"'url' host {host} resolves to a link-local or metadata address, which is refused."
        ) from None
    except (OSError, TimeoutError):
        raise ValidationFailed(f"'url' host {host} does not resolve.") from None
    finally:
        await resolver.close()
    assert resolved


_HOST_NAME = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?")


def _ascii(host: str) -> str:
    """The host as DNS spells it (punycode for an international name), or "" if it has none."""
    try:
        return host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return ""


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    return True


class RefusedAddress(OSError):
    """A webhook host resolved to a refused address."""


class GuardedResolver(AbstractResolver):
    """aiohttp's resolver, refusing a host any of whose addresses is link-local.

    Checked at connect time, so a name that starts resolving to a metadata
    address after it was registered is refused too.
    """

    def __init__(self) -> None:
        self._resolver = DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._resolver.resolve(host, port, family)
        if any(refused_address(result["host"]) for result in results):
            raise RefusedAddress(f"{host} resolves to a refused address")
        return results

    async def close(self) -> None:
        await self._resolver.close()


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signed_headers(secret: str, message_id: str, body: str, at: datetime) -> dict[str, str]:
    """The Standard Webhooks headers for one attempt; the id stays the same across attempts."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, at, body),
        "Content-Type": "application/json",
        "User-Agent": "SmartParking-Webhooks/1",
    }


def message_id(delivery_id: int) -> str:
    return f"msg_{delivery_id}"


class WebhookSender:
    """One HTTP client session for every webhook call this process makes."""

    def __init__(self, timeout: float = CALL_TIMEOUT_SECONDS) -> None:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(resolver=GuardedResolver(), limit=100),
            timeout=aiohttp.ClientTimeout(total=timeout),
        )

    async def send(self, *, url: str, secret: str, delivery_id: int, payload: Any) -> int:
        """POST the payload, signed; the response status, or DeliveryFailed."""
        host = urlsplit(url).hostname or ""
        if _is_ip(host) and refused_address(host):
            raise DeliveryFailed("the URL's address is refused", permanent=True)
        body = json.dumps(payload, ensure_ascii=False)
        headers = signed_headers(secret, message_id(delivery_id), body, datetime.now(UTC))
        try:
            async with self._session.post(
                url, data=body.encode(), headers=headers, allow_redirects=False
            ) as response:
                status = response.status
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            # aiohttp wraps the resolver's refusal in ClientConnectorDNSError.
            refused = isinstance(getattr(exc, "os_error", exc), RefusedAddress)
            raise DeliveryFailed(f"call failed: {exc!r}", permanent=refused) from None
        if 200 <= status < 300:
            return status
        # A 4xx is the receiver refusing this request for good, except "too
        # slow" (408) and "too many" (429). Redirects are not followed: retried.
        permanent = 400 <= status < 500 and status not in (408, 429)
        raise DeliveryFailed(f"HTTP {status}", permanent=permanent, status=status)

    async def close(self) -> None:
        await self._session.close()
