"""Tests of convcalc/ask/."""
