"""Tests of the ICE emulator; its fixtures (conftest) are importable as emulator.conftest."""
