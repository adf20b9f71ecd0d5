"""HTTP handlers, one module per audience or resource; app.py adds each module's routes."""
