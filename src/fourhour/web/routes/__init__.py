"""HTTP routes: pages per area (England, organisations, oversight, capacity) and the API."""
