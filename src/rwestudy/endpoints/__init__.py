"""Endpoint derivation: patient factors, time-to-event endpoints, patient flow.

>>> from rwestudy.demo.generator import make_study
>>> from rwestudy.endpoints import derive_endpoints
>>> ep = derive_endpoints(make_study(n_patients=20, seed=2))
>>> list(ep.flow_summary()["scope"])[:6]
['study', 'OS', 'PFS', 'DoR', 'DFS', 'TTNT']
"""
from rwestudy.endpoints.derive import Endpoints, censoring_rules, derive_endpoints
from rwestudy.endpoints.time_to_event import ENDPOINTS

__all__ = ["ENDPOINTS", "Endpoints", "censoring_rules", "derive_endpoints"]
