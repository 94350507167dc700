"""A TCP relay that puts a distance between an SMTP client and a server on this machine:
every byte is held back RTT/2 in each direction (`--rtt-ms 40`: 20 ms each way), in order
per direction. `tc qdisc ... netem` would do it in the kernel, but it is not available on
every kernel.

    python bench/relay_proxy.py --upstream-port 2525 --rtt-ms 40 [--listen-port 0]

It prints `relay: listening on 127.0.0.1:PORT` once it accepts connections and, on SIGTERM
or SIGINT, one line of counters:
`relay: accepted=N peak_connections=P connections=C bytes_up=U bytes_down=D`.
`connections` are the upstream connections open, from the relay's connect until the server
hangs up (what the server sees), `peak_connections` their highest number, `accepted` the
client connections taken in all.

Run it as its own process (`RelayProcess`): its CPU then stays out of the measured
processes' and it does not share their GIL. It raises its own priority when allowed, so
that a busy CPU delays its timers less (the CPU it uses stays the same). A connection costs the handshake it would cost
at that distance: the upstream connection is opened three one-way delays after the client's
(SYN, SYN-ACK, ACK), so the server's greeting arrives two round trips after connect(). A
FIN is passed on a one-way delay later, after the data before it (a half-closed connection
goes on in the other direction); a connection lost otherwise closes the other side the same
way.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import signal
import subprocess
import sys
from pathlib import Path

# Bytes held per direction before the sending side stops being read: the relay's TCP
# window. 2 MB in 20 ms is 100 MB/s for one connection, far above what a message needs.
QUEUE_LIMIT = 2 * 1024 * 1024
# Markers in a pipe's queue, behind the data that came before them.
EOF, CLOSE = object(), object()


class Counters:
    def __init__(self) -> None:
        self.accepted = self.connections = self.peak_connections = 0
        self.bytes_up = self.bytes_down = 0

    def opened(self) -> None:
        self.connections += 1
        self.peak_connections = max(self.peak_connections, self.connections)

    def line(self) -> str:
        return (f"relay: accepted={self.accepted} peak_connections={self.peak_connections} "
                f"connections={self.connections} bytes_up={self.bytes_up} bytes_down={self.bytes_down}")


class Pipe:
    """One direction of a link: chunks wait in a queue until their time has come, one timer
    at a time, so order holds and a burst costs one wake-up, not one sleep per chunk."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.queue: collections.deque = collections.deque()
        self.queued = 0
        self.source: asyncio.Transport | None = None
        self.dest: asyncio.Transport | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.dest_paused = False
        self.source_paused = False
        self.reverse: Pipe | None = None
        self.source_done = False  # read to its end or lost: nothing left to throttle
        self.eof_sent = False

    def push(self, chunk: bytes | object) -> None:
        loop = asyncio.get_running_loop()
        self.queue.append((loop.time() + self.delay, chunk))
        if isinstance(chunk, bytes):
            self.queued += len(chunk)
        else:
            self.source_done = True
        self._throttle()
        self._arm()

    def connect(self, dest: asyncio.Transport) -> None:
        self.dest = dest
        self._arm()

    def _arm(self) -> None:
        if self.queue and self.timer is None and self.dest is not None:
            self.timer = asyncio.get_running_loop().call_at(self.queue[0][0], self.flush)

    def flush(self) -> None:
        self.timer = None
        now = asyncio.get_running_loop().time()
        while self.queue and self.queue[0][0] <= now:
            _, chunk = self.queue.popleft()
            if chunk is CLOSE:
                self.queue.clear()
                self.dest.close()
                return
            if chunk is EOF:
                self.eof_sent = True
                self.dest.write_eof()
                if self.reverse.eof_sent:
                    self.dest.close()
                    self.source.close()
                continue
            self.queued -= len(chunk)
            self.dest.write(chunk)
        self._arm()
        self._throttle()

    def writable(self, ok: bool) -> None:
        self.dest_paused = not ok
        self._throttle()

    def _throttle(self) -> None:
        hold = self.dest_paused or self.queued > QUEUE_LIMIT
        if self.source is None or self.source_done or hold == self.source_paused:
            return
        self.source_paused = hold
        if hold:
            self.source.pause_reading()
        else:
            self.source.resume_reading()


class Side(asyncio.Protocol):
    """One socket of a link: what it reads goes into `outgoing`; `incoming` writes to it."""

    def __init__(self, outgoing: Pipe, incoming: Pipe, count, on_end=None) -> None:
        self.outgoing, self.incoming, self.count, self.on_end = outgoing, incoming, count, on_end

    def connection_made(self, transport) -> None:
        self.outgoing.source = transport
        self.incoming.connect(transport)

    def data_received(self, data: bytes) -> None:
        self.count(len(data))
        self.outgoing.push(data)

    def eof_received(self) -> bool:
        self.outgoing.push(EOF)
        self._end()
        return True  # the other direction may still have data to deliver

    def connection_lost(self, exc) -> None:
        self.outgoing.push(CLOSE)
        self._end()

    def _end(self) -> None:
        """The peer has hung up: from then on it no longer counts the connection as open."""
        if self.on_end:
            self.on_end()
            self.on_end = None

    def pause_writing(self) -> None:
        self.incoming.writable(False)

    def resume_writing(self) -> None:
        self.incoming.writable(True)


class Relay:
    def __init__(self, upstream_host: str, upstream_port: int, rtt_ms: float) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.one_way = rtt_ms / 2000
        self.counters = Counters()
        self.dialling: set[asyncio.Task] = set()  # the loop keeps only weak references

    def accept(self) -> Side:
        self.counters.accepted += 1
        up, down = Pipe(self.one_way), Pipe(self.one_way)
        up.reverse, down.reverse = down, up
        client = Side(up, down, self._count_up)
        asyncio.get_running_loop().call_later(3 * self.one_way, self._dial, up, down)
        return client

    def _dial(self, up: Pipe, down: Pipe) -> None:
        task = asyncio.create_task(self._connect(up, down))
        self.dialling.add(task)
        task.add_done_callback(self.dialling.discard)

    async def _connect(self, up: Pipe, down: Pipe) -> None:
        if up.source is None or up.source.is_closing():
            return
        try:
            await asyncio.get_running_loop().create_connection(
                lambda: Side(down, up, self._count_down, self._closed), *self.upstream)
        except OSError:
            up.source.abort()
            return
        self.counters.opened()

    def _count_up(self, n: int) -> None:
        self.counters.bytes_up += n

    def _count_down(self, n: int) -> None:
        self.counters.bytes_down += n

    def _closed(self) -> None:
        self.counters.connections -= 1

    async def serve(self, host: str, port: int, ready) -> None:
        server = await asyncio.get_running_loop().create_server(self.accept, host, port, backlog=1024)
        ready(server.sockets[0].getsockname()[1])
        async with server:
            await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listen-host", default="127.0.0.1")
    parser.add_argument("--listen-port", type=int, default=0, help="0: a free port, printed")
    parser.add_argument("--upstream-host", default="127.0.0.1")
    parser.add_argument("--upstream-port", type=int, required=True)
    parser.add_argument("--rtt-ms", type=float, default=0.0)
    options = parser.parse_args()
    try:
        # A real network delays packets in the kernel, ahead of any process; at an ordinary
        # priority the relay's timers fire late whenever the machine is busy (measured: p95
        # 8 ms late beside a busy client on 2 cores; 2 ms at -10).
        os.setpriority(os.PRIO_PROCESS, 0, -10)
    except PermissionError:
        print("relay: could not raise its priority (needs root or CAP_SYS_NICE): its delays "
              "stretch when the CPU is busy", file=sys.stderr)
    relay = Relay(options.upstream_host, options.upstream_port, options.rtt_ms)

    def ready(port: int) -> None:
        print(f"relay: listening on {options.listen_host}:{port}", flush=True)

    async def run() -> None:
        task = asyncio.create_task(relay.serve(options.listen_host, options.listen_port, ready))
        for signum in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(signum, task.cancel)
        try:
            await task
        except asyncio.CancelledError:
            pass

    try:
        asyncio.run(run())
    finally:
        print(relay.counters.line(), flush=True)


def parse_counters(line: str) -> dict[str, int]:
    return {k: int(v) for k, v in (field.split("=") for field in line.split()[1:])}


class RelayProcess:
    """The relay as a subprocess: `port` once started, `counters` once stopped."""

    def __init__(self, upstream_port: int, rtt_ms: float, upstream_host: str = "127.0.0.1") -> None:
        self.args = [sys.executable, str(Path(__file__).resolve()), "--upstream-host", upstream_host,
                     "--upstream-port", str(upstream_port), "--rtt-ms", str(rtt_ms)]
        self.process: subprocess.Popen | None = None
        self.port = 0
        self.counters: dict[str, int] = {}

    def start(self) -> "RelayProcess":
        self.process = subprocess.Popen(self.args, stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        if not line.startswith("relay: listening on "):
            self.process.kill()
            raise RuntimeError(f"the relay did not start: {line!r}")
        self.port = int(line.rsplit(":", 1)[1])
        return self

    def stop(self) -> dict[str, int]:
        """Its counters; a second call returns them again."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            out, _ = self.process.communicate(timeout=30)
            self.counters = parse_counters(out.strip().splitlines()[-1])
        return self.counters

    def __enter__(self) -> "RelayProcess":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


if __name__ == "__main__":
    main()
