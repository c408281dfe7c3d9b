"""`python bench/fuzz.py ...`, the command the notes quote: runs the fuzz package beside it
(bench/fuzz/, which a directory's import takes before this file)."""

from fuzz.cli import main

if __name__ == "__main__":
    main()
