"""The convex max-margin program (14) and its dual (129): routes to P* and rigorous bounds.

Solver choice, the closed form, column generation, the dual oracles and the bounds.
"""
