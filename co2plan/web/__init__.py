"""The web app (``co2plan web serve``): public, supplier and enterprise views with roles enforced in the
data layer, supplier submissions (versioned, audited), the planner's scenario cockpit.

Inner layers (import-linter): server -> app/routes (HTTP) -> data, forms, runner, charts, submissions ->
store, security, settings. Only ``data`` and ``store`` read the lake or the database; fastapi is imported
lazily so nothing below pays for it.
"""

from core.exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "create_app": "co2plan.web.app:create_app",
    "main": "co2plan.web.server:main",
    "Store": "co2plan.web.store:Store",
    "WebSettings": "co2plan.web.settings:WebSettings",
})
