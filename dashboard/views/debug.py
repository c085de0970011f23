"""A hidden self-check for the multi-user browser test: hooks left on the shared models (SE_EXPLORER_DEBUG=1 only)."""
from __future__ import annotations

import json
import os

import streamlit as st

from dashboard.state import cache
from se_models.hooks.manager import hook_count  # SERecorder, Grad-CAM and the ablation must leave none

ENV = "SE_EXPLORER_DEBUG"


def wanted() -> bool:
    """Only when the server was started with SE_EXPLORER_DEBUG=1 and the URL asks for ?debug=hooks."""
    return os.environ.get(ENV) == "1" and st.query_params.get("debug") == "hooks"


def render() -> None:
    """One line of JSON, {model key: hooks on its shared LoadedModel}, for the keys named by ?keys= in the URL."""
    keys = st.query_params.get_all("keys")
    counts = {key: hook_count(cache.model(key).model) for key in keys}
    st.code(json.dumps(counts), language=None)
