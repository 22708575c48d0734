"""Our cohort beside published studies: registry comparisons, MAIC and reconstructed curves."""
