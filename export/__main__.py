"""`python -m export` runs the same CLI as the `mlexport` console script."""

from export.cli import entrypoint

if __name__ == "__main__":
    entrypoint()
