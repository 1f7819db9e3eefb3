"""Rendering results for people: table writers (CSV, XLSX, DOCX, LaTeX, Markdown, HTML), SVG charts and the HTML report."""
