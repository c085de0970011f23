"""The least a Grad-CAM layer change can cost in Streamlit: a fragment with a select box and one 240 px JPEG chosen
from four already encoded, nothing computed. dashboard_browser.py --only floor times it like the real change."""
import io

import numpy as np
import streamlit as st
from PIL import Image

LAYERS = ["SE_2_3", "SE_3_4", "SE_4_6", "SE_5_3"]


@st.cache_data
def pictures() -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    out = {}
    for name in LAYERS:
        buf = io.BytesIO()
        Image.fromarray(rng.integers(0, 256, (240, 240, 3), dtype=np.uint8)).save(buf, "JPEG", quality=92)
        out[name] = buf.getvalue()
    return out


@st.fragment
def part() -> None:
    slot = st.empty()
    layer = st.selectbox("Grad-CAM layer", LAYERS, format_func=lambda b: f"stage {LAYERS.index(b) + 2} · {b}")
    slot.image(pictures()[layer], width=240, caption=f"Evidence for “cat” at {layer}")


st.markdown("## Streamlit's floor")
part()
