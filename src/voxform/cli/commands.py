"""Imports each command module so that it registers itself on the group."""

from voxform.cli import (  # noqa: F401
    apply,
    emulator,
    plan,
    render,
    schema,
    validate,
)
