"""A TCP relay a drill can cut: the cluster reaches one server (the
billing database's PostgreSQL) through it, so that server is out of reach
for the cluster only, never for the machine (other people use it).

    python -m tests.cluster.relay LISTEN_PORT UPSTREAM_HOST UPSTREAM_PORT

SIGUSR1 cuts it (every connection closed, new ones refused: the database
unreachable), SIGUSR2 restores it.  Its own process, so that the relayed
traffic of a whole cluster does not share the test's interpreter."""
from __future__ import annotations

import asyncio
import signal
import sys


class Relay:
    def __init__(self, upstream: tuple[str, int]):
        self.upstream, self.up, self.writers = upstream, True, set()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.up:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.close()
            return
        self.writers |= {writer, up_writer}
        await asyncio.gather(self.pipe(reader, up_writer), self.pipe(up_reader, writer))
        self.writers -= {writer, up_writer}

    @staticmethod
    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    def cut(self) -> None:
        self.up = False
        for writer in list(self.writers):
            transport = writer.transport
            transport.abort()  # a reset, as a dead link or a stopped server gives
        self.writers.clear()
        print("cut", flush=True)

    def restore(self) -> None:
        self.up = True
        print("restored", flush=True)


async def main(port: int, host: str, upstream_port: int) -> None:
    relay = Relay((host, upstream_port))
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR1, relay.cut)
    loop.add_signal_handler(signal.SIGUSR2, relay.restore)
    server = await asyncio.start_server(relay.serve, "127.0.0.1", port, reuse_address=True)
    print(f"relaying 127.0.0.1:{port} to {host}:{upstream_port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], int(sys.argv[3])))
