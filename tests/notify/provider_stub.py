"""A tiny real HTTP provider for SMS/WeChat on ``asyncio.start_server``: answers 503 while
``failures`` is positive (or always, with ``down``), 429 with ``Retry-After: retry_after``
while ``throttled`` is positive, else 200, and records what it got and when (monotonic)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any


class ProviderStub:
    def __init__(self) -> None:
        self.failures = 0
        self.down = False
        self.throttled = 0
        self.retry_after = "120"
        self.accepted_at: list[float] = []
        self.received: list[dict[str, Any]] = []
        self.requests = 0
        self.server: asyncio.Server | None = None
        self.url = ""

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/send"
        return self.url

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.decode("latin-1").split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            body = await reader.readexactly(length) if length else b""
            self.requests += 1
            extra = ""
            if self.down or self.failures > 0:
                self.failures = max(self.failures - 1, 0)
                status, reply = "503 Service Unavailable", b'{"error":"down"}'
            elif self.throttled > 0:
                self.throttled -= 1
                status, reply = "429 Too Many Requests", b'{"error":"slow down"}'
                extra = f"Retry-After: {self.retry_after}\r\n"
            else:
                self.received.append(json.loads(body))
                self.accepted_at.append(time.monotonic())
                status, reply = "200 OK", b'{"ok":true}'
            writer.write(
                f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(reply)}\r\n"
                f"{extra}Connection: close\r\n\r\n".encode()
                + reply
            )
            await writer.drain()
        finally:
            writer.close()
