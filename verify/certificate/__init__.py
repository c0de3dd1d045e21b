"""Optimality certificates: building them, and regression (verify regress, pytest plugin).
"""
