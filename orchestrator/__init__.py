"""Graph, planner and executor: the engine that knows nothing of any AWS service."""
