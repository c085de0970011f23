"""Shared Streamlit pieces: a chart with its downloads, the error guard around every view."""
from __future__ import annotations

import functools
import logging

import streamlit as st

from dashboard import exports
from dashboard.safety import access

log = logging.getLogger("dashboard")


def plotly_config(name: str) -> dict:
    # the modebar's camera icon saves a PNG in the browser, no server round trip
    return {"displaylogo": False,
            "toImageButtonOptions": {"format": "png", "filename": exports.slug(name), "scale": 2}}


def chart(fig, key: str, name: str, downloads: bool = True, height="content", select: bool = False):
    """Draw a plotly figure at full width, with HTML and PNG downloads built only when clicked; height "stretch"
    fills the rest of a container of fixed height (the lesson's screen). select: a click on a point reruns the app,
    and the returned event's selection holds the point (None without select)."""
    picks = dict(on_select="rerun", selection_mode="points") if select else {}
    event = st.plotly_chart(fig, key=key, theme=None, config=plotly_config(name), height=height, **picks)
    if downloads:
        download_row(fig, key, name)
    return event if select else None


def page(view: str):
    """The st.Page of a view (app.py keeps them), for st.page_link and st.switch_page."""
    return st.session_state["_pages"][view]


def download_row(fig, key: str, name: str) -> None:
    stem = exports.slug(name)
    with st.container(horizontal=True, gap="small"):
        # callables run only on click, so a rerun never pays for plotly.js inlining or a Chromium launch
        st.download_button("HTML", lambda: exports.figure_html(fig), f"{stem}.html", "text/html",
                           key=f"{key}_html", icon=":material/download:", type="tertiary", on_click="ignore")
        st.download_button("PNG", lambda: exports.figure_png(fig), f"{stem}.png", "image/png",
                           key=f"{key}_png", icon=":material/download:", type="tertiary", on_click="ignore")


def table(rows: list[dict]) -> None:
    """Rows of equal keys as a static table, through Markdown: st.table converts its rows through pandas and pyarrow,
    imported on its first call, a visible part of a cold start that the Image view's first paint need not pay."""
    def cell(value) -> str:
        return str(value).replace("|", "\\|")

    head = list(rows[0])
    lines = ["| " + " | ".join(map(cell, head)) + " |", "|" + " --- |" * len(head)]
    lines += ["| " + " | ".join(cell(row[k]) for k in head) + " |" for row in rows]
    st.markdown("\n".join(lines))


def colour_legend(colours: list[str], low: str, high: str, width: int) -> None:
    """A horizontal colour bar with its two ends named: what a heatmap's colours mean."""
    stops = ", ".join(colours)
    st.html(f"<div style='width:{width}px;font-size:0.8rem;color:#555' aria-label='colour scale'>"
            f"<div style='height:10px;border-radius:2px;background:linear-gradient(to right, {stops})'></div>"
            f"<div style='display:flex;justify-content:space-between'><span>{low}</span><span>{high}</span></div>"
            "</div>")


def guarded(render):
    """Run a view; an unexpected error becomes one short st.error instead of a traceback (logged for us)."""
    @functools.wraps(render)
    def run(*args, **kwargs) -> None:
        try:
            render(*args, **kwargs)
        except Exception as err:  # noqa: BLE001 - the last line of defence for the user
            log.exception("view %s failed", render.__module__)
            detail = access.scrub(str(err).splitlines()[0][:200]) if str(err) else "no details"
            st.error(f"Something went wrong while drawing this view ({type(err).__name__}: {detail}). "
                     "Try another model or image; the other views still work.")
    return run


def selection():
    """The sidebar's choices (a Selection), set by app.py before the view runs."""
    return st.session_state["_selection"]
