"""/v1/stats/* and /v1/network: placeholder module, filled by the dashboards work."""
from __future__ import annotations

from .blueprints import Blueprint

blp = Blueprint("stats", __name__, url_prefix="/v1", description="Counts, time series and the actor network for dashboards.")
