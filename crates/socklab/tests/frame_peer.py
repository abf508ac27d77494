"""A TCP client for socklab's --frame tests, against `socklab listen --echo`.

Usage: frame_peer.py PORT STEP [STEP...]

Connects to 127.0.0.1:PORT with TCP_NODELAY and runs each STEP in turn:

  bytes:HEX      send HEX one byte per send, and before each next byte wait for socklab's
                 echo of the last one: socklab has then read it, so every byte boundary
                 is a read boundary (a real split, not one TCP may merge)
  burst:HEX      send HEX in one send (several frames in one read), wait for its echo
  modbus:HEX     HEX with its CRC-16/MODBUS appended, low byte first, computed here;
                 sent as bytes: are, one at a time
  badmodbus:HEX  the same with the CRC's first byte flipped
  crc32:HEX      HEX with its CRC-32 appended, high byte first (python's binascii)

Prints "sent HEX" for each step, then closes and prints "done".

The CRC-16 here is written from the catalogue's parameters (poly 0x8005 reflected, init
0xFFFF), sharing no code with the crc crate socklab uses, and checked against the
catalogue's check value at start.
"""
import binascii
import socket
import sys


def crc16_modbus(data):
    reg = 0xFFFF
    for byte in data:
        reg ^= byte
        for _ in range(8):
            reg = (reg >> 1) ^ 0xA001 if reg & 1 else reg >> 1
    return reg


assert crc16_modbus(b"123456789") == 0x4B37, "oracle crc16-modbus"
assert binascii.crc32(b"123456789") == 0xCBF43926, "oracle crc32"

port = int(sys.argv[1])
conn = socket.create_connection(("127.0.0.1", port), timeout=60)
conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def echoed(n):
    got = b""
    while len(got) < n:
        chunk = conn.recv(n - len(got))
        if not chunk:
            sys.exit("socklab closed before echoing")
        got += chunk
    return got


def bytewise(data):
    for i in range(len(data)):
        conn.sendall(data[i : i + 1])
        if echoed(1) != data[i : i + 1]:
            sys.exit("echo mismatch")


for step in sys.argv[2:]:
    kind, _, arg = step.partition(":")
    data = bytes.fromhex(arg)
    if kind == "bytes":
        bytewise(data)
    elif kind == "burst":
        conn.sendall(data)
        if echoed(len(data)) != data:
            sys.exit("echo mismatch")
    elif kind in ("modbus", "badmodbus"):
        crc = crc16_modbus(data).to_bytes(2, "little")
        if kind == "badmodbus":
            crc = bytes([crc[0] ^ 0xFF]) + crc[1:]
        data += crc
        bytewise(data)
    elif kind == "crc32":
        data += (binascii.crc32(data) & 0xFFFFFFFF).to_bytes(4, "big")
        bytewise(data)
    else:
        sys.exit("unknown step " + step)
    print("sent " + data.hex(), flush=True)
conn.close()
print("done", flush=True)
