"""Trained networks: loading, margins, the KKT fit (Theorem 3), training and trajectories.
"""
