"""Input: the study contract (schema), readers, date parsing, column mapping, writers."""
