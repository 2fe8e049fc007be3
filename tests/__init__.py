"""A regular package so that `tests.helpers` resolves to this repository's helpers even if some
installed distribution ships a top-level `tests` package. The test directories below have no
__init__.py: pytest imports their files by basename, as before."""
