"""The paper's figures (matplotlib, Agg backend) and the numbers behind them.
"""
