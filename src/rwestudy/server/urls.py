from django.urls import path

from rwestudy.server import api

urlpatterns = [
    path("api/schema", api.schema, name="api-schema"),
    path("api/token", api.token, name="api-token"),
    path("api/patients", api.patients, name="api-patients"),
    path("api/patients/<str:patient_id>", api.patient, name="api-patient"),
    path("api/audit", api.audit_rows, name="api-audit"),
    path("api/export", api.export, name="api-export"),
    path("api/lock", api.lock, name="api-lock"),
    path("api/unlock", api.unlock, name="api-unlock"),
]
