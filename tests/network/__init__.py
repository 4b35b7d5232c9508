"""Tests of convcalc/network/."""
