"""The URL as shareable state: a widget's value is read from the query string once per session, written back each run.

Every value from the URL is parsed defensively: one that is not an option, out of range, not finite, or written with
other than ASCII digits gives the widget its default and the user a notice, never an exception.

Streamlit 1.67's `bind="query-params"` is used where it fits (`bound`). Checked in 1.67, it cannot do the rest:
- with a format_func it writes and reads the labels ("Fashion-MNIST · trained"), not stable ids (model names, photo
  files, stage names): links would break whenever a label is reworded;
- a bound toggle reads only true/false, so the links already shared (`?fig6=on`) would stop working;
- a bound number_input raises OverflowError on `?per_class=inf` and accepts non-ASCII digits (`int("١٢")` is 12);
- code cannot reset a bound widget (popping its Session State key keeps the URL's value), which a new model or image
  needs (`reset_when_changed`), nor let a preset beat the URL on the first run (the Fig. 6 preset);
- a value needed before its widget is drawn (`peek`: the Grad-CAM layer, the feature-map block) must be read by hand;
- Streamlit drops a bound parameter from the URL while its widget is not drawn, so the sidebar's widgets that only
  some views draw (the Grad-CAM class, the photos) would leave the link on every other view;
- bind drops a value that is no option without a word; `bound` adds the notice.
Those keep the hand-written seeding and publishing below. In the browser, Streamlit writes a bound widget's value
into the URL from the page itself, so AppTest's query_params do not follow it (tests/test_browser_server.py does)."""
from __future__ import annotations

import math
import re

import streamlit as st

SEEDED = "_url_seeded"  # keys already taken from the URL in this session
# ASCII digits only: no "١٢", "²", "1_0", "inf" or "nan"
NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


def notice(key: str, text) -> None:
    """Tell the user that the link's value for `key` was not used (shown once, as the value is read once)."""
    shown = str(text if not isinstance(text, list) else ", ".join(map(str, text)))
    shown = shown if len(shown) <= 40 else shown[:40] + "…"
    st.toast(f"The link's value for “{key}” ({shown!r}) is not valid here: the default is used instead.",
             icon=":material/link_off:")


def seed(key: str, options: list, multi: bool = False) -> bool:
    """Before a widget is created: on its first appearance in this session take its value from the URL, if valid.

    Also drops a remembered value that is no longer an option (e.g. a class of the previous model)."""
    options = list(options)
    if key in st.session_state:
        value = st.session_state[key]
        if multi and isinstance(value, list) and any(v not in options for v in value):
            st.session_state[key] = [v for v in value if v in options]
        elif not multi and value is not None and value not in options:
            del st.session_state[key]
    done: set = st.session_state.setdefault(SEEDED, set())
    if key in done:
        return False
    done.add(key)
    if key not in st.query_params:
        return False
    if multi:
        wanted = list(dict.fromkeys(st.query_params.get_all(key)))
        if any(v not in options for v in wanted):
            notice(key, [v for v in wanted if v not in options])
        st.session_state[key] = [v for v in wanted if v in options]
        return True
    value = st.query_params.get(key)
    if value in options:
        st.session_state[key] = value
        return True
    notice(key, value)
    return False


def peek(key: str, options: list, default):
    """The value a one-choice widget created later in this run will take (from the URL or this session), for work
    that must start before the widget is drawn."""
    seed(key, options)
    value = st.session_state.get(key, default)
    return value if value in options else default


def reset_when_changed(marker: str, value, keys: list[str]) -> None:
    """Forget the widgets `keys` when `value` (the model, the image) differs from the last run's, so they start
    again from their defaults for the new one; the first run keeps what the URL gave them."""
    last = st.session_state.get(marker)
    st.session_state[marker] = value
    if last is not None and last != value:
        for key in keys:
            st.session_state.pop(key, None)


def publish(key: str, value, default=None) -> None:
    """Write a widget's value into the URL; the default is left out, to keep shared links short."""
    if value is None or value == default or (isinstance(value, (list, tuple)) and not value):
        if key in st.query_params:
            del st.query_params[key]
    elif isinstance(value, (list, tuple)):
        st.query_params[key] = [str(v) for v in value]
    else:
        st.query_params[key] = str(value)


def _single(widget, label: str, options: list, key: str, index: int, **kw):
    """A one-choice widget (st.selectbox, st.radio) whose value lives in the URL under `key`."""
    seeded = seed(key, options)
    # a default index next to a seeded Session State value makes Streamlit warn, so index 0 then (ignored anyway)
    value = widget(label, options, index=0 if seeded or key in st.session_state else index, key=key,
                   persist_state="session", **kw)
    publish(key, value, options[index] if options else None)
    return value


def bound(where, label: str, options: list, key: str, index: int = 0, **kw):
    """st.selectbox whose value Streamlit keeps in the URL itself (bind="query-params"): for options that are their
    own stable ids (no format_func), in one view, never reset by code nor read before they are drawn. On the first
    run a value from the URL that is no option gets the default and a notice (Streamlit drops it silently)."""
    done: set = st.session_state.setdefault(SEEDED, set())
    if key not in done:
        done.add(key)
        if key in st.query_params and st.query_params.get(key) not in options:
            notice(key, st.query_params.get(key))
    return where.selectbox(label, options, index=index, key=key, bind="query-params", **kw)


def selectbox(where, label: str, options: list, key: str, index: int = 0, **kw):
    """st.selectbox whose value lives in the URL under `key`."""
    return _single(where.selectbox, label, options, key, index, **kw)


def multiselect(where, label: str, options: list, key: str, default: list | None = None, **kw) -> list:
    """st.multiselect whose value lives in the URL under `key` (repeated: ?classes=a&classes=b)."""
    seeded = seed(key, options, multi=True)
    value = where.multiselect(label, options, default=None if seeded or key in st.session_state else default,
                              key=key, persist_state="session", **kw)
    publish(key, value, default or [])
    return value


def radio(where, label: str, options: list, key: str, index: int = 0, **kw):
    """st.radio whose value lives in the URL under `key`."""
    return _single(where.radio, label, options, key, index, **kw)


ON = ("on", "1", "true", "yes")
OFF = ("off", "0", "false", "no")


def _seed_value(key: str, parse) -> None:
    """On a widget's first appearance in this session, its value from the URL through parse (None = invalid)."""
    done: set = st.session_state.setdefault(SEEDED, set())
    if key in done:
        return
    done.add(key)
    if key in st.query_params:
        text = st.query_params.get(key, "")
        value = parse(text)
        if value is not None:
            st.session_state[key] = value
        else:
            notice(key, text)


def toggle(where, label: str, key: str, value: bool = False, **kw) -> bool:
    """st.toggle whose value lives in the URL as `key=on` / `key=off` (left out at its default)."""
    _seed_value(key, lambda text: True if text.lower() in ON else False if text.lower() in OFF else None)
    on = where.toggle(label, value=value if key not in st.session_state else False, key=key,
                      persist_state="session", **kw)
    publish(key, None if on == value else ("on" if on else "off"))
    return on


def number(text: str, kind, lo, hi, step=None):
    """A URL text -> a number of `kind` inside [lo, hi] (on the step grid from lo, for floats), or None: ASCII digits
    only, finite, a whole number for an int."""
    text = (text or "").strip()
    if len(text) > 40 or not NUMBER.fullmatch(text):
        return None
    x = float(text)
    if not math.isfinite(x) or not lo <= x <= hi or (kind is int and not x.is_integer()):
        return None
    if kind is int:
        return int(x)
    return round(lo + round((x - lo) / step) * step, 6) if step else x


def _number(kind, lo, hi, step=None):
    return lambda text: number(text, kind, lo, hi, step)


def slider(where, label: str, lo, hi, value, step=None, key: str = "", **kw):
    """st.slider over numbers whose value lives in the URL under `key` (left out at its default)."""
    _seed_value(key, _number(type(value), lo, hi, step))
    x = where.slider(label, lo, hi, value if key not in st.session_state else None, step, key=key,
                     persist_state="session", **kw)
    publish(key, x, value)
    return x


def peek_number(key: str, lo, hi, value, step=None):
    """The value a slider created later in this run will take (from the URL or this session), for work that must
    start before the slider is drawn."""
    _seed_value(key, _number(type(value), lo, hi, step))
    return st.session_state.get(key, value)


def number_input(where, label: str, lo: int, hi: int, value: int, step: int = 1, key: str = "", **kw) -> int:
    """An integer st.number_input whose value lives in the URL under `key` (left out at its default)."""
    _seed_value(key, _number(int, lo, hi))
    # "min" is the widget's own default: a value beside a Session State one makes Streamlit warn
    x = where.number_input(label, lo, hi, value if key not in st.session_state else "min", step, key=key,
                           persist_state="session", **kw)
    publish(key, x, value)
    return x


def segmented_control(where, label: str, options: list, key: str, default, **kw):
    """A one-choice st.segmented_control whose value lives in the URL under `key` (left out at its default)."""
    seeded = seed(key, options)
    value = where.segmented_control(label, options, default=None if seeded or key in st.session_state else default,
                                    key=key, persist_state="session", **kw)
    publish(key, value, default)
    return value
