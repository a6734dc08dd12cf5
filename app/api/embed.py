"""The embed endpoints merchants' pages call (DESIGN §8)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__)
