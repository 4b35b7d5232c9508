"""The network: statements bound to kinds and wired into a graph (blocks expanded),
shapes propagated through it, and what follows from them — memory and receptive
field — gathered in one analysis record."""
