"""Streamlit's floors, what any app pays whatever it does; SE_FLOOR (environment) picks one:
- "fragment" (default): the least a Grad-CAM layer change can cost, a fragment with a select box and one 240 px JPEG
  chosen from four already encoded, nothing computed (dashboard_browser.py --only floor times it like the real change);
- "bare": a cold start to one plotly chart, Streamlit and plotly only;
- "torch": the same after importing torch and timm and running a tiny ResNet (timm's resnet10t, random weights, one
  32 px image): the cold start every PyTorch app pays (dashboard_browser.py --only cold starts it beside the app)."""
import io
import os

import numpy as np
import streamlit as st
from PIL import Image

FLOOR = os.environ.get("SE_FLOOR", "fragment")
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


def one_chart() -> None:
    import plotly.graph_objects as go

    scores = np.linspace(1, 0, 10)
    if FLOOR == "torch":
        import timm
        import torch

        model = timm.create_model("resnet10t", pretrained=False, num_classes=10).eval()
        with torch.inference_mode():
            scores = model(torch.rand(1, 3, 32, 32)).softmax(1)[0].numpy()
    st.plotly_chart(go.Figure(go.Bar(x=[f"class {i}" for i in range(10)], y=scores)), theme=None)


st.markdown(f"## Streamlit's floor ({FLOOR})")
if FLOOR == "fragment":
    part()
else:
    one_chart()
