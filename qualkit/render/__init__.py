"""Writing results for people: table writers (CSV, XLSX, DOCX, LaTeX, Markdown, HTML) and SVG charts. Generic: they know tables, not studies."""
