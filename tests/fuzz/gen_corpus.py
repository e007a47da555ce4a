#!/usr/bin/env python3
"""Writes the seed corpus for fuzz_frame: valid frames of every kind.

Run from anywhere: python3 tests/fuzz/gen_corpus.py.  The layout is the
one in transport/frame.h; msgpack is written by hand so that nothing
beyond python3 is needed.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")

KINDS = {
    "user": 1, "call": 2, "reply": 3, "exit": 4, "down": 5, "stop": 6,
    "link": 7, "unlink": 8, "mon": 9, "demon": 10, "timer": 11,
}


def frame(kind, body=b"", tag=0, corr=0,
          sender=(1, 2, 3, 1), dest=(1, 2, 4, 7)):
    return (struct.pack("<BBHI", 1, kind, 0, tag)
            + struct.pack("<4I", *sender) + struct.pack("<4I", *dest)
            + struct.pack("<QI", corr, len(body)) + body)


def mp_str(s):
    b = s.encode()
    if len(b) < 32:
        return bytes([0xa0 | len(b)]) + b
    if len(b) < 256:
        return b"\xd9" + bytes([len(b)]) + b
    return b"\xda" + struct.pack(">H", len(b)) + b


def mp_int(i):
    if 0 <= i < 128:
        return bytes([i])
    if -32 <= i < 0:
        return struct.pack("b", i)
    return b"\xd3" + struct.pack(">q", i)


def mp_arr(*items):
    assert len(items) < 16
    return bytes([0x90 | len(items)]) + b"".join(items)


def mp_map(*pairs):
    assert len(pairs) < 16
    return bytes([0x80 | len(pairs)]) + b"".join(k + v for k, v in pairs)


def mp_ref(node, proc, slot, gen):  # fixext16, type TR_MSGPACK_EXT_REF
    return b"\xd8\x54" + struct.pack(">4I", node, proc, slot, gen)


RICH = mp_map(
    (mp_str("arr"), mp_arr(b"\xc0", b"\xc3", b"\xc2", mp_int(-5),
                           b"\xcd\xea\x60", b"\xcb" + struct.pack(">d", 1.5),
                           mp_arr(), mp_map())),
    (mp_str("bin"), b"\xc4\x03\x00\xc1\xff"),
    (mp_str("ext"), b"\xc7\x03\xfb" + b"abc"),
    (mp_str("ref"), mp_ref(1, 2, 3, 4)),
    (mp_int(-1), mp_str("x" * 40)),
)

SEEDS = {
    "user": frame(1, RICH, tag=7),
    "call": frame(2, mp_arr(mp_int(1), mp_str("ping")), tag=1,
                  corr=0x8000000000000001),
    "reply": frame(3, mp_str("pong"), tag=1, corr=0x8000000000000001),
    "exit": frame(4, mp_arr(mp_int(2), mp_int(5)), tag=0xFFFF0001),
    "down": frame(5, mp_arr(mp_int(5), mp_int(9), mp_int(42)),
                  tag=0xFFFF0002),
    "stop": frame(6, mp_arr(mp_int(1), mp_int(0))),
    "link": frame(7),
    "unlink": frame(8),
    "mon": frame(9, corr=42),
    "demon": frame(10, corr=42),
    "timer": frame(11, mp_arr(mp_ref(1, 2, 3, 4), mp_int(100)), tag=3),
    # several frames in one message, as a sender batches them
    "batch": frame(1, mp_int(1), tag=1) + frame(1, mp_int(2), tag=1)
             + frame(6, mp_arr(mp_int(1), mp_int(0))),
    # at the nesting limit: 31 non-empty arrays
    "deep": frame(1, b"\x91" * 31 + b"\x90"),
    # 16- and 32-bit headers
    "wide": frame(1, b"\xdd\x00\x00\x00\x02" + b"\xdb\x00\x00\x00\x01a"
                  + b"\xde\x00\x01" + mp_int(1) + b"\xc6\x00\x00\x00\x00"),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in sorted(SEEDS.items()):
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    print("wrote %d seeds to %s" % (len(SEEDS), OUT))


if __name__ == "__main__":
    main()
