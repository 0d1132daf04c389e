"""The PySide6 editor: widgets, item models, undo adapter, generation controller."""
