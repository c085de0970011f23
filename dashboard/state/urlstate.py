"""The URL as shareable state: a widget's value is read from the query string once per session, written back each run.

Streamlit's own `bind="query-params"` writes format_func labels ("Fashion-MNIST · trained") into the URL; these
wrappers keep stable ids there (model names, photo files, class names) while the widgets show human labels."""
from __future__ import annotations

import streamlit as st

SEEDED = "_url_seeded"  # keys already taken from the URL in this session


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
        st.session_state[key] = [v for v in dict.fromkeys(st.query_params.get_all(key)) if v in options]
        return True
    value = st.query_params.get(key)
    if value in options:
        st.session_state[key] = value
        return True
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


def _seed_value(key: str, parse) -> None:
    """On a widget's first appearance in this session, its value from the URL through parse (None = invalid)."""
    done: set = st.session_state.setdefault(SEEDED, set())
    if key in done:
        return
    done.add(key)
    if key in st.query_params:
        value = parse(st.query_params.get(key, ""))
        if value is not None:
            st.session_state[key] = value


def toggle(where, label: str, key: str, value: bool = False, **kw) -> bool:
    """st.toggle whose value lives in the URL as `key=on` / `key=off` (left out at its default)."""
    _seed_value(key, lambda text: text.lower() in ON)
    on = where.toggle(label, value=value if key not in st.session_state else False, key=key,
                      persist_state="session", **kw)
    publish(key, None if on == value else ("on" if on else "off"))
    return on


def _number(kind, lo, hi, step=None):
    """A URL text -> a number of `kind` inside [lo, hi] (on the step grid from lo, for floats), or None."""
    def parse(text: str):
        try:
            x = kind(float(text)) if kind is int else kind(text)
        except ValueError:
            return None
        if not lo <= x <= hi:
            return None
        return round(lo + round((x - lo) / step) * step, 6) if step and kind is float else x
    return parse


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
