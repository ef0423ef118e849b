"""One keep-alive HTTP/1.1 connection for small JSON POSTs, on a plain socket (the native etcd
binding's transport to the v3 JSON gateway).

Why not http.client: per request it builds a header dict, an ``HTTPResponse`` and parses the
reply's headers with the email package; measured against a local etcd, a put cost ~180 µs of
client CPU through http.client and ~26 µs here (bench/bench_ycsb_ceiling.py has the generator's
numbers). The request head is encoded once per path; the reply is usually one ``recv``.

Replies are read by ``Content-Length``, ``Transfer-Encoding: chunked`` or, failing both, to the
end of the connection. A reply with ``Connection: close`` (or an error) closes the socket; the next
request connects again. Errors are the socket's own (``TimeoutError``, ``ConnectionRefusedError``,
other ``OSError``) and ``http.client.RemoteDisconnected`` / ``http.client.BadStatusLine`` for a
connection closed before or in the middle of a reply, as http.client raises them.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from collections.abc import Callable

RECV = 65536
ERRORS: tuple[type[Exception], ...] = (OSError, http.client.HTTPException)


class HttpConnection:
    """``post(path, body, timeout) -> (status, body)`` over one socket to ``host:port`` (TLS
    with the system's trust store when ``tls``)."""

    def __init__(self, host: str, port: int, timeout: float, tls: bool = False) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.tls = ssl.create_default_context() if tls else None
        self.sock: socket.socket | None = None
        self._heads: dict[str, bytes] = {}
        self._host_line = f"Host: {host}:{port}\r\n".encode("ascii")

    def _head(self, path: str) -> bytes:
        head = self._heads.get(path)
        if head is None:
            head = self._heads[path] = (
                f"POST {path} HTTP/1.1\r\n".encode("ascii")
                + self._host_line
                + b"Content-Type: application/json\r\nContent-Length: "
            )
        return head

    def _connect(self, timeout: float) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.tls is not None:
            sock = self.tls.wrap_socket(sock, server_hostname=self.host)
        self.sock, self.timeout = sock, timeout
        return sock

    def post(self, path: str, body: bytes, timeout: float) -> tuple[int, bytes]:
        sock = self.sock
        if sock is None:
            sock = self._connect(timeout)
        elif timeout != self.timeout:  # the deadline's remainder bounds this attempt
            sock.settimeout(timeout)
            self.timeout = timeout
        try:
            sock.sendall(b"%s%d\r\n\r\n%s" % (self._head(path), len(body), body))
            return self._reply(sock)
        except BaseException:
            self.close()
            raise

    def _reply(self, sock: socket.socket) -> tuple[int, bytes]:
        recv = sock.recv
        buf = recv(RECV)
        if not buf:
            raise http.client.RemoteDisconnected("the server closed the connection")
        end = buf.find(b"\r\n\r\n")
        while end < 0:
            more = recv(RECV)
            if not more:
                raise http.client.BadStatusLine(buf[:80].decode("latin-1"))
            buf += more
            end = buf.find(b"\r\n\r\n")
        if buf[:7] != b"HTTP/1." or len(buf) < 12:
            raise http.client.BadStatusLine(buf[:80].decode("latin-1"))
        status = int(buf[9:12])
        head = buf[:end].lower() + b"\r\n"
        body = buf[end + 4 :]
        at = head.find(b"\r\ncontent-length:")
        if at >= 0:
            n = int(head[at + 17 : head.index(b"\r\n", at + 2)])
            while len(body) < n:
                more = recv(RECV)
                if not more:
                    raise http.client.IncompleteRead(body, n - len(body))
                body += more
            body = body[:n]
        elif b"\r\ntransfer-encoding: chunked\r\n" in head:
            body = self._chunked(recv, body)
        else:  # no length: the body ends with the connection
            while more := recv(RECV):
                body += more
            self.close()
            return status, body
        if b"\r\nconnection: close\r\n" in head:
            self.close()
        return status, body

    @staticmethod
    def _chunked(recv: Callable[[int], bytes], buf: bytes) -> bytes:
        out: list[bytes] = []
        while True:
            eol = buf.find(b"\r\n")
            while eol < 0:
                buf += _more(recv, buf)
                eol = buf.find(b"\r\n")
            size = int(buf[:eol].split(b";", 1)[0], 16)
            need = eol + 2 + size + 2
            while len(buf) < need:
                buf += _more(recv, buf)
            if size == 0:  # trailers are not used by the gateway: the last CRLF ends the reply
                return b"".join(out)
            out.append(buf[eol + 2 : eol + 2 + size])
            buf = buf[need:]

    def close(self) -> None:
        sock, self.sock = self.sock, None
        if sock is not None:
            sock.close()


def _more(recv: Callable[[int], bytes], got: bytes) -> bytes:
    more = recv(RECV)
    if not more:
        raise http.client.IncompleteRead(got)
    return more
