"""The whole-graph layer: projections streamed from any store, and algorithms over them.

- :mod:`skiptrace.graph.project`: :func:`~skiptrace.graph.project.project` a store's
  relationships into a :class:`~skiptrace.graph.project.Projection` (id map, edge
  arrays, weights, attributes); views as scipy CSR, igraph and networkx.
- :mod:`skiptrace.graph.walk`: personalised PageRank.
- :mod:`skiptrace.graph.community`: connected components, Leiden, Louvain.

Each algorithm is one plain function over arrays or an igraph Graph; none of
them knows which store the graph came from. Import from the modules
(``from skiptrace.graph.project import project``): the package re-exports
nothing, so ``skiptrace.graph.project`` stays the module.
"""
