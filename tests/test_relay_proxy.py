"""The benchmark's distance relay (bench/relay_proxy.py): what it forwards and counts. Its
speed is measured by bench/relay_check.py, not here."""

import os
import socket
import socketserver
import threading
import time

from bench.relay_proxy import RelayProcess


class Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(1 << 16):
            self.request.sendall(data)


def test_bytes_arrive_whole_and_in_order_each_way_after_the_round_trip():
    payload = os.urandom(3 * 1024 * 1024)
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), Echo) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        with RelayProcess(server.server_address[1], rtt_ms=30) as relay:
            with socket.create_connection(("127.0.0.1", relay.port)) as client:
                start = time.perf_counter()
                client.sendall(b"ping")
                assert client.recv(4) == b"ping"
                round_trip = time.perf_counter() - start
                received = bytearray()
                reader = threading.Thread(target=lambda: received.extend(
                    b"".join(iter(lambda: client.recv(1 << 16), b""))))
                reader.start()
                for offset in range(0, len(payload), 50_000):
                    client.sendall(payload[offset:offset + 50_000])
                client.shutdown(socket.SHUT_WR)
                reader.join(timeout=10)
        server.shutdown()
    assert round_trip >= 0.030
    assert bytes(received) == payload
    assert relay.counters["accepted"] == relay.counters["peak_connections"] == 1
    assert relay.counters["bytes_up"] == relay.counters["bytes_down"] == len(payload) + 4


def test_a_client_is_closed_when_the_server_cannot_be_reached():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        nobody = probe.getsockname()[1]
    with RelayProcess(nobody, rtt_ms=10) as relay:
        with socket.create_connection(("127.0.0.1", relay.port)) as client:
            client.settimeout(5)
            try:
                assert client.recv(1) == b""
            except ConnectionResetError:
                pass
    assert relay.counters["accepted"] == 1 and relay.counters["peak_connections"] == 0
