"""REDCap in and out: read a project's data dictionary and record export into the
canonical study; write our contract as a REDCap data dictionary.

One concept per module: `dictionary` (the data dictionary file), `records` (the
record export: raw or labels, headers raw or labels), `mapping` (REDCap names and
codes -> our contract, and the suggested draft), `convert` (records -> our tables,
every record accounted for), `export_dictionary` (our contract -> a dictionary).
See docs/redcap.md.
"""
