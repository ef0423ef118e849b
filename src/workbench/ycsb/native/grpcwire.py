"""Unary gRPC calls over one HTTP/2 connection on a plain socket (h2c, or TLS with ALPN h2): what
the native etcd binding needs to speak etcd's own API without a gRPC library.

One call at a time per connection (a worker thread has its own): the request's HEADERS and DATA go
out in one ``sendall``, then frames are read until the stream ends. The header block of a method is
encoded once (`hpack`); the server's blocks are decoded (its dynamic table makes the usual reply a
few indexed bytes). Flow control: this side grants the largest windows at connect and tops the
connection's up as data arrives; its own sends wait for the peer's window when needed. SETTINGS
are acknowledged at once; a PING (grpc-go's servers send one per request to estimate the
bandwidth-delay product) with the next request, in the same ``sendall``. Frames are read only
while a call waits, so an idle connection answers nothing until its next call either way. After a
GOAWAY the call under way still gets its reply when the server says it covers it, and the next
call opens a new connection.

Errors: the socket's own (``TimeoutError``, ``ConnectionRefusedError``, other ``OSError``),
``ProtocolError`` (an ``OSError``: the peer broke the protocol or went away; the connection is
closed) and ``GrpcStatus`` for a call the server answered with a non-zero ``grpc-status``.
"""

from __future__ import annotations

import socket
import ssl
import struct
from urllib.parse import unquote_to_bytes

from workbench.ycsb.native.hpack import Decoder, HpackError, encode_literal

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = (
    0,
    1,
    3,
    4,
    6,
    7,
    8,
    9,
)
END_STREAM = ACK = 0x1
END_HEADERS, PADDED, PRIORITY = 0x4, 0x8, 0x20
MAX_WINDOW = (1 << 31) - 1
INITIAL_WINDOW = 65_535
RECV = 65_536
_HEAD = struct.Struct(">IBI")  # length << 8 | type, flags, stream id
STATUS_NAMES = {
    1: "CANCELLED", 2: "UNKNOWN", 3: "INVALID_ARGUMENT", 4: "DEADLINE_EXCEEDED", 5: "NOT_FOUND",
    6: "ALREADY_EXISTS", 7: "PERMISSION_DENIED", 8: "RESOURCE_EXHAUSTED",
    9: "FAILED_PRECONDITION", 10: "ABORTED", 11: "OUT_OF_RANGE", 12: "UNIMPLEMENTED",
    13: "INTERNAL", 14: "UNAVAILABLE", 15: "DATA_LOSS", 16: "UNAUTHENTICATED",
}  # fmt: skip


class ProtocolError(ConnectionError):
    """The peer broke HTTP/2 or gRPC framing, reset the stream, or went away (GOAWAY, EOF)."""


class GrpcStatus(Exception):
    """The server answered the call with a non-zero grpc-status."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{STATUS_NAMES.get(code, code)}: {message}")
        self.code, self.message = code, message


def frame(kind: int, flags: int, stream: int, payload: bytes) -> bytes:
    return _HEAD.pack(len(payload) << 8 | kind, flags, stream) + payload


def _settings(**values: int) -> bytes:
    ids = {"header_table_size": 1, "enable_push": 2, "initial_window_size": 4}
    return b"".join(struct.pack(">HI", ids[k], v) for k, v in values.items())


class GrpcConnection:
    """``call(method, message, timeout) -> reply message`` over one HTTP/2 connection."""

    def __init__(self, host: str, port: int, timeout: float, tls: bool = False) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.tls: ssl.SSLContext | None = None
        if tls:
            self.tls = ssl.create_default_context()
            self.tls.set_alpn_protocols(["h2"])
        self.sock: socket.socket | None = None
        self._blocks: dict[str, bytes] = {}
        scheme = b"\x87" if tls else b"\x86"  # :scheme https / http (static table 7 / 6)
        self._common = (
            b"\x83"  # :method POST
            + scheme
            + encode_literal(1, f"{host}:{port}".encode())  # :authority
            + encode_literal(31, b"application/grpc")  # content-type
            + encode_literal(b"te", b"trailers")
        )

    def _block(self, method: str) -> bytes:
        block = self._blocks.get(method)
        if block is None:
            block = self._blocks[method] = encode_literal(4, method.encode()) + self._common
        return block

    def _connect(self, timeout: float) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.tls is not None:
            sock = self.tls.wrap_socket(sock, server_hostname=self.host)
        self.sock, self.timeout = sock, timeout
        self.buf, self.pos = b"", 0
        self.next_id = 1
        self.decoder = Decoder()
        self.send_window = INITIAL_WINDOW  # the connection's, granted by the peer
        self.peer_initial = INITIAL_WINDOW  # a new stream's, granted by the peer
        self.received = 0  # DATA bytes since this side last topped up its window
        self.max_frame = 16_384
        self.current = 0  # the stream of the call under way
        self.pending = b""  # acknowledgements to send with the next request (one syscall less)
        self.going_away = False
        ours = _settings(enable_push=0, initial_window_size=MAX_WINDOW)
        sock.sendall(
            PREFACE
            + frame(SETTINGS, 0, 0, ours)
            + frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", MAX_WINDOW - INITIAL_WINDOW))
        )
        return sock

    def call(self, method: str, message: bytes, timeout: float) -> bytes:
        sock = self.sock
        if sock is None or self.next_id > MAX_WINDOW - 2:
            self.close()
            sock = self._connect(timeout)
        elif timeout != self.timeout:
            sock.settimeout(timeout)
            self.timeout = timeout
        try:
            reply = self._call(sock, method, message)
        except GrpcStatus:
            if self.going_away:
                self.close()
            raise
        except HpackError as exc:
            self.close()
            raise ProtocolError(f"bad header block: {exc}") from exc
        except BaseException:
            self.close()
            raise
        if self.going_away:  # the next call opens a new connection
            self.close()
        return reply

    def _call(self, sock: socket.socket, method: str, message: bytes) -> bytes:
        sid = self.current = self.next_id
        self.next_id += 2
        data = b"\x00" + len(message).to_bytes(4, "big") + message
        out = [self.pending, frame(HEADERS, END_HEADERS, sid, self._block(method))]
        self.pending = b""
        window = self.peer_initial
        while data:
            room = min(self.max_frame, window, self.send_window)
            if room <= 0:  # wait for the peer's window
                sock.sendall(b"".join(out))
                out = []
                window = self._read_until_window(sid, window)
                continue
            piece, data = data[:room], data[room:]
            out.append(frame(DATA, 0 if data else END_STREAM, sid, piece))
            window -= len(piece)
            self.send_window -= len(piece)
        sock.sendall(b"".join(out))
        return self._reply(sid)

    def _read_until_window(self, sid: int, window: int) -> int:
        while window <= 0 or self.send_window <= 0:
            kind, flags, stream, payload = self._frame()
            if kind == WINDOW_UPDATE and stream == sid:
                window += struct.unpack(">I", payload)[0] & MAX_WINDOW
            elif kind == RST_STREAM and stream == sid:
                raise ProtocolError(f"stream reset by the server (code {payload.hex()})")
            else:
                self._control(kind, flags, stream, payload)
        return window

    def _reply(self, sid: int) -> bytes:
        headers: list[tuple[bytes, bytes]] = []
        body: list[bytes] = []
        block = b""
        ended = False  # the stream's last HEADERS frame was seen; its block may go on
        while True:
            kind, flags, stream, payload = self._frame()
            if stream != sid or kind not in (HEADERS, CONTINUATION, DATA, RST_STREAM):
                self._control(kind, flags, stream, payload)
                continue
            if kind == DATA:
                if flags & PADDED:
                    payload = payload[1 : len(payload) - payload[0]]
                body.append(payload)
                if flags & END_STREAM:
                    break
                continue
            if kind == RST_STREAM:
                raise ProtocolError(f"stream reset by the server (code {payload.hex()})")
            if kind == HEADERS:
                if flags & PADDED:
                    payload = payload[1 : len(payload) - payload[0]]
                if flags & PRIORITY:
                    payload = payload[5:]
                block, ended = payload, bool(flags & END_STREAM)
            else:
                block += payload
            if flags & END_HEADERS:
                headers += self.decoder.decode(block)
                block = b""
                if ended:
                    break
        return _message(headers, b"".join(body))

    def _frame(self) -> tuple[int, int, int, bytes]:
        head = self._take(9)
        word, flags, stream = _HEAD.unpack(head)
        payload = self._take(word >> 8)
        kind = word & 0xFF
        if kind == DATA and payload:
            self.received += len(payload)
            if self.received >= 1 << 30:
                assert self.sock is not None
                update = struct.pack(">I", self.received)
                self.sock.sendall(frame(WINDOW_UPDATE, 0, 0, update))
                self.received = 0
        return kind, flags, stream & MAX_WINDOW, payload

    def _control(self, kind: int, flags: int, stream: int, payload: bytes) -> None:
        """A frame that is not the call's reply: settings, pings, windows, the end."""
        assert self.sock is not None
        if kind == SETTINGS and not flags & ACK:
            for at in range(0, len(payload) - 5, 6):
                key, value = struct.unpack(">HI", payload[at : at + 6])
                if key == 4:
                    self.peer_initial = value
                elif key == 5:
                    self.max_frame = value
            self.sock.sendall(frame(SETTINGS, ACK, 0, b""))
        elif kind == PING and not flags & ACK:  # answered with the next frames sent
            self.pending += frame(PING, ACK, 0, payload)
        elif kind == WINDOW_UPDATE and stream == 0:
            self.send_window += struct.unpack(">I", payload)[0] & MAX_WINDOW
        elif kind == GOAWAY:  # calls up to `last` are still answered; later ones never will be
            last, code = struct.unpack(">II", payload[:8])
            self.going_away = True
            if self.current > last & MAX_WINDOW:
                text = payload[8:].decode("utf-8", "replace")
                raise ProtocolError(f"the server went away (GOAWAY code {code}: {text})")

    def _take(self, n: int) -> bytes:
        buf, pos = self.buf, self.pos
        while len(buf) - pos < n:
            assert self.sock is not None
            more = self.sock.recv(RECV)
            if not more:
                raise ProtocolError("the server closed the connection")
            buf, pos = buf[pos:] + more, 0
        self.buf, self.pos = buf, pos + n
        return buf[pos : pos + n]

    def close(self) -> None:
        sock, self.sock = self.sock, None
        if sock is not None:
            sock.close()


def _message(headers: list[tuple[bytes, bytes]], body: bytes) -> bytes:
    """The reply's message, or GrpcStatus from its trailers (or its trailers-only headers)."""
    status = message = None
    for name, value in headers:
        if name == b"grpc-status":
            status = int(value)
        elif name == b"grpc-message":
            message = unquote_to_bytes(value).decode("utf-8", "replace")
        elif name == b":status" and value != b"200":
            raise ProtocolError(f"HTTP status {value.decode('latin-1')} for a gRPC call")
    if status is None:
        raise ProtocolError("the reply has no grpc-status")
    if status:
        raise GrpcStatus(status, message or "")
    if len(body) < 5:
        raise ProtocolError("the reply has no message")
    if body[0]:
        raise ProtocolError("a compressed reply (none was offered)")
    n = int.from_bytes(body[1:5], "big")
    if len(body) != 5 + n:
        raise ProtocolError(f"reply message of {len(body) - 5} bytes, its prefix says {n}")
    return body[5:]
