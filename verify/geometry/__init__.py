"""The geometry of the data: exact arithmetic, proven ranks and signs, chambers, faces.

Hyperplane-arrangement chambers and their exact counts, faces, the networkx lattice,
orthogonal separability, the spike-free test, and the dataset audit that combines them.
"""
