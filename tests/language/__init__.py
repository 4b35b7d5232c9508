"""Tests of convcalc/language/."""
