"""The questions asked of an analysed network: how each size was computed
(explain), what looks like a mistake (lint), and which argument values give a
wanted shape (solve)."""
