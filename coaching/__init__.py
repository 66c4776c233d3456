"""Coaching sessions, action items, cadences and reminders (filled in by the coaching issue)."""
