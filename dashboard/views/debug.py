"""A hidden self-check for the multi-user browser test: hooks left on the shared models (SE_EXPLORER_DEBUG=1 only)."""
from __future__ import annotations

import json
import os

import streamlit as st

from dashboard.safety import access
from dashboard.state import cache
from dashboard.state.modelkeys import ModelKey
from se_models import config
from se_models.hooks.manager import hook_count  # SERecorder, Grad-CAM and the ablation must leave none

ENV = config.ENV_DEBUG


def wanted() -> bool:
    """Only when the server was started with SE_EXPLORER_DEBUG=1 and the URL asks for ?debug=hooks."""
    return os.environ.get(ENV) == "1" and st.query_params.get("debug") == "hooks"


def render() -> None:
    """One line of JSON, {model key: hooks on its shared LoadedModel}, for the keys named by ?keys= in the URL: a key
    that names a weights file is checked against the allowed roots like any other, and is refused outside them."""
    counts = {}
    for text in st.query_params.get_all("keys"):
        try:
            key = ModelKey.from_text(text, access.roots())
        except access.PathNotAllowed as err:
            st.error(str(err))
            return
        try:
            counts[text] = hook_count(cache.model(key).model)
        except cache.LOAD_ERRORS as err:
            st.error(f"{key}: cannot be loaded ({type(err).__name__}).")
            return
    st.code(json.dumps(counts), language=None)
