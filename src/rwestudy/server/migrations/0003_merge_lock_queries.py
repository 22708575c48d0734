# Joins the two 0002 migrations written in parallel (study lock, and data clarification queries).
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('rwe', '0002_lock'),
        ('rwe', '0002_queries'),
    ]

    operations = []
