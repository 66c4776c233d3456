"""The demo organization's fixed facts, shared by `seed_demo` and the `make run` banner."""

DEMO_SLUG = "northwind"
DEMO_PASSWORD = "demo-scorecard-2026"
DEMO_TREE = {
    "Operations": ["Assembly", "Quality Assurance", "Maintenance"],
    "Sales & Marketing": ["Inside Sales", "Field Sales", "Marketing"],
    "Finance & People": ["Finance", "Human Resources"],
}
# (persona shown by `make run`, email, full name, role, units the role is scoped to)
DEMO_USERS = [
    ("admin", "admin@northwind.example", "Ada Admin", "admin", []),
    ("executive", "ceo@northwind.example", "Erin Executive", "executive", []),
    ("department head", "ops.head@northwind.example", "Dan Department", "department_head", ["Operations"]),
    ("coach", "coach@northwind.example", "Cora Coach", "coach", []),
    ("viewer", "viewer@northwind.example", "Vic Viewer", "viewer", []),
]
DEMO_LOGINS = [(persona, email) for persona, email, *_ in DEMO_USERS]
