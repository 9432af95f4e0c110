#!/usr/bin/python3
"""A TCP proxy that delays every byte by a fixed time each way: a database "across a network".

    bench/delay_proxy.py --listen 127.0.0.1:6543 --to unix:/tmp/pg/.s.PGSQL.5432 --delay-ms 0.5

Each chunk read from one side is written to the other DELAY later, in order, so a request and
its answer take 2 x DELAY more than without the proxy (the round-trip time, RTT). Bandwidth is
not limited. Used to measure what a server's round trips to PostgreSQL cost when the database
is not on the same machine (docs/BENCHMARKS.md); loopback only. Stops on Ctrl-C or SIGTERM.
"""
import argparse
import asyncio
import signal
import time


async def pump(reader, writer, delay):
    """Copies reader to writer, each chunk `delay` seconds after it arrived, in order."""
    queue = asyncio.Queue()

    async def deliver():
        while True:
            due, data = await queue.get()
            if data is None:
                break
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
        writer.close()

    sender = asyncio.ensure_future(deliver())
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            queue.put_nowait((time.monotonic() + delay, data))
    except ConnectionError:
        pass
    queue.put_nowait((0, None))
    try:
        await sender
    except ConnectionError:
        pass


async def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--listen", required=True, help="HOST:PORT to accept connections on")
    p.add_argument("--to", required=True, help="HOST:PORT or unix:PATH to connect each one to")
    p.add_argument("--delay-ms", type=float, required=True, help="delay each way, ms")
    a = p.parse_args()
    delay = a.delay_ms / 1000.0
    host, port = a.listen.rsplit(":", 1)

    async def handle(client_r, client_w):
        if a.to.startswith("unix:"):
            server_r, server_w = await asyncio.open_unix_connection(a.to[len("unix:"):])
        else:
            to_host, to_port = a.to.rsplit(":", 1)
            server_r, server_w = await asyncio.open_connection(to_host, int(to_port))
        await asyncio.gather(pump(client_r, server_w, delay), pump(server_r, client_w, delay))

    server = await asyncio.start_server(handle, host, int(port))
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
