"""Headless Chromium, from the system's packages (Debian: `chromium`), to print the page as a PDF and to take
screenshots of it. A browser prints exactly what an analyst sees on screen, the same CSS and the same SVG.

Chromium is found as `VRAEM_CHROMIUM`, else `chromium`, `chromium-browser` or `google-chrome` on the PATH. It
runs with no network and a throw-away profile: the page needs nothing from outside.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
TIMEOUT_S = 120

#: Without the background-networking flags Chromium keeps trying to reach Google and is slow to exit offline.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    "--mute-audio",
    "--no-default-browser-check",
)


class BrowserNotFound(RuntimeError):
    """No Chromium on this machine: the HTML and the workbook are written, the PDF is not."""


def chromium() -> str:
    explicit = os.environ.get("VRAEM_CHROMIUM")
    if explicit:
        return explicit
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise BrowserNotFound(
        "PDF no generado: no se encontró Chromium (instale el paquete `chromium` o defina "
        "VRAEM_CHROMIUM con la ruta del navegador); el HTML y el libro .xlsx sí se escribieron"
    )


def _run(html: Path, *args: str) -> None:
    with tempfile.TemporaryDirectory(prefix="vraem-chromium-") as profile:
        cmd = [chromium(), *FLAGS, f"--user-data-dir={profile}", *args, html.resolve().as_uri()]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise RuntimeError(f"{html}: Chromium terminó con código {done.returncode}: {' | '.join(tail)}")


def print_pdf(html: Path, pdf: Path) -> Path:
    """The page as Chromium prints it (A4, the page's own @page margins, no header or footer)."""
    pdf.unlink(missing_ok=True)
    _run(html, f"--print-to-pdf={pdf.resolve()}", "--no-pdf-header-footer", "--virtual-time-budget=5000")
    if not pdf.exists() or pdf.stat().st_size == 0:
        raise RuntimeError(f"{html}: Chromium no escribió el PDF {pdf}")
    return pdf


def screenshot(html: Path, png: Path, *, width: int = 900, height: int = 1400) -> Path:
    """A PNG screenshot of the page's first `alto` pixels at `ancho` pixels wide."""
    png.unlink(missing_ok=True)
    _run(html, f"--screenshot={png.resolve()}", f"--window-size={width},{height}", "--virtual-time-budget=5000")
    if not png.exists():
        raise RuntimeError(f"{html}: Chromium no escribió la captura {png}")
    return png
