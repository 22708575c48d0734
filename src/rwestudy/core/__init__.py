"""The bottom layer: the vocabulary every package shares, importing nothing else of rwestudy.

- `findings`: the findings type (one row per problem in the data: severity, rule, table,
  row, column, value, patient, center, message) that readers, validation, the server and
  every import door produce;
- `format`: number formatting (p-values, percentages, CIs, hazard ratios) shared by the
  report's tables, its prose and the figures;
- `yesno`: the yes/no spellings accepted by every reader and rule;
- `defaults`: the study-wide defaults (days per month, the AE window).

An arrow never runs up from here (`tests/test_architecture.py` checks the layers).
"""
