"""The Streamlit script: login gate, sidebar status, navigation over pages/."""

import streamlit as st

st.set_page_config(page_title="Prediction Monitor", layout="wide")
st.title("Prediction Monitor")
st.write("starting")
