"""The emulator's ids are random version-4 UUIDs, spelt as the service spells them."""

from __future__ import annotations

import uuid

from voxform.emulator.ids import random_hex, request_id


def test_ids_are_distinct_version_4_uuids_in_the_services_spelling() -> None:
    hexes = [random_hex() for _ in range(2000)]
    requests = [request_id() for _ in range(2000)]
    assert len(set(hexes)) == len(hexes) and len(set(requests)) == len(requests)
    for value in hexes:
        parsed = uuid.UUID(hex=value)
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
        assert value == parsed.hex
    for value in requests:
        parsed = uuid.UUID(value)
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
        assert value == str(parsed).upper()
