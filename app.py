"""Sequence Playground: `streamlit run app.py`. This file only routes; each page is a file in views/
(not pages/: that folder name would turn on Streamlit's legacy pages-folder mode)."""
import streamlit as st

from ui.context import reap_lost_runs
from ui.layout import apply_styles
from ui.identity import classroom_on, draw_identity

# an emoji, not a :material/ icon: Streamlit fetches a material page icon from a font CDN (offline: no icon)
st.set_page_config(page_title="Sequence Playground", page_icon="🔁", layout="wide")

PAGES = [
    st.Page("views/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("views/train.py", title="Train", icon=":material/model_training:"),
    st.Page("views/gradients.py", title="Gradients", icon=":material/insights:"),
    st.Page("views/inside.py", title="Inside", icon=":material/neurology:"),
    st.Page("views/compare.py", title="Compare", icon=":material/compare_arrows:"),
    st.Page("views/data.py", title="Data", icon=":material/description:"),
    st.Page("views/try.py", title="Try", icon=":material/auto_awesome:"),
]
if classroom_on():  # a teacher key or a login is configured: lessons, the gallery, the queue
    PAGES.append(st.Page("views/classroom.py", title="Class", icon=":material/school:"))

page = st.navigation(PAGES, position="top")
apply_styles()  # chart rows that wrap at narrow widths (ui/layout.py)
draw_identity()  # nothing outside a classroom
reap_lost_runs()  # a run whose process died is shown as failed, never as forever "training"
page.run()
