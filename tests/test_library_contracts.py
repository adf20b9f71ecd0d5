"""What the server relies on in aiohttp and asyncio beyond their documented APIs.

Each test names one such reliance (docs/architecture.md says why each is worth
it) and fails when a new version of the library changes it, before a user could
notice. The behaviour built on them is proven elsewhere: the slow-client drop in
test_realtime.py, the connection cap in test_connections.py, the JSON answers to
malformed requests in test_serving.py.
"""

from __future__ import annotations

import asyncio
import inspect

import aiohttp
from aiohttp import web
from aiohttp.abc import AbstractStreamWriter
from aiohttp.test_utils import TestServer

from server.connections import ACCEPT_EXHAUSTED, ConnectionCap, JsonErrorsRequestHandler
from server.hub import Client, Hub


async def test_aiohttp_writes_a_websocket_frame_without_suspending_while_the_client_reads():
    # hub.Hub._send_all steps send_str by hand rather than awaiting a task per socket.
    hub = Hub()
    sent = asyncio.Event()

    async def socket(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        hub.add(ws, Client(user_id=1, is_admin=False))
        hub.broadcast('{"type": "resync"}')
        sent.set()
        async for _ in ws:
            pass
        return ws

    app = web.Application()
    app.router.add_get("/ws", socket)
    async with TestServer(app) as server, aiohttp.ClientSession() as session:
        async with session.ws_connect(server.make_url("/ws")) as ws:
            async with asyncio.timeout(5):
                await sent.wait()
                message = await ws.receive()
            assert (message.type, message.data) == (aiohttp.WSMsgType.TEXT, '{"type": "resync"}')
            # Had the send suspended, the hub would have taken the client for a
            # stalled one and dropped it.
            assert len(hub._clients) == 1


async def test_aiohttp_handler_takes_the_caps_class_and_keeps_its_error_hook():
    # connections.ConnectionCap swaps the class of the handler aiohttp made, and
    # JsonErrorsRequestHandler overrides handle_error and log_exception.
    runner = web.AppRunner(web.Application())
    await runner.setup()
    try:
        cap = ConnectionCap(runner, limit=1)
        handler = cap()
        assert isinstance(handler, JsonErrorsRequestHandler)
        assert cap.open == 1
        # A subclass may stand in for a live object only with the same layout.
        assert web.RequestHandler.__slots__
        assert JsonErrorsRequestHandler.__slots__ == ()
        assert type(handler).__slots__ == ()
    finally:
        await runner.cleanup()
    assert list(inspect.signature(web.RequestHandler.handle_error).parameters) == [
        "self",
        "request",
        "status",
        "exc",
        "message",
    ]
    assert callable(web.RequestHandler.log_exception)
    assert callable(web.RequestHandler.connection_lost)
    # handle_error tells an answer under way by the writer's output, as aiohttp's own does.
    assert "output_size" in vars(AbstractStreamWriter)


def test_asyncio_still_reports_a_failed_accept_with_the_message_the_log_filter_matches():
    # connections.AcceptErrorLog recognises the failure by asyncio's own text.
    import asyncio.selector_events

    assert ACCEPT_EXHAUSTED in inspect.getsource(asyncio.selector_events)
