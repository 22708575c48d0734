from django.contrib.auth import views as auth_views
from django.urls import path, re_path

from rwestudy.server import api, api_queries, views

urlpatterns = [
    path("api/schema", api.schema, name="api-schema"),
    path("api/token", api.token, name="api-token"),
    path("api/patients", api.patients, name="api-patients"),
    path("api/patients/<str:patient_id>", api.patient, name="api-patient"),
    path("api/audit", api.audit_rows, name="api-audit"),
    path("api/audit/export", api.audit_export, name="api-audit-export"),
    path("api/export", api.export, name="api-export"),
    path("api/lock", api.lock, name="api-lock"),
    path("api/unlock", api.unlock, name="api-unlock"),
    path("api/queries", api_queries.query_list, name="api-queries"),
    re_path(r"^api/queries/(?P<query_id>[0-9]+)/(?P<action>answer|close|reopen)$", api_queries.query_step,
            name="api-query-step"),
    # The pages (Django's own login and logout views; every other page requires a login).
    path("login/", auth_views.LoginView.as_view(template_name="rwestudy/login.html",
                                                authentication_form=views.ThrottledLoginForm,
                                                next_page="dashboard", redirect_authenticated_user=True),
         name="login"),
    path("logout/", auth_views.LogoutView.as_view(next_page="login"), name="logout"),
    path("", views.dashboard, name="dashboard"),
    path("patients/", views.patient_list, name="patient-list"),
    path("patients/new", views.patient_new, name="patient-new"),
    path("patients/<str:patient_id>/", views.patient_page, name="patient-page"),
    path("patients/<str:patient_id>/save", views.patient_save, name="patient-save"),
    path("patients/<str:patient_id>/audit", views.patient_audit, name="patient-audit"),
    path("queries/", views.query_list, name="query-list"),
    path("queries/open", views.query_open, name="query-open"),
    path("queries/<int:query_id>/", views.query_page, name="query-page"),
    path("queries/<int:query_id>/<str:action>", views.query_step, name="query-step"),
    path("export", views.export, name="export"),
    path("audit/export", views.audit_export_page, name="audit-export"),
    path("users/", views.user_list, name="user-list"),
    path("users/<str:username>/", views.user_change, name="user-change"),
]
