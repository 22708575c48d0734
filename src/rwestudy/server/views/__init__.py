"""The server-rendered pages (Django templates, autoescaped); the JSON API is api.py.

Each page follows the API's rules: the same permissions (permissions.py), the
same checks and reason rule (entry.py), the same query steps (queries.py).
"""
from rwestudy.server.views.admin import audit_export_page, user_change, user_list
from rwestudy.server.views.common import ThrottledLoginForm
from rwestudy.server.views.overview import dashboard, export, patient_list, patient_new
from rwestudy.server.views.patient import patient_audit, patient_page, patient_save
from rwestudy.server.views.queries import query_list, query_open, query_page, query_step

__all__ = ["ThrottledLoginForm", "dashboard", "export", "patient_list", "patient_new", "patient_audit",
           "patient_page", "patient_save", "query_list", "query_open", "query_page", "query_step",
           "audit_export_page", "user_change", "user_list"]
