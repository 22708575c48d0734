"""Number formatting lives in `rwestudy.core.format` (the figures use it too); this name is kept
for code written against it."""
from rwestudy.core.format import *  # noqa: F401,F403
from rwestudy.core.format import __all__  # noqa: F401
