"""Ranking for ``find``: the walk over the ego graph and the scoring model."""
