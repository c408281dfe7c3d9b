"""`python bench/fuzz ...` (or `python -m fuzz ...` from bench/): run the fuzzer."""

import sys
from pathlib import Path

# Started as a directory, this file is a script, not part of the package: make bench/
# importable so the package can be imported by name.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fuzz.cli import main

if __name__ == "__main__":
    main()
