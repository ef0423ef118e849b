"""HPACK (RFC 7541), as much as a gRPC client needs: encode a request's header block once (literal
fields, never indexed, never Huffman), and decode a server's blocks (static and dynamic table,
Huffman strings, table size updates). Standard library only.
"""

from __future__ import annotations

STATIC: tuple[tuple[bytes, bytes], ...] = tuple(
    (n.encode(), v.encode())
    for n, v in (
        (":authority", ""), (":method", "GET"), (":method", "POST"), (":path", "/"),
        (":path", "/index.html"), (":scheme", "http"), (":scheme", "https"), (":status", "200"),
        (":status", "204"), (":status", "206"), (":status", "304"), (":status", "400"),
        (":status", "404"), (":status", "500"), ("accept-charset", ""),
        ("accept-encoding", "gzip, deflate"), ("accept-language", ""), ("accept-ranges", ""),
        ("accept", ""), ("access-control-allow-origin", ""), ("age", ""), ("allow", ""),
        ("authorization", ""), ("cache-control", ""), ("content-disposition", ""),
        ("content-encoding", ""), ("content-language", ""), ("content-length", ""),
        ("content-location", ""), ("content-range", ""), ("content-type", ""), ("cookie", ""),
        ("date", ""), ("etag", ""), ("expect", ""), ("expires", ""), ("from", ""), ("host", ""),
        ("if-match", ""), ("if-modified-since", ""), ("if-none-match", ""), ("if-range", ""),
        ("if-unmodified-since", ""), ("last-modified", ""), ("link", ""), ("location", ""),
        ("max-forwards", ""), ("proxy-authenticate", ""), ("proxy-authorization", ""),
        ("range", ""), ("referer", ""), ("refresh", ""), ("retry-after", ""), ("server", ""),
        ("set-cookie", ""), ("strict-transport-security", ""), ("transfer-encoding", ""),
        ("user-agent", ""), ("vary", ""), ("via", ""), ("www-authenticate", ""),
    )
)  # fmt: skip

# The Huffman code's bit length per symbol (0-255, then EOS), base 36: RFC 7541 Appendix B. The
# code is canonical (codes counted up in order of length, then symbol), so the lengths are all of it.
_LENGTHS = (
    "dnsssssssoussussssssssusssssssss6aacd68baa8b8666555666666678f6cad67777777777777777777777878dj"
    "de6f56565666577666567655677777fbedskmkkmmmnmnnnnnonoomnonnnnlmnmnnomlkmmnnlnmmolmnnllmlnmnnkm"
    "mmnmmnqqkjmnmpqqqrrqopjlqrrqrollqqsrrrkoklmllnmmppooqnqrqqrrrrrsrrrrrqu"
)


def _huffman_codes() -> dict[tuple[int, int], int]:
    lengths = [int(c, 36) for c in _LENGTHS]
    order = sorted(range(257), key=lambda s: (lengths[s], s))
    codes: dict[tuple[int, int], int] = {}
    code, prev = -1, lengths[order[0]]
    for s in order:
        code = (code + 1) << (lengths[s] - prev)
        prev = lengths[s]
        codes[(lengths[s], code)] = s
    return codes


_HUFFMAN = _huffman_codes()


class HpackError(Exception):
    """A header block this decoder cannot read (a connection error: the connection is dropped)."""


def huffman_decode(data: bytes) -> bytes:
    out = bytearray()
    acc = n = 0
    table = _HUFFMAN
    for byte in data:
        for shift in range(7, -1, -1):
            acc = (acc << 1) | ((byte >> shift) & 1)
            n += 1
            sym = table.get((n, acc))
            if sym is not None:
                if sym == 256:
                    raise HpackError("EOS inside a Huffman string")
                out.append(sym)
                acc = n = 0
            elif n > 30:
                raise HpackError("not a Huffman code")
    if n > 7 or acc != (1 << n) - 1:
        raise HpackError("bad Huffman padding")
    return bytes(out)


def encode_int(value: int, prefix: int, first: int = 0) -> bytes:
    """An HPACK integer with an N-bit prefix, `first` holding the byte's other high bits."""
    top = (1 << prefix) - 1
    if value < top:
        return bytes([first | value])
    out = bytearray([first | top])
    value -= top
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def encode_literal(name: bytes | int, value: bytes) -> bytes:
    """A field without indexing: `name` an index of the static table, or a literal name."""
    if isinstance(name, int):
        head = encode_int(name, 4)
    else:
        head = b"\x00" + encode_int(len(name), 7) + name
    return head + encode_int(len(value), 7) + value


class Decoder:
    """One connection's decoding context (its dynamic table)."""

    def __init__(self, max_size: int = 4096) -> None:
        self.table: list[tuple[bytes, bytes]] = []  # newest first
        self.size, self.max_size = 0, max_size

    def _entry(self, index: int) -> tuple[bytes, bytes]:
        if 1 <= index <= len(STATIC):
            return STATIC[index - 1]
        at = index - len(STATIC) - 1
        if 0 <= at < len(self.table):
            return self.table[at]
        raise HpackError(f"header table index {index} out of range")

    def _add(self, field: tuple[bytes, bytes]) -> None:
        self.table.insert(0, field)
        self.size += len(field[0]) + len(field[1]) + 32
        self._evict()

    def _evict(self) -> None:
        while self.size > self.max_size and self.table:
            n, v = self.table.pop()
            self.size -= len(n) + len(v) + 32

    def decode(self, block: bytes) -> list[tuple[bytes, bytes]]:
        out: list[tuple[bytes, bytes]] = []
        pos, end = 0, len(block)
        while pos < end:
            b = block[pos]
            if b & 0x80:  # indexed field
                index, pos = _int(block, pos, 7)
                out.append(self._entry(index))
            elif b & 0x40:  # literal with incremental indexing
                field, pos = self._literal(block, pos, 6)
                self._add(field)
                out.append(field)
            elif b & 0x20:  # dynamic table size update
                self.max_size, pos = _int(block, pos, 5)
                self._evict()
            else:  # literal without indexing / never indexed
                field, pos = self._literal(block, pos, 4)
                out.append(field)
        return out

    def _literal(self, block: bytes, pos: int, prefix: int) -> tuple[tuple[bytes, bytes], int]:
        index, pos = _int(block, pos, prefix)
        if index:
            name = self._entry(index)[0]
        else:
            name, pos = _string(block, pos)
        value, pos = _string(block, pos)
        return (name, value), pos


def _int(block: bytes, pos: int, prefix: int) -> tuple[int, int]:
    top = (1 << prefix) - 1
    value = block[pos] & top
    pos += 1
    if value < top:
        return value, pos
    shift = 0
    while True:
        if pos >= len(block):
            raise HpackError("truncated integer")
        b = block[pos]
        pos += 1
        value += (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, pos


def _string(block: bytes, pos: int) -> tuple[bytes, int]:
    huffman = block[pos] & 0x80
    n, pos = _int(block, pos, 7)
    if pos + n > len(block):
        raise HpackError("truncated string")
    raw = block[pos : pos + n]
    return (huffman_decode(raw) if huffman else raw), pos + n
