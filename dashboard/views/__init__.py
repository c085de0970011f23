"""The app's views, one module per page of st.navigation, each exposing render(); no view imports another.

Not named `pages/`: Streamlit treats a `pages/` folder beside the entry script as the pages of an old-style
multipage app, and a fragment's rerun then loses its widgets.

May import: dashboard.panels, dashboard.state, dashboard.safety, dashboard.ui / exports / wording, and se_models."""
