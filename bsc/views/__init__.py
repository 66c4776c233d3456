"""HTML views of the core app, one module per area."""
