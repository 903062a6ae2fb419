"""A TCP fault proxy for tests: put it between a client and a real peer, then make the network misbehave.

    proxy = FaultProxy("127.0.0.1", 28088)
    port = await proxy.start()          # clients connect to 127.0.0.1:port
    await proxy.cut_all()               # RST both sides of every open connection; keep listening
    proxy.pause()                       # black hole: accepted, nothing forwarded either way
    proxy.resume()
    await proxy.stop()

Pure asyncio streams; one task per connection, owned and cancelled by ``stop()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

log = logging.getLogger(__name__)

_CHUNK = 65536


class _Link:
    """One proxied connection: client <-> upstream."""

    def __init__(self, client: asyncio.StreamWriter) -> None:
        self.client = client
        self.upstream: asyncio.StreamWriter | None = None
        self.closed = asyncio.Event()

    def abort(self) -> None:
        for writer in (self.client, self.upstream):
            if writer is not None:
                writer.transport.abort()


class FaultProxy:
    """Forward TCP from ``listen_host:listen_port`` to ``target_host:target_port`` with injectable faults.

    Args:
        target_host, target_port: the real peer.
        listen_port: 0 picks a free port (``start()`` returns it).
        listen_host: address to listen on.
    """

    def __init__(
        self, target_host: str, target_port: int, *, listen_port: int = 0, listen_host: str = "127.0.0.1"
    ) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.listen_host = listen_host
        self.listen_port = listen_port
        self.accepted = 0  # connections accepted since start()
        self._server: asyncio.Server | None = None
        self._links: set[_Link] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._resumed = asyncio.Event()
        self._resumed.set()

    @property
    def connections(self) -> int:
        """Connections currently open through the proxy."""
        return len(self._links)

    @property
    def paused(self) -> bool:
        return not self._resumed.is_set()

    async def start(self) -> int:
        """Listen and return the port."""
        self._server = await asyncio.start_server(self._accept, self.listen_host, self.listen_port)
        self.listen_port = self._server.sockets[0].getsockname()[1]
        return self.listen_port

    async def stop(self) -> None:
        """Stop listening, abort every connection, wait for the connection tasks to end."""
        if self._server is not None:
            self._server.close()
        self._resumed.set()
        for link in list(self._links):
            link.abort()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def cut_all(self) -> None:
        """Abort (TCP RST) both sides of every current connection; keep listening for new ones."""
        links = list(self._links)
        for link in links:
            link.abort()
        # Let the pumps notice, so ``connections`` no longer counts them on return.
        await asyncio.gather(*(link.closed.wait() for link in links))

    def pause(self) -> None:
        """Stop forwarding bytes in both directions and stop connecting new clients upstream.

        Connections stay open (the kernel still accepts new ones): to both ends the path looks silently dead.
        """
        self._resumed.clear()

    def resume(self) -> None:
        """Forward again (bytes held during the pause are delivered)."""
        self._resumed.set()

    # ------------------------------------------------------------------------------------------ internals

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        task = asyncio.create_task(self._serve(reader, writer), name=f"fault-proxy-{self.accepted}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        link = _Link(client_writer)
        self._links.add(link)
        try:
            await self._resumed.wait()
            try:
                upstream_reader, upstream_writer = await asyncio.open_connection(
                    self.target_host, self.target_port
                )
            except OSError as exc:
                log.info("fault proxy: upstream connect failed: %s", exc)
                return
            link.upstream = upstream_writer
            async with asyncio.TaskGroup() as group:
                group.create_task(self._pump(client_reader, upstream_writer))
                group.create_task(self._pump(upstream_reader, client_writer))
        except* (ConnectionError, OSError):
            pass
        finally:
            self._links.discard(link)
            link.abort()
            link.closed.set()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Copy one direction until EOF; EOF is passed on as a half-close."""
        while True:
            await self._resumed.wait()
            data = await reader.read(_CHUNK)
            if not data:
                if writer.can_write_eof() and not writer.transport.is_closing():
                    with contextlib.suppress(OSError):
                        writer.write_eof()
                return
            await self._resumed.wait()
            writer.write(data)
            await writer.drain()
