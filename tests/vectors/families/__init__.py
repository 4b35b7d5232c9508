"""One module per layer family of the vector generator, plus the set modules that compose
them (see the docstring of tests/vectors/generate.py)."""
