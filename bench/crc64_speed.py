"""CRC-64 (OSS's x-oss-hash-crc64ecma) throughput: voxform's (crcmod-plus's C table loop)
against a table-driven loop in pure Python, on audio-sized buffers. Prints MB/s, medians."""

from __future__ import annotations

import argparse
import os
import statistics
import time

from voxform.oss.crc64 import crc64

_TABLE = []
for _n in range(256):
    _c = _n
    for _ in range(8):
        _c = (_c >> 1) ^ (0xC96C5795D7870F42 if _c & 1 else 0)
    _TABLE.append(_c)


def table_python(data: bytes) -> int:
    """The table-driven CRC-64/XZ in pure Python, one byte a step."""
    crc = 0xFFFFFFFFFFFFFFFF
    table = _TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFFFFFFFFFF


def speed(fn: object, data: bytes, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(data)  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return len(data) / statistics.median(times) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--megabytes", type=float, default=8.0)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    data = os.urandom(int(args.megabytes * 1e6))
    small = data[:1_000_000]
    assert crc64(small) == table_python(small)
    print(f"crc64 (crcmod-plus C):  {speed(crc64, data, args.repeat):8.1f} MB/s")
    print(f"crc64 (pure Python):    {speed(table_python, small, args.repeat):8.1f} MB/s")


if __name__ == "__main__":
    main()
