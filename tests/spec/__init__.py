"""Tests of convcalc/spec/."""
