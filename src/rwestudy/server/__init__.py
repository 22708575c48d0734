"""`rwestudy serve`: multicenter data capture on the study's own input contract.

A Django app, embedded: settings are built in code from a database URL
(settings.py), so there is no project folder, manage.py or settings file to
keep. The layout is a Django app's: models, forms, permissions, checks (the
bridge to `rwestudy validate`'s rules), api (JSON views), audit (hash chain),
snapshot (the locked export) and migrations, each in its place.
"""
