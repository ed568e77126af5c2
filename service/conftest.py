"""Unit tests here run serving/ and tools/ as a project does, without generating one.

tests/contract/ is the managed contract suite: it tests a trained project's app and runs in projects only. The one
generated module, serving/settings.py (templates/app/serving/settings.py.ejs), is stood in for by
tests/unit/project_settings.py, whose names must be the template's.
"""

import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
collect_ignore = ["tests/contract"]

sys.path.insert(0, os.path.join(HERE, "tests", "unit"))
import project_settings  # noqa: E402

TEMPLATE = os.path.join(HERE, "..", "templates", "app", "serving", "settings.py.ejs")
with open(TEMPLATE, encoding="utf-8") as fh:
    _template_names = set(re.findall(r"^([A-Z][A-Z0-9_]*) = ", fh.read(), flags=re.M))
_stand_in_names = set(n for n in dir(project_settings) if re.match(r"^[A-Z][A-Z0-9_]*$", n))
if _template_names != _stand_in_names:
    raise RuntimeError(
        "tests/unit/project_settings.py must define exactly the names of settings.py.ejs: missing %s, extra %s"
        % (sorted(_template_names - _stand_in_names), sorted(_stand_in_names - _template_names))
    )
sys.modules["serving.settings"] = project_settings
