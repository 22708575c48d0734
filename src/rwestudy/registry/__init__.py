"""Published aggregate results as data files, each number with its source and quote.

>>> from rwestudy.registry import load_registry
>>> studies = load_registry()                      # shipped entries
>>> "lmind-primary" in {s.id for s in studies}
True
>>> # plus the user's own files:
>>> studies = load_registry(extra_dirs=["my_registry/"])  # doctest: +SKIP
"""
from rwestudy.registry.loader import (Problem, RegistryError, Source, Study, Value, get_study, load_registry,
                                      shipped_files, validate_registry)
from rwestudy.registry.spec import FIELDS, json_schema

__all__ = ["FIELDS", "Problem", "RegistryError", "Source", "Study", "Value", "get_study", "json_schema",
           "load_registry", "shipped_files", "validate_registry"]
