"""Figure builders and pictures: plain data in, plotly figures or PNGs out (no Streamlit)."""
