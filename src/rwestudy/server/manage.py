"""Django's manage.py for developers: `python -m rwestudy.server.manage makemigrations rwe`.

Runs against a throw-away SQLite file unless RWESTUDY_DB is set.
"""
import os
import sys
import tempfile

from rwestudy.server.settings import configure

if __name__ == "__main__":
    db = os.environ.get("RWESTUDY_DB") or os.path.join(tempfile.mkdtemp(), "manage.sqlite")
    os.environ.setdefault("RWESTUDY_SECRET_KEY", "manage-py-only")
    configure(db)
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
