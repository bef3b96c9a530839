"""Issue 11, item 9: safe by default on a network (the running server's bind address is checked in
tests/e2e/test_offline_and_names.py), and the page icon needs no font CDN."""
from __future__ import annotations

import re
from pathlib import Path
import tomllib

ROOT = Path(__file__).resolve().parents[2]


def test_streamlit_config_binds_localhost_and_hides_tracebacks():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "127.0.0.1"
    assert config["client"]["showErrorDetails"] in ("type", "none")


def test_make_app_binds_localhost_unless_told_otherwise():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^HOST \?= 127\.0\.0\.1$", makefile, re.MULTILINE)
    app = re.search(r"^app: .*\n\t(.*)$", makefile, re.MULTILINE).group(1)
    assert "--server.address $(HOST)" in app and "showErrorDetails full" not in app
    dev = re.search(r"^app-dev: .*\n\t(.*)$", makefile, re.MULTILINE).group(1)
    assert "--client.showErrorDetails full" in dev


def test_no_page_icon_comes_from_a_font_cdn():
    app = (ROOT / "app.py").read_text()
    icon = re.search(r"page_icon=(\"[^\"]*\"|'[^']*')", app).group(1)
    assert ":material/" not in icon  # Streamlit fetches a material page icon from fonts.gstatic.com
