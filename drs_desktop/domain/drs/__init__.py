"""DRS as the engine and the views know it: frozen views of its resources and its errors."""
