"""The native etcd binding's HTTP/1.1 transport (`native.rawhttp`) against a scripted server on a
loopback socket (a thread, no process): the framings a reply may have, keep-alive reuse, a closed
connection and a timeout, each classed as the binding's error classes say. And the etcd request
bodies built from bytes: the same bytes as the JSON encoder's."""

from __future__ import annotations

import base64
import http.client
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from workbench.cluster.gateway import put_body
from workbench.ycsb.native.bindings import error_class
from workbench.ycsb.native.etcd import decode_record, encode_record, put_payload
from workbench.ycsb.native.rawhttp import ERRORS, HttpConnection

Reply = Callable[[socket.socket, bytes], bool]  # (conn, request body) -> keep the connection


class Server:
    """Accepts connections; answers each request with the next scripted reply."""

    def __init__(self, replies: list[Reply]) -> None:
        self.replies = replies
        self.bodies: list[bytes] = []
        self.heads: list[bytes] = []
        self.connections = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while self.replies:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                buf = b""
                while self.replies:
                    while b"\r\n\r\n" not in buf:
                        more = conn.recv(65536)
                        if not more:
                            break
                        buf += more
                    if b"\r\n\r\n" not in buf:
                        break
                    head, _, buf = buf.partition(b"\r\n\r\n")
                    n = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                    while len(buf) < n:
                        buf += conn.recv(65536)
                    body, buf = buf[:n], buf[n:]
                    self.heads.append(head)
                    self.bodies.append(body)
                    if not self.replies.pop(0)(conn, body):
                        break

    def close(self) -> None:
        self.sock.close()


def sized(status: int = 200, body: bytes = b'{"ok":1}', extra: bytes = b"") -> Reply:
    def reply(conn: socket.socket, _: bytes) -> bool:
        conn.sendall(
            b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\n%sContent-Length: %d\r\n\r\n%s"
            % (status, extra, len(body), body)
        )
        return b"close" not in extra

    return reply


def chunked(parts: list[bytes]) -> Reply:
    def reply(conn: socket.socket, _: bytes) -> bool:
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for p in parts:  # one chunk per send, the last chunk and CRLF apart
            conn.sendall(b"%x\r\n%s\r\n" % (len(p), p))
            time.sleep(0.01)
        conn.sendall(b"0\r\n\r\n")
        return True

    return reply


def trickled(text: bytes) -> Reply:
    def reply(conn: socket.socket, _: bytes) -> bool:
        for i in range(0, len(text), 7):
            conn.sendall(text[i : i + 7])
            time.sleep(0.002)
        return True

    return reply


def unsized(conn: socket.socket, _: bytes) -> bool:
    conn.sendall(b"HTTP/1.0 200 OK\r\n\r\n" + b"x" * 100_000)
    return False


def hang_up(conn: socket.socket, _: bytes) -> bool:
    return False


def silent(conn: socket.socket, _: bytes) -> bool:
    time.sleep(1.0)
    return False


Serve = Callable[[list[Reply]], tuple[Server, HttpConnection]]


@pytest.fixture
def serve() -> Iterator[Serve]:
    made: list[tuple[Server, HttpConnection]] = []

    def make(replies: list[Reply]) -> tuple[Server, HttpConnection]:
        srv = Server(replies)
        made.append((srv, HttpConnection("127.0.0.1", srv.port, 5.0)))
        return made[-1]

    yield make
    for srv, conn in made:
        conn.close()
        srv.close()


def test_sized_replies_on_one_kept_alive_connection(serve: Serve) -> None:
    srv, conn = serve(
        [sized(), sized(503, b"etcdserver: leader changed"), sized(body=b"{}" * 40_000)]
    )
    assert conn.post("/v3/kv/put", b'{"key":"YQ=="}', 5.0) == (200, b'{"ok":1}')
    assert conn.post("/v3/kv/range", b"{}", 5.0) == (503, b"etcdserver: leader changed")
    status, body = conn.post("/v3/kv/range", b"{}", 5.0)
    assert (status, len(body)) == (200, 80_000)
    assert srv.connections == 1 and srv.bodies[0] == b'{"key":"YQ=="}'
    assert srv.heads[0].startswith(b"POST /v3/kv/put HTTP/1.1\r\nHost: 127.0.0.1:")
    assert b"Content-Type: application/json" in srv.heads[0]


def test_chunked_trickled_and_unsized_replies(serve: Serve) -> None:
    text = b'HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{"kvs":[1]}'
    srv, conn = serve([chunked([b'{"kvs":', b"[", b"2]}"]), trickled(text), unsized])
    assert conn.post("/p", b"{}", 5.0) == (200, b'{"kvs":[2]}')
    assert conn.post("/p", b"{}", 5.0) == (200, b'{"kvs":[1]}')
    assert conn.post("/p", b"{}", 5.0) == (200, b"x" * 100_000)
    assert conn.sock is None  # a body without a length ends with its connection
    assert srv.connections == 1


def test_connection_close_and_a_hang_up_reconnect(serve: Serve) -> None:
    srv, conn = serve([sized(extra=b"Connection: close\r\n"), sized(), hang_up, sized()])
    assert conn.post("/p", b"{}", 5.0)[0] == 200
    assert conn.sock is None
    assert conn.post("/p", b"{}", 5.0)[0] == 200
    with pytest.raises(http.client.RemoteDisconnected) as info:
        conn.post("/p", b"{}", 5.0)
    assert isinstance(info.value, ERRORS) and error_class(info.value) == "other"
    assert conn.post("/p", b"{}", 5.0)[0] == 200  # a new connection
    assert srv.connections == 3


def test_timeout_and_refusal_are_classed(serve: Serve) -> None:
    _, conn = serve([silent])
    t0 = time.monotonic()
    with pytest.raises(TimeoutError) as info:
        conn.post("/p", b"{}", 0.2)
    assert time.monotonic() - t0 < 0.9 and error_class(info.value) == "timeout"
    free = socket.create_server(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()
    with pytest.raises(ConnectionRefusedError) as refused:
        HttpConnection("127.0.0.1", port, 1.0).post("/p", b"{}", 1.0)
    assert error_class(refused.value) == "connection_refused"


def test_request_bodies_are_the_json_encoders_bytes() -> None:
    values = {"field0": b"\x00\xffab", 'f\u00e9ld"1': b"xyz" * 50}
    as_json = json.dumps(
        {k: base64.b64encode(v).decode() for k, v in values.items()}, separators=(",", ":")
    ).encode()
    assert encode_record(values) == as_json
    assert decode_record(encode_record(values), None) == values
    assert decode_record(encode_record(values), ["field0", "absent"]) == {"field0": b"\x00\xffab"}
    key = b"usertable:user123"
    for prev in (True, False):
        want = json.dumps(put_body(key, as_json, prev), separators=(",", ":")).encode()
        assert put_payload(key, as_json, prev) == want
