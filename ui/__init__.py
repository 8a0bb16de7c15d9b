"""Streamlit-side helpers: login gate, sidebar, cached queries, plotly figures, widgets.

The only package besides pages/ and dashboard.py that imports streamlit, and the only
place for ``st.cache_*``. Logic and queries live in ``monitoring`` (see
``monitoring.views``); this package caches and draws them.
"""
