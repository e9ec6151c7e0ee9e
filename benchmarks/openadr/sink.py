"""An asyncio HTTP/1.1 receiver for the notification benchmark, in its own process (it stands for 1,000 VENs'
endpoints on other machines and must not be the bottleneck; a thread-per-request server in the benchmark's
process was). Records the arrival time (``time.time()``) of every POST and answers 200; ``GET /_arrivals?since=N``
returns the arrival times from the N-th on as JSON; other GETs answer the echo challenge.

Run as ``python benchmarks/openadr/sink.py``; prints its port on the first line. No Django.
"""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import parse_qs, urlsplit

ARRIVALS: list[float] = []


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            arrived = time.time()
            request_line, *lines = head.split(b"\r\n")
            method, target = request_line.split(b" ")[:2]
            length = 0
            for line in lines:
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            if length:
                await reader.readexactly(length)
            body = b""
            if method == b"POST":
                ARRIVALS.append(arrived)
            else:
                parts = urlsplit(target.decode())
                query = parse_qs(parts.query)
                if parts.path == "/_arrivals":
                    body = json.dumps(ARRIVALS[int((query.get("since") or ["0"])[0]) :]).encode()
                else:
                    body = (query.get("echo") or [""])[0].encode()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
            await writer.drain()
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
        pass
    finally:
        writer.close()


async def _main() -> None:
    server = await asyncio.start_server(_handle, "127.0.0.1", 0, backlog=4096)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(_main())
