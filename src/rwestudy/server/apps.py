from django.apps import AppConfig


class ServerConfig(AppConfig):
    name = "rwestudy.server"
    label = "rwe"
    verbose_name = "rwestudy data capture"
    default_auto_field = "django.db.models.BigAutoField"
