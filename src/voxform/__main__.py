"""`python -m voxform`: the same as the `voxform` command."""

from voxform.cli.main import main

main()
