"""Tests of convcalc/kinds/."""
