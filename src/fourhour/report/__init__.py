"""Reports: the weekly and monthly four-hour bulletin in text, Markdown, JSON and HTML."""
