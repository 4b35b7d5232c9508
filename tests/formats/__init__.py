"""Tests of convcalc/formats/."""
