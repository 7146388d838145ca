"""Plumbing shared by the test peers: command line, JSON-lines log, stream watching, serving.

Every peer is started the same way by the Swift tests:

    python <peer>.py --port 0 --log /tmp/x.jsonl

It binds 127.0.0.1 only, and prints exactly one line, ``READY <port>``, to stdout once uvicorn is
accepting connections. Nothing else is ever written to stdout (uvicorn's own logging goes to stderr
and its access log is off), so a test can read that single line and connect.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.types import Send

HOST = "127.0.0.1"


def parse_args(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1; 0 picks a free one")
    parser.add_argument("--log", metavar="PATH", help="append one JSON object per line for every request and stream end")
    return parser.parse_args()


class EventLog:
    """Appends JSON lines to a file, flushing each one so a test can read it at once.

    Every line is ``{"event": ..., "ts": <ms since the epoch>, ...fields}``.
    """

    def __init__(self, path: str | None) -> None:
        self._file = open(path, "a", encoding="utf-8") if path else None

    def write(self, event: str, **fields: Any) -> None:
        if self._file is None:
            return
        self._file.write(json.dumps({"event": event, "ts": int(time.time() * 1000), **fields}, ensure_ascii=False) + "\n")
        self._file.flush()


def request_headers(request: Request) -> dict[str, str]:
    """The request's headers (lower-case names), for the log: tests assert on Accept, Authorization, ..."""
    return dict(request.headers)


async def watch_stream(chunks: AsyncIterator[Any], log: EventLog, **ident: Any) -> AsyncIterator[Any]:
    """Pass a response body through, logging ``complete`` when it ends and ``disconnect`` when it doesn't.

    When the client drops the connection, Starlette's ``StreamingResponse`` (uvicorn speaks ASGI HTTP
    spec 2.3, so Starlette listens for ``http.disconnect``) cancels the task that is iterating the body.
    The cancellation surfaces here either as ``asyncio.CancelledError`` thrown out of the inner
    iterator (the common case: the producer was sleeping or computing), or, if the body was suspended
    at ``yield`` while ``send`` was in flight, as ``GeneratorExit`` when the abandoned generator is
    finalised. ``finally`` sees both.
    """
    finished = False
    try:
        async for chunk in chunks:
            yield chunk
        finished = True
    finally:
        log.write("complete" if finished else "disconnect", **ident)


class CutResponse(StreamingResponse):
    """A streaming response that ends by dropping the TCP connection mid-body.

    The final zero-length chunk of the chunked transfer encoding is never sent: the application
    returns with the response incomplete, and uvicorn closes the transport (logging "ASGI callable
    returned without completing response." to stderr). The client sees a truncated body, as after a
    crash or a network failure, not a clean end of stream.
    """

    async def stream_response(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        async for chunk in self.body_iterator:
            if isinstance(chunk, str):
                chunk = chunk.encode(self.charset)
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        # Let the client read what was sent before the drop: AsyncHTTPClient fails the body stream
        # at once on a broken connection, dropping parts it has buffered but not yet handed over,
        # and the tests check that the text that reached the daemon is kept.
        await asyncio.sleep(0.3)


class _ReadyServer(uvicorn.Server):
    """A uvicorn server that announces ``READY <port>`` once its listener is serving."""

    def __init__(self, config: uvicorn.Config, port: int) -> None:
        super().__init__(config)
        self._port = port

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            sys.stdout.write(f"READY {self._port}\n")
            sys.stdout.flush()


def serve(app: Any, port: int) -> None:
    """Serve ``app`` on 127.0.0.1:``port`` until SIGINT/SIGTERM.

    The socket is bound here, before uvicorn starts, so ``--port 0`` yields the kernel-chosen port
    without any race; ``READY`` is printed only after uvicorn has started serving on it.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, port))
    sock.listen(128)
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        # Streams such as `never-ending` would otherwise hold a graceful shutdown open forever.
        timeout_graceful_shutdown=0.5,
    )
    _ReadyServer(config, sock.getsockname()[1]).run(sockets=[sock])

