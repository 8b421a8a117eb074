"""Hostile page scripts that grow a renderer's memory outside the JS heap: the renderer memory cap's test
(tests/test_crawler_browser_page.py) and its benchmark (bench/renderer_memory_bench.py) load the same pages."""

from __future__ import annotations

# Memory the JS heap cap does not see, allocated without end before the page's load event; each grew a renderer
# past 1 GB within seconds when measured without the watchdog.
HOGS = {
    "arraybuffers": "var keep = []; for (;;) { var b = new Uint8Array(64 << 20);"
                    " for (var i = 0; i < b.length; i += 4096) { b[i] = 1; } keep.push(b); }",
    "canvases": "var keep = []; for (;;) { var c = document.createElement('canvas'); c.width = 4096;"
                " c.height = 4096; var x = c.getContext('2d'); x.fillStyle = 'red'; x.fillRect(0, 0, 4096, 4096);"
                " x.getImageData(0, 0, 1, 1); keep.push(c); }",
    "dom": "for (var n = 0; ; n++) { var d = document.createElement('div'); d.className = 'c' + n;"
           " d.textContent = 'entry ' + n + ' '.repeat(200); document.body.appendChild(d); }",
}
