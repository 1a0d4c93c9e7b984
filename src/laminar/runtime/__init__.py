"""The streaming runtime: micro-batching, de-duplication, partitions, pipeline stats.

Knows nothing of SQL text: the planner (laminar.sql) hands it a source and a
function to run on every batch.
"""
