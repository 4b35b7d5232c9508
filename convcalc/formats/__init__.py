"""Writing an analysis (table, JSON, CSV/TSV, Markdown, PyTorch code) and reading
printed PyTorch models. Only the table writer imports rich, and only when it draws."""
