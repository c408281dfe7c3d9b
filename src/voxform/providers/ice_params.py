"""The parameters of ICE's calls, spelt once for the client and the provider (which must
not import the client's HTTP stack to describe a call)."""

from __future__ import annotations

from voxform.ice.wire import JOB_TYPE

# Overwrite as the Go SDK sends it; the Python SDK sends "True" (the service takes both).
_BOOLEAN = {True: "true", False: "false"}


def submit_params(
    *,
    input_config: str,
    editing_config: str,
    output_config: str,
    title: str | None = None,
    description: str | None = None,
    user_data: str | None = None,
    overwrite: bool | None = None,
) -> dict[str, str]:
    """SubmitAudioProduceJob's parameters."""
    params = {
        "InputConfig": input_config,
        "EditingConfig": editing_config,
        "OutputConfig": output_config,
    }
    optional = {"Title": title, "Description": description, "UserData": user_data}
    params.update({name: value for name, value in optional.items() if value is not None})
    if overwrite is not None:
        params["Overwrite"] = _BOOLEAN[overwrite]
    return params


def list_params(next_token: str | None, max_results: int = 100) -> dict[str, str]:
    """ListSmartJobs' parameters for audio production jobs, newest first."""
    params = {"JobType": JOB_TYPE, "MaxResults": str(max_results), "SortBy": "CreationTime:Desc"}
    if next_token:
        params["NextToken"] = next_token
    return params
