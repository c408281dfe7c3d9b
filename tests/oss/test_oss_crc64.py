"""CRC-64 as OSS computes it: the catalogue's check value, the SDK's own CRC, any split."""

from __future__ import annotations

from alibabacloud_oss_v2.crc import Crc64 as SdkCrc64
from hypothesis import given
from hypothesis import strategies as st

from voxform.oss.crc64 import Crc64, crc64


def bitwise(data: bytes) -> int:
    """CRC-64/XZ one bit at a time: the definition, independent of any table."""
    crc = 0xFFFFFFFFFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0xC96C5795D7870F42 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFFFFFFFFFF


def test_the_check_value_of_the_crc_catalogue() -> None:
    assert crc64(b"123456789") == 0x995DC9BBDF1939FA
    assert crc64(b"") == 0


@given(st.binary(max_size=300), st.integers(0, 300))
def test_it_equals_the_definition_and_the_sdk_however_the_bytes_are_split(
    data: bytes, cut: int
) -> None:
    running = Crc64()
    running.update(data[:cut])
    running.update(data[cut:])
    sdk = SdkCrc64(0)
    sdk.update(data)
    assert running.value == crc64(data) == bitwise(data) == sdk.sum64()
    assert running.size == len(data)
