"""The Streamlit dashboard of the SE-Net Excitation Explorer (UI only; the science lives in se_models)."""
