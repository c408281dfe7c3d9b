"""Carrying out a plan: open the providers its changes need, walk it, record the results."""

from __future__ import annotations

from voxform.apply.executor import Executor, Progress
from voxform.apply.outcome import Outcome
from voxform.plan.plan import Plan
from voxform.project import LoadedProject
from voxform.providers.registry import open_providers, provider_for


def apply_plan(
    loaded: LoadedProject,
    plan: Plan,
    progress: Progress,
    *,
    profile: str | None = None,
    parallelism: int = 10,
) -> Outcome:
    """Synthesize every pending change of `plan`, recording each job in the lockfile."""
    targets = loaded.project.targets
    names = {c.target for c in plan.pending if c.target}
    with open_providers(loaded.project, names, profile=profile) as providers:
        executor = Executor(
            loaded.lock_path,
            loaded.lock,
            providers,
            progress,
            parallelism=parallelism,
            rate_limits={n: targets[n].rate_limit for n in providers},
            root=loaded.project.root,
            subtitle_dirs={n: provider_for(targets[n]).subtitle_dir(targets[n]) for n in providers},
        )
        return executor.run(plan)
