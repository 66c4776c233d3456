"""Evidence files on measurements, action items and coaching sessions, served only through a scoped view."""
