"""Entry point: `streamlit run dashboard/app.py` — shared sidebar, then st.navigation over the four views."""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # streamlit puts dashboard/ on the path, the packages live one level up
    sys.path.insert(0, str(ROOT))

import streamlit as st

from dashboard import ui
from dashboard.panels import sidebar
from dashboard.safety import access
from dashboard.state import frozen, urlstate, warm
from dashboard.views import debug

# Streamlit's full garbage collection after every run walks every long-lived object of torch and timm (some 600 000)
# unless they are frozen: done once here for the app's imports, and again at the start of the run after one that
# imported more (a view's first visit, captum, scikit-learn), so the pause stays small (docs/performance.md).
frozen.freeze_new_imports()

VIEWS = {  # view name (in the URL as ?view=, and its module in dashboard.views) -> (title, icon)
    "image": ("Image", ":material/image_search:"),
    "methods": ("Methods", ":material/filter_center_focus:"),
    "classes": ("Classes", ":material/stacked_line_chart:"),
    "compare": ("Compare", ":material/compare_arrows:"),
    "lesson": ("Lesson", ":material/school:"),
    "about": ("About", ":material/menu_book:"),
}

# Streamlit's default top padding leaves a blank band under the navigation bar: wasted on a projector. It must
# still clear the fixed bar (3.75rem), or a message at the top of a view is half hidden under it; the view's title
# loses its own top padding instead.
CSS = ("<style>[data-testid='stMainBlockContainer']{padding-top:4.25rem}"
       "[data-testid='stMainBlockContainer'] h2{padding-top:0}"
       # the uploader's "20MB per file • PNG, JPG, …" line wraps instead of ending in an ellipsis
       "[data-testid='stFileUploaderDropzoneInstructions'] span{white-space:normal;overflow:visible}</style>")
# the views that use the sidebar's images and Grad-CAM target; the others get the model picker only
NO_IMAGES = {"classes", "compare", "about"}


def icon():
    """The favicon, drawn here: Material and emoji icons would be fetched from a CDN, and the app runs offline."""
    from PIL import Image, ImageDraw

    img = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    for i, h in enumerate((12, 24, 6, 18)):  # four channel gates of different height
        draw.rectangle((2 + 8 * i, 30 - h, 7 + 8 * i, 30), fill=(31, 119, 180, 255))
    return img


def view_render(name: str):
    """The view's render(), its module imported on the view's first visit: the first paint imports only what it
    draws (the Methods view's captum and scipy, the statistics' scikit-learn wait until they are used)."""
    def render() -> None:
        importlib.import_module(f"dashboard.views.{name}").render()

    render.__module__ = f"dashboard.views.{name}"  # what ui.guarded's log names
    return ui.guarded(render)


def main() -> None:
    st.set_page_config(page_title="SE-Net Excitation Explorer", page_icon=icon(), layout="wide")
    st.html(CSS)
    if debug.wanted():  # the multi-user test's check of the shared models (off unless the server is started so)
        debug.render()
        st.stop()
    wanted = st.query_params.get("view", "image")
    if wanted not in VIEWS:
        if "_view_noticed" not in st.session_state:
            st.session_state["_view_noticed"] = True
            urlstate.notice("view", wanted)
        wanted = "image"
    pages = {name: st.Page(view_render(name), title=title, icon=icon, url_path=name, default=name == wanted)
             for name, (title, icon) in VIEWS.items()}
    st.session_state["_pages"] = pages  # for links between views (ui.page)
    current = st.navigation(list(pages.values()), position="top")
    view = next(name for name, page in pages.items() if page is current or page.title == current.title)
    st.query_params["view"] = view  # so a bookmark of the page reopens this view
    # the lesson is for the projector: its steps get the whole width, the sidebar folded away (one click opens it)
    st.set_page_config(initial_sidebar_state="collapsed" if view == "lesson" else "auto")
    try:
        selection = st.session_state["_selection"] = sidebar.render(images=view not in NO_IMAGES)
    except Exception as err:  # noqa: BLE001 - a broken model file must not take the whole app down
        ui.log.exception("sidebar failed")
        st.error(f"Could not load the model or images ({type(err).__name__}: {access.scrub(str(err)[:200])}).")
        st.stop()
    if selection.loaded is None:  # the load failed or waits for a weights file: the sidebar stays usable
        if selection.error:
            st.error(selection.error, icon=":material/error:")
        else:
            st.info(selection.notice, icon=":material/upload_file:")
        if view != "about":  # the only view that needs no model
            st.stop()
    current.run()
    warm.start()  # after the first view is drawn, the other views' libraries load in the background


main()
