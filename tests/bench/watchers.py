"""A fleet of WebSocket watchers in its own process: `python -m tests.bench.watchers URL N`.

Reads one token per line on stdin, connects and authenticates N sockets, then
prints JSON lines on stdout: {"ready": seconds} once all are in, and
{"key": slot_key(...), "arrivals": [...]} once every socket has that booking's
event, stamped with CLOCK_MONOTONIC, which is comparable across processes.
It runs apart from the booking client so that draining a thousand sockets
never delays the client's reading of its 201, and stops when stdin closes.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import defaultdict
from datetime import datetime

import aiohttp

# Connects in flight at once: well under aiohttp's listen backlog (128), so the
# kernel never drops a SYN and stalls a connect for a 1 s retransmit.
CONNECTING = 50
READY_TIMEOUT = 10.0
# Bounds the process's life even if the parent forgets to close stdin.
MAX_LIFETIME = 300.0


def now() -> float:
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def slot_key(spot_id: int, start_time: str) -> str:
    """Which booking an event is about: its spot and slot (drivers never see its id)."""
    return f"{spot_id}@{datetime.fromisoformat(start_time).timestamp():.0f}"


def emit(message: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


async def watch(url: str, tokens: list[str]) -> None:
    arrivals: defaultdict[str, list[float]] = defaultdict(list)
    gate = asyncio.Semaphore(CONNECTING)
    sockets: list[aiohttp.ClientWebSocketResponse] = []

    async def read(ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            at = now()  # before parsing: parsing is the watcher's cost, not the server's
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            event = json.loads(message.data)
            if event.get("type") == "reservation.booked":
                key = slot_key(event["spot_id"], event["start_time"])
                got = arrivals[key]
                got.append(at)
                if len(got) == len(tokens):
                    emit({"key": key, "arrivals": got})

    async def connect(token: str) -> asyncio.Task[None]:
        async with gate:
            ws = await session.ws_connect(url)
            sockets.append(ws)
            await ws.send_json({"type": "auth", "token": token})
            ready = await ws.receive(timeout=READY_TIMEOUT)
            if ready.type != aiohttp.WSMsgType.TEXT or json.loads(ready.data).get("type") != "ready":
                raise RuntimeError(f"/ws answered the auth message with {ready!r}")
        # Read from now on: the reader also answers the server's heartbeat pings.
        return asyncio.create_task(read(ws))

    connector = aiohttp.TCPConnector(limit=0)  # one connection per socket
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as session:
        started = now()
        readers = await asyncio.gather(*(connect(token) for token in tokens))
        emit({"ready": now() - started})
        try:
            # The parent closes stdin when it is done with us.
            await asyncio.wait_for(asyncio.to_thread(sys.stdin.read), MAX_LIFETIME)
        finally:
            for reader in readers:
                reader.cancel()
            await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


def main() -> None:
    url, count = sys.argv[1], int(sys.argv[2])
    tokens = [sys.stdin.readline().strip() for _ in range(count)]
    asyncio.run(watch(url, tokens))


if __name__ == "__main__":
    main()
