"""What each page and API endpoint shows, computed from the library (no HTTP here): plain
dictionaries, tables and figures, cached by the caller on the data version."""
