"""The editor's widgets and docks."""
