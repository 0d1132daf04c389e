"""Qt item models: thin adapters from the Document to Qt views."""
