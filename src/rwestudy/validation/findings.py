"""The findings type lives in `rwestudy.core.findings` (the readers below validation use it too);
this name is kept for code written against it."""
from rwestudy.core.findings import *  # noqa: F401,F403
from rwestudy.core.findings import __all__  # noqa: F401
