"""Reusable Qt/pyqtgraph views: they draw the plain data they are given and emit
what the user did. They never import backend jobs; `app` wires them."""
