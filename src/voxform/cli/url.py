"""`voxform url ID`: a presigned link to an ICE item's audio, to share a take for review."""

from __future__ import annotations

import click

from voxform.cli.common import expires_option, load, profile_option, reporting
from voxform.errors import VoxformError, did_you_mean
from voxform.oss.signing import MAX_EXPIRES
from voxform.providers.credentials import load_credentials
from voxform.providers.registry import provider_for
from voxform.pull.run import client_for
from voxform.pull.wanted import choose
from voxform.report import Reporter


@click.command()
@click.argument("item_id", metavar="ID")
@expires_option(f"How long the URL works, at most {MAX_EXPIRES} (7 days, OSS's limit).")
@profile_option
@click.pass_context
@reporting
def url(
    ctx: click.Context, reporter: Reporter, item_id: str, expires: int, profile: str | None
) -> None:
    """Print a presigned GET URL of ID's audio object in OSS (default: valid 1 hour).

    Anyone with the URL can download the object until it expires, without credentials.
    It is signed with OSS4-HMAC-SHA256 in the query: it carries the access key id and the
    signature, never the secret; with STS credentials it also carries the STS token
    (x-oss-security-token), as OSS requires, and stops working when the token expires.
    """
    loaded = load(ctx, reporter)
    loaded.require_valid()
    by_id = {r.id: r for r in loaded.rendered}
    if item_id not in by_id:
        raise VoxformError(f"no item {item_id!r}{did_you_mean(item_id, by_id)}")
    item = by_id[item_id]
    name = item.item.settings.target
    target = loaded.project.targets[name]
    if target.provider != "ice":
        folder = provider_for(target).subtitle_dir(target)
        raise VoxformError(
            f"{item_id!r} is on the local target {name!r}: its audio is a file in the project"
            f" (under {folder}/), not an object in OSS, so there is no URL to sign"
        )
    choice = choose([item], loaded.lock, loaded.project.targets)
    if choice.unfinished:
        raise VoxformError(f"{item_id!r} is not finished in voxform.lock: apply makes its audio")
    if choice.moved:
        raise VoxformError(
            f"{item_id!r}: its bucket, key or format changed since its audio was made; apply first"
        )
    with client_for(target, load_credentials(profile)) as client:
        link = client.presigned_get_url(choice.wanted[0].key, expires=expires)
    reporter.link(item_id, link, expires)
