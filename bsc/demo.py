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

# The company map: (perspective, name, x, y) and arrows between objective names.
DEMO_COMPANY_OBJECTIVES = [
    ("Financial", "Grow revenue profitably", 230, 50),
    ("Financial", "Improve operating margin", 830, 50),
    ("Customer", "Deliver on time, every time", 30, 50),
    ("Customer", "Win key accounts", 330, 50),
    ("Customer", "Be the quality benchmark", 630, 50),
    ("Internal Process", "Cut order-to-delivery lead time", 30, 50),
    ("Internal Process", "Develop products with customers", 330, 50),
    ("Internal Process", "Reduce scrap and rework", 630, 50),
    ("Internal Process", "Lower cost per unit", 930, 50),
    ("Learning & Growth", "Connect shop-floor data", 30, 50),
    ("Learning & Growth", "Keep key talent", 330, 50),
    ("Learning & Growth", "Build lean and quality skills", 630, 50),
]
DEMO_COMPANY_LINKS = [
    ("Deliver on time, every time", "Grow revenue profitably"),
    ("Win key accounts", "Grow revenue profitably"),
    ("Be the quality benchmark", "Win key accounts"),
    ("Lower cost per unit", "Improve operating margin"),
    ("Cut order-to-delivery lead time", "Deliver on time, every time"),
    ("Reduce scrap and rework", "Be the quality benchmark"),
    ("Reduce scrap and rework", "Lower cost per unit"),
    ("Develop products with customers", "Win key accounts"),
    ("Build lean and quality skills", "Reduce scrap and rework"),
    ("Connect shop-floor data", "Cut order-to-delivery lead time"),
    ("Keep key talent", "Develop products with customers"),
]
# (objective, initiative, owner email, status, progress)
DEMO_INITIATIVES = [
    (
        "Cut order-to-delivery lead time",
        "Pull-based scheduling on line 2",
        "ops.head@northwind.example",
        "on_track",
        45,
    ),
    ("Reduce scrap and rework", "Six Sigma green-belt programme", "coach@northwind.example", "at_risk", 30),
    ("Connect shop-floor data", "MES roll-out, phase 1", "ops.head@northwind.example", "planned", 0),
    ("Win key accounts", "Key-account management playbook", "ceo@northwind.example", "on_track", 60),
]
# Units whose map starts as a copy of their parent's (aligned objective by objective).
DEMO_ALIGNED_UNITS = ["Operations", "Assembly"]
