"""The Streamlit script: login gate, sidebar status, then navigation over pages/.

Only routing lives here. Before login nothing but the login form renders; the
navigation is still declared (hidden) so Streamlit never lists pages/ by itself.
Pages are given by absolute path, so the script works wherever it is started from.
"""

from pathlib import Path

import streamlit as st

from ui import auth, session, sidebar

st.set_page_config(page_title="Prediction Monitor", page_icon=":material/monitoring:", layout="wide")

monitor = session.monitor()
actor = auth.gate(monitor)
if actor is None:
    st.navigation([st.Page(lambda: None, title="Log in", url_path="login")], position="hidden")
    st.stop()

sidebar.render(monitor, actor)
PAGES = Path(__file__).resolve().parent / "pages"
page = st.navigation({"Monitor": [
    st.Page(PAGES / "alerts.py", title="Alerts", icon=":material/notifications:", default=True),
    st.Page(PAGES / "history.py", title="History", icon=":material/timeline:"),
    st.Page(PAGES / "drift.py", title="Drift", icon=":material/query_stats:"),
    st.Page(PAGES / "metrics.py", title="Metrics", icon=":material/speed:"),
    st.Page(PAGES / "settings.py", title="Settings", icon=":material/settings:"),
]})
page.run()
