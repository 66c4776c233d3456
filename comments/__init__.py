"""Comments on KPIs, objectives, initiatives and action items: threaded, Markdown sanitised, with @mentions."""
