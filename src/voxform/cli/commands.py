"""Imports each command module so that it registers itself on the group."""

from voxform.cli import (  # noqa: F401
    apply,
    plan,
    render,
    schema,
    validate,
)
