"""Statistics on plain DataFrames: survival, Cox, tests, proportions."""
