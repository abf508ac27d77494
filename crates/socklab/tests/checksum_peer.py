"""A TCP peer that checks socklab's --checksum with its own arithmetic.

Usage: checksum_peer.py SPEC [SPEC...]
       checksum_peer.py record

Listens on 127.0.0.1 at a free port and prints "listening on 127.0.0.1:PORT" once ready.
Then, for each SPEC in turn (e.g. crc16-modbus, crc32:le), serves one client: reads until
it closes, takes the last bytes as the checksum, recomputes it over the rest and prints

  ok SPEC PAYLOAD_HEX SUM_HEX          or
  mismatch SPEC PAYLOAD_HEX got SUM_HEX want WANT_HEX

`record` serves one client and prints the hex of everything it sent, once it closes.

The CRCs here are written straight from their catalogue parameters (width, poly, init,
refin, refout, xorout: the Rocksoft model), and CRC-32 is python's own binascii.crc32, so
this oracle shares no code or tables with the crc crate socklab uses. Its check values over
"123456789" are asserted at start, so the oracle is proven before it judges anything.
"""
import binascii
import socket
import sys


def reflect(value, bits):
    out = 0
    for _ in range(bits):
        out = (out << 1) | (value & 1)
        value >>= 1
    return out


def crc(data, width, poly, init, refin, refout, xorout):
    top = 1 << (width - 1)
    mask = (1 << width) - 1
    reg = init
    for byte in data:
        if refin:
            byte = reflect(byte, 8)
        reg ^= byte << (width - 8)
        for _ in range(8):
            if reg & top:
                reg = ((reg << 1) ^ poly) & mask
            else:
                reg = (reg << 1) & mask
    if refout:
        reg = reflect(reg, width)
    return reg ^ xorout


# name: (width in bytes, function, default byte order)
ALGORITHMS = {
    "sum8": (1, lambda d: sum(d) & 0xFF, "big"),
    "xor8": (1, lambda d: _xor(d), "big"),
    # CRC-8/SMBUS
    "crc8": (1, lambda d: crc(d, 8, 0x07, 0x00, False, False, 0x00), "big"),
    # CRC-16/MODBUS: sent low byte first
    "crc16-modbus": (2, lambda d: crc(d, 16, 0x8005, 0xFFFF, True, True, 0x0000), "little"),
    # CRC-16/XMODEM
    "crc16-xmodem": (2, lambda d: crc(d, 16, 0x1021, 0x0000, False, False, 0x0000), "big"),
    # CRC-16/IBM-3740 a.k.a. CCITT-FALSE
    "crc16-ccitt-false": (2, lambda d: crc(d, 16, 0x1021, 0xFFFF, False, False, 0x0000), "big"),
    # CRC-32/ISO-HDLC
    "crc32": (4, lambda d: binascii.crc32(d) & 0xFFFFFFFF, "big"),
}


def _xor(data):
    out = 0
    for b in data:
        out ^= b
    return out


CHECK = {
    "sum8": 0xDD,
    "xor8": 0x31,
    "crc8": 0xF4,
    "crc16-modbus": 0x4B37,
    "crc16-xmodem": 0x31C3,
    "crc16-ccitt-false": 0x29B1,
    "crc32": 0xCBF43926,
}
for _name, _want in CHECK.items():
    _got = ALGORITHMS[_name][1](b"123456789")
    assert _got == _want, "oracle %s: %x != %x" % (_name, _got, _want)


def expected(spec, payload):
    name, _, order = spec.partition(":")
    width, fn, default = ALGORITHMS[name]
    order = {"le": "little", "be": "big", "": default}[order]
    return fn(payload).to_bytes(width, order)


def read_all(conn):
    data = b""
    # Bounded: a frame here is small; the client's close ends the loop.
    for _ in range(100000):
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.bind(("127.0.0.1", 0))
srv.listen(16)
srv.settimeout(60)
print("listening on 127.0.0.1:%d" % srv.getsockname()[1], flush=True)
if sys.argv[1:] == ["record"]:
    conn, _ = srv.accept()
    conn.settimeout(60)
    print(read_all(conn).hex(), flush=True)
    conn.close()
    sys.exit(0)
for spec in sys.argv[1:]:
    conn, _ = srv.accept()
    conn.settimeout(60)
    data = read_all(conn)
    conn.close()
    width = ALGORITHMS[spec.partition(":")[0]][0]
    payload, got = data[: len(data) - width], data[len(data) - width :]
    want = expected(spec, payload)
    if got == want:
        print("ok %s %s %s" % (spec, payload.hex(), got.hex()), flush=True)
    else:
        print("mismatch %s %s got %s want %s" % (spec, payload.hex(), got.hex(), want.hex()), flush=True)
