"""The infrastructure itself, as declarations. No boto3 here."""

from __future__ import annotations

from orchestrator.model import load_plan as load

__all__ = ["load"]
