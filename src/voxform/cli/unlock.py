"""`voxform unlock ID`: release an apply lease whose holder is gone."""

from __future__ import annotations

import click

from voxform.cli.common import project_dir, reporting
from voxform.report import Reporter
from voxform.report.base import printable
from voxform.state.lease import LEASE, holder_of, release


@click.command()
@click.argument("lease_id", metavar="ID")
@click.pass_context
@reporting
def unlock(ctx: click.Context, reporter: Reporter, lease_id: str) -> None:
    """Release the apply lease ID (named by the error of an apply that found it held).

    Only for a lease whose apply is gone, e.g. on another machine: two applies at once can
    submit the same items twice.
    """
    released = release(project_dir(ctx), lease_id)
    # info() keeps a message's own line breaks: what the lease file says must not add any.
    if released.found != "a lease file":
        reporter.info(printable(f"Removed {released.found} at {LEASE} (lease {lease_id})."))
        return
    who = holder_of(released.held)
    reporter.info(printable(f"Released lease {lease_id}" + (f" ({who})." if who else ".")))
