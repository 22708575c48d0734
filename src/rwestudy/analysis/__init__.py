"""Analysis: the plan, the standard pipeline, results.json."""
