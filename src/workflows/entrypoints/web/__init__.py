"""The web app: server-rendered pages (Jinja) for clerks, supervisors,
designers and applicants. Each view checks who is signed in, calls one use case, and renders its result.

The blueprint and what every page uses are base.py's; the modules of one concern each put their views on it."""
from __future__ import annotations

from .base import ASSETS, blueprint  # noqa: F401 - app.py registers the blueprint, tests read the assets' place

from . import assets  # noqa: E402,F401 - the bundles of web/dist, hashed and precompressed
from . import auth, pages, supervisor  # noqa: E402,F401 - the views register themselves on the blueprint
from . import designer, public  # noqa: E402,F401
from . import case_files  # noqa: E402,F401
from . import materials  # noqa: E402,F401
from . import task_operations  # noqa: E402,F401
from . import agency_messages  # noqa: E402,F401 - 转移接续 on the case page
from . import followups  # noqa: E402,F401 - 差评回访 on the desk
from . import documents  # noqa: E402,F401 - 文书 on the task and case pages
from . import case_operations  # noqa: E402,F401
from . import incidents  # noqa: E402,F401 - 故障处理
from . import decisions  # noqa: E402,F401 - 决策表 (DMN) list and editor for designers
from . import outbox  # noqa: E402,F401 - 后台任务: the outbox's failures, retried
from . import migrations  # noqa: E402,F401 - 案件迁移 and the case page's 跳转
from . import applicant_messages  # noqa: E402,F401 - 短信通知 of the applicant on the case page
