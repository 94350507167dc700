"""Check the relay (bench/relay_proxy.py) against a trivial server: that a round trip
through it takes the RTT asked for, a connection two, that one connection carries a few
MB at a high rate, and that many concurrent connections exchanging message-sized writes
for a one-line reply (an SMTP send at one round trip a message) are not held back by it.

    python bench/relay_check.py [--rtt-ms 40] [--connections 64] [--messages 4000]

The server and the clients run in this process; the relay in its own, whose CPU time is
reported.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import struct
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.relay_proxy import RelayProcess  # noqa: E402

GREETING = b"220 ready\r\n"
REPLY = b"250 OK\r\n"


async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Greets, then answers each length-prefixed frame with one line once it is all in."""
    writer.write(GREETING)
    try:
        while True:
            (size,) = struct.unpack("!I", await reader.readexactly(4))
            await reader.readexactly(size)
            writer.write(REPLY)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()


async def connect(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, float]:
    start = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
    assert await reader.readexactly(len(GREETING)) == GREETING
    return reader, writer, time.perf_counter() - start


async def exchange(reader, writer, payload: bytes) -> None:
    writer.write(struct.pack("!I", len(payload)) + payload)
    await writer.drain()
    assert await reader.readexactly(len(REPLY)) == REPLY


async def client(port: int, count: int, payload: bytes) -> None:
    reader, writer, _ = await connect(port)
    for _ in range(count):
        await exchange(reader, writer, payload)
    writer.close()
    await writer.wait_closed()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def check(options) -> None:
    server = await asyncio.start_server(serve, "127.0.0.1", 0, limit=1 << 20)
    upstream = server.sockets[0].getsockname()[1]
    relay = RelayProcess(upstream, options.rtt_ms).start()
    try:
        reader, writer, setup = await connect(relay.port)
        rounds = []
        for _ in range(options.pings):
            start = time.perf_counter()
            await exchange(reader, writer, b"ping")
            rounds.append(time.perf_counter() - start)
        print(f"connect to greeting: {setup * 1000:.1f} ms (expected {2 * options.rtt_ms:.0f}: "
              f"two round trips); round trip: median {statistics.median(rounds) * 1000:.1f} ms, "
              f"min {min(rounds) * 1000:.1f}, max {max(rounds) * 1000:.1f} over {options.pings} "
              f"(asked {options.rtt_ms:.0f})")

        bulk = os.urandom(options.bulk_mb * 1024 * 1024)
        start = time.perf_counter()
        await exchange(reader, writer, bulk)
        elapsed = time.perf_counter() - start
        print(f"bulk: {options.bulk_mb} MB through one connection in {elapsed * 1000:.0f} ms "
              f"({options.bulk_mb / elapsed:.0f} MB/s, one round trip included)")
        writer.close()

        payload = os.urandom(options.size)
        each = options.messages // options.connections
        cpu, own = cpu_seconds(relay.process.pid), time.process_time()
        start = time.perf_counter()
        await asyncio.gather(*(client(relay.port, each, payload) for _ in range(options.connections)))
        elapsed = time.perf_counter() - start
        cpu, own = cpu_seconds(relay.process.pid) - cpu, time.process_time() - own
        sent = each * options.connections
        rounds = (each + 2) * options.rtt_ms / 1000  # a connection costs two
        bound = sent / rounds if rounds else float("inf")
        print(f"concurrent: {sent} messages of {options.size / 1024:.1f} KB over "
              f"{options.connections} connections in {elapsed:.2f}s: {sent / elapsed:.0f} msg/s, "
              f"{sent * options.size / elapsed / 1e6:.0f} MB/s (bound at one round trip a message "
              f"and two a connection: {bound:.0f} msg/s); relay CPU {cpu:.2f}s "
              f"({cpu / sent * 1e6:.0f} us a message), clients and server {own:.2f}s")
        await asyncio.sleep(options.rtt_ms / 1000 + 0.2)  # the closes reach the server
    finally:
        print(" ".join(f"{k}={v}" for k, v in relay.stop().items()))
        server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rtt-ms", type=float, default=40.0)
    parser.add_argument("--pings", type=int, default=50)
    parser.add_argument("--bulk-mb", type=int, default=8)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--messages", type=int, default=4000)
    parser.add_argument("--size", type=int, default=31 * 1024)
    asyncio.run(check(parser.parse_args()))


if __name__ == "__main__":
    main()
