"""Sequence Playground: `streamlit run app.py`. This file only routes; each page is a file in pages/."""
import streamlit as st

from ui.context import reap_lost_runs

# an emoji, not a :material/ icon: Streamlit fetches a material page icon from a font CDN (offline: no icon)
st.set_page_config(page_title="Sequence Playground", page_icon="🔁", layout="wide")

PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("pages/gradients.py", title="Gradients", icon=":material/insights:"),
    st.Page("pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
    st.Page("pages/data.py", title="Data", icon=":material/description:"),
    st.Page("pages/try.py", title="Try", icon=":material/auto_awesome:"),
]

page = st.navigation(PAGES, position="top")
reap_lost_runs()  # a run whose process died is shown as failed, never as forever "training"
page.run()
