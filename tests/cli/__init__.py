"""Tests of convcalc/cli/."""
