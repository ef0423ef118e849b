"""The native etcd binding's gRPC wire (`native.grpcwire`, `native.hpack`, the protobuf in
`native.etcd`): HPACK against RFC 7541's own examples, and the HTTP/2 connection against a
scripted server on a loopback socket (a thread, no process): pings answered with the next request,
a trailers-only error, a GOAWAY that covers the call and one that does not, the peer's flow-control
window, a compressed or short reply refused."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from workbench.ycsb.native import hpack
from workbench.ycsb.native.bindings import error_class
from workbench.ycsb.native.etcd import pb_fields, pb_has_prev, pb_put, pb_range, pb_values
from workbench.ycsb.native.grpcwire import (
    ACK,
    DATA,
    END_HEADERS,
    END_STREAM,
    GOAWAY,
    HEADERS,
    PING,
    PREFACE,
    SETTINGS,
    WINDOW_UPDATE,
    GrpcConnection,
    GrpcStatus,
    ProtocolError,
    frame,
)


def test_hpack_decodes_rfc7541_examples() -> None:
    assert hpack.huffman_decode(bytes.fromhex("f1e3c2e5f23a6ba0ab90f4ff")) == b"www.example.com"
    assert hpack.huffman_decode(bytes.fromhex("a8eb10649cbf")) == b"no-cache"
    assert hpack.huffman_decode(bytes.fromhex("25a849e95bb8e8b4bf")) == b"custom-value"
    with pytest.raises(hpack.HpackError):  # padding longer than 7 bits
        hpack.huffman_decode(bytes.fromhex("f1e3c2e5f23a6ba0ab90f4ffff"))
    assert hpack.encode_int(10, 5) == b"\x0a" and hpack.encode_int(1337, 5) == b"\x1f\x9a\x0a"
    d = hpack.Decoder()  # C.4: three requests, Huffman strings, one dynamic table
    first = d.decode(bytes.fromhex("828684418cf1e3c2e5f23a6ba0ab90f4ff"))
    assert first[-1] == (b":authority", b"www.example.com") and d.size == 57
    second = d.decode(bytes.fromhex("828684be5886a8eb10649cbf"))
    assert second[-2:] == [(b":authority", b"www.example.com"), (b"cache-control", b"no-cache")]
    third = d.decode(bytes.fromhex("828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf"))
    assert third[-1] == (b"custom-key", b"custom-value") and d.size == 164
    small = hpack.Decoder(max_size=60)  # one entry fits: the older one is evicted
    small.decode(bytes.fromhex("4001610162" + "4001630164"))
    assert small.table == [(b"c", b"d")] and small.size == 34
    small.decode(b"\x20")  # a size update to 0 empties the table
    assert small.table == [] and small.size == 0
    lit = hpack.encode_literal(31, b"application/grpc") + hpack.encode_literal(b"te", b"trailers")
    assert hpack.Decoder().decode(lit) == [
        (b"content-type", b"application/grpc"),
        (b"te", b"trailers"),
    ]


def test_protobuf_requests_and_replies() -> None:
    req = dict(pb_fields(pb_put(b"usertable:user1", b"{}", True)))
    assert req == {1: b"usertable:user1", 2: b"{}", 4: 1}
    assert 4 not in dict(pb_fields(pb_put(b"k", b"v" * 300, False)))
    assert dict(pb_fields(pb_range(b"a", b"b", 300, True))) == {1: b"a", 2: b"b", 3: 300, 7: 1}
    assert dict(pb_fields(pb_range(b"a"))) == {1: b"a"}
    header = b"\x0a\x04\x08\x01\x10\x02"  # field 1: a ResponseHeader
    kv1 = b"\x0a\x01k\x10\x05\x2a\x02v1"  # key, create_revision, value (field 5)
    kv2 = b"\x0a\x01m"  # an empty value is omitted
    reply = header + b"\x12" + bytes([len(kv1)]) + kv1 + b"\x12" + bytes([len(kv2)]) + kv2
    assert pb_values(reply) == [b"v1", b""] and pb_values(header) == []
    assert pb_has_prev(header + b"\x12\x03\x0a\x01k") and not pb_has_prev(header)


Script = Callable[["H2Server", int, bytes], None]  # (server, stream id, request message)


class H2Server:
    """Reads a client's preface and requests; answers each with the next script."""

    def __init__(self, scripts: list[Script], window: int = 65_535) -> None:
        self.scripts, self.window = scripts, window
        self.frames: list[tuple[int, int, int, bytes]] = []
        self.connections = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _read(self, n: int) -> bytes:
        while len(self.buf) < n:
            more = self.conn.recv(65536)
            if not more:
                raise EOFError
            self.buf += more
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _serve(self) -> None:
        while self.scripts:
            try:
                self.conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            self.buf = b""
            try:
                assert self._read(len(PREFACE)) == PREFACE
                settings = struct.pack(">HI", 4, self.window)
                self.send(frame(SETTINGS, 0, 0, settings))
                body: dict[int, bytes] = {}
                while self.scripts:
                    word, flags, sid = struct.unpack(">IBI", self._read(9))
                    payload = self._read(word >> 8)
                    self.frames.append((word & 0xFF, flags, sid, payload))
                    if word & 0xFF == DATA:
                        body[sid] = body.get(sid, b"") + payload
                        if flags & END_STREAM:
                            self.scripts.pop(0)(self, sid, body.pop(sid)[5:])
            except (EOFError, OSError):
                pass
            finally:
                self.conn.close()

    def send(self, data: bytes) -> None:
        self.conn.sendall(data)

    def close(self) -> None:
        self.sock.close()


def _headers(*fields: tuple[bytes, bytes]) -> bytes:
    return b"".join(hpack.encode_literal(n, v) for n, v in fields)


def ok(reply: bytes, before: bytes = b"") -> Script:
    def script(srv: H2Server, sid: int, message: bytes) -> None:
        srv.send(
            before
            + frame(
                HEADERS,
                END_HEADERS,
                sid,
                b"\x88" + _headers((b"content-type", b"application/grpc")),
            )
            + frame(DATA, 0, sid, b"\x00" + len(reply).to_bytes(4, "big") + reply)
            + frame(HEADERS, END_HEADERS | END_STREAM, sid, _headers((b"grpc-status", b"0")))
        )

    return script


def fail(code: bytes, text: bytes) -> Script:
    def script(srv: H2Server, sid: int, message: bytes) -> None:
        block = b"\x88" + _headers((b"grpc-status", code), (b"grpc-message", text))
        srv.send(frame(HEADERS, END_HEADERS | END_STREAM, sid, block))

    return script


def goaway(last_offset: int) -> Script:
    def script(srv: H2Server, sid: int, message: bytes) -> None:
        srv.send(frame(GOAWAY, 0, 0, struct.pack(">II", sid + last_offset, 0) + b"bye"))
        if last_offset >= 0:
            ok(b"covered")(srv, sid, message)
        else:
            srv.conn.shutdown(socket.SHUT_RDWR)

    return script


Serve = Callable[..., tuple[H2Server, GrpcConnection]]


@pytest.fixture
def serve() -> Iterator[Serve]:
    made: list[tuple[H2Server, GrpcConnection]] = []

    def make(scripts: list[Script], window: int = 65_535) -> tuple[H2Server, GrpcConnection]:
        srv = H2Server(scripts, window)
        made.append((srv, GrpcConnection("127.0.0.1", srv.port, 5.0)))
        return made[-1]

    yield make
    for srv, conn in made:
        conn.close()
        srv.close()


def test_calls_pings_and_a_trailers_only_error(serve: Serve) -> None:
    ping = frame(PING, 0, 0, b"12345678")
    srv, conn = serve(
        [ok(b"one", before=ping), fail(b"14", b"etcdserver: leader changed"), ok(b"")]
    )
    assert conn.call("/etcdserverpb.KV/Put", b"\x0a\x01k", 5.0) == b"one"
    with pytest.raises(GrpcStatus) as info:
        conn.call("/etcdserverpb.KV/Range", b"", 5.0)
    assert info.value.code == 14 and "UNAVAILABLE: etcdserver: leader changed" in str(info.value)
    assert conn.sock is not None  # an answer keeps the connection
    assert conn.call("/etcdserverpb.KV/Range", b"", 5.0) == b""
    kinds = [(k, f) for k, f, _, _ in srv.frames]
    assert (SETTINGS, ACK) in kinds and (WINDOW_UPDATE, 0) in kinds
    pongs = [i for i, (k, f, _, p) in enumerate(srv.frames) if k == PING]
    assert len(pongs) == 1 and srv.frames[pongs[0]][1] == ACK
    assert srv.frames[pongs[0]][3] == b"12345678"
    assert srv.frames[pongs[0] + 1][0] == HEADERS  # sent with the second request
    first = next(p for k, _, sid, p in srv.frames if k == HEADERS and sid == 1)
    assert (b":path", b"/etcdserverpb.KV/Put") in hpack.Decoder().decode(first)
    assert srv.connections == 1


def test_goaway_covering_the_call_answers_it_then_reconnects(serve: Serve) -> None:
    srv, conn = serve([goaway(0), ok(b"again"), goaway(-2)])
    assert conn.call("/m", b"", 5.0) == b"covered"
    assert conn.sock is None
    assert conn.call("/m", b"", 5.0) == b"again"
    with pytest.raises(ProtocolError, match="went away") as info:
        conn.call("/m", b"", 5.0)
    assert error_class(info.value) == "other" and isinstance(info.value, OSError)
    assert srv.connections == 2


def test_a_large_request_waits_for_the_peers_window(serve: Serve) -> None:
    def grant_then_ok(srv: H2Server, sid: int, message: bytes) -> None:
        ok(len(message).to_bytes(4, "big"))(srv, sid, message)

    srv, conn = serve([grant_then_ok], window=1000)
    big = b"x" * 70_000

    def grant() -> None:  # the server grants more window as the client waits
        time.sleep(0.2)
        srv.send(frame(WINDOW_UPDATE, 0, 1, struct.pack(">I", 100_000)))
        srv.send(frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 100_000)))

    threading.Thread(target=grant, daemon=True).start()
    assert conn.call("/m", big, 5.0) == (70_000).to_bytes(4, "big")
    sizes = [len(p) for k, _, sid, p in srv.frames if k == DATA and sid == 1]
    assert sum(sizes) == 70_005 and max(sizes) <= 16_384


def test_short_or_compressed_replies_are_protocol_errors(serve: Serve) -> None:
    def short(srv: H2Server, sid: int, message: bytes) -> None:
        srv.send(
            frame(HEADERS, END_HEADERS, sid, b"\x88")
            + frame(DATA, 0, sid, b"\x01\x00\x00\x00\x02ab")
            + frame(HEADERS, END_HEADERS | END_STREAM, sid, _headers((b"grpc-status", b"0")))
        )

    _, conn = serve([short])
    with pytest.raises(ProtocolError, match="compressed"):
        conn.call("/m", b"", 5.0)
    assert conn.sock is None
