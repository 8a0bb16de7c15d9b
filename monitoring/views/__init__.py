"""Read models for the dashboard pages: plain data out of the store, no streamlit.

Each page has one module here (alerts, history, drift, ops); the pages only cache and
draw what these return. Everything is aggregated in SQL or read from small tables,
so a page costs the same at a million stored rows as at ten thousand.
"""
