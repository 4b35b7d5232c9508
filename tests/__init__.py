"""convcalc's tests. The folders follow the package's (spec/, kinds/, network/, ask/,
formats/, cli/); whole-project tests stay here. Each folder is a package so that two
folders may hold test modules of the same name (ask/test_solve.py, cli/test_solve.py)."""
