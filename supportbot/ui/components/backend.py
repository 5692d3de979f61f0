"""URLs of backend routes, as the browser reaches them (port and host may differ from the
page's in development; Reflex's own `getBackendURL` knows)."""

from __future__ import annotations

import json

from reflex.vars.base import Var, VarData
from reflex_base.utils.imports import ImportVar


def backend_url(path: str) -> Var:
    return Var(
        _js_expr=f"new URL({json.dumps(path)}, getBackendURL(env.PING)).href",
        _var_data=VarData(
            imports={
                "$/env.json": [ImportVar(tag="env", is_default=True)],
                "$/utils/state": [ImportVar(tag="getBackendURL")],
            },
        ),
        _var_type=str,
    )
