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
# Units whose map starts as a copy of their parent's (aligned objective by objective), keeping the objectives
# of these perspectives (None: all of them).
DEMO_ALIGNED_UNITS = {
    "Operations": None,
    "Assembly": ["Internal Process", "Learning & Growth"],
    "Sales & Marketing": ["Financial", "Customer"],
    "Finance & People": ["Financial", "Learning & Growth"],
}

# Demo KPIs: (unit, objective served, code, name, measurement unit, direction, baseline, year-end target,
# performance: the share of the way to target the actuals reach, giving a mix of green, amber and red)
DEMO_KPIS = [
    ("Northwind Manufacturing", "Grow revenue profitably", "REV", "Revenue", "kEUR", "increase", 4000, 4800, 0.95),
    (
        "Northwind Manufacturing",
        "Grow revenue profitably",
        "REV-NEW",
        "Revenue from new products",
        "%",
        "increase",
        8,
        15,
        0.7,
    ),
    ("Northwind Manufacturing", "Improve operating margin", "EBIT", "EBIT margin", "%", "increase", 6, 9, 0.5),
    (
        "Northwind Manufacturing",
        "Improve operating margin",
        "OPEX",
        "Operating expenses",
        "kEUR",
        "decrease",
        900,
        820,
        0.9,
    ),
    ("Northwind Manufacturing", "Deliver on time, every time", "OTD", "On-time delivery", "%", "increase", 82, 95, 0.8),
    ("Northwind Manufacturing", "Win key accounts", "KEY-ACC", "Key accounts won", "accounts", "increase", 0, 6, 1.0),
    (
        "Northwind Manufacturing",
        "Be the quality benchmark",
        "CPPM",
        "Customer complaints per million",
        "ppm",
        "decrease",
        450,
        250,
        0.5,
    ),
    (
        "Northwind Manufacturing",
        "Cut order-to-delivery lead time",
        "LEAD",
        "Order-to-delivery lead time",
        "days",
        "decrease",
        21,
        14,
        0.85,
    ),
    ("Northwind Manufacturing", "Reduce scrap and rework", "SCRAP", "Scrap rate", "%", "decrease", 4.5, 2.5, 0.45),
    (
        "Northwind Manufacturing",
        "Develop products with customers",
        "CO-DEV",
        "Co-developed products",
        "products",
        "increase",
        1,
        5,
        0.75,
    ),
    ("Northwind Manufacturing", "Lower cost per unit", "CPU", "Cost per unit", "EUR", "decrease", 38, 34, 0.7),
    (
        "Northwind Manufacturing",
        "Build lean and quality skills",
        "TRAIN",
        "Training hours per employee",
        "h",
        "increase",
        10,
        24,
        0.9,
    ),
    ("Northwind Manufacturing", "Keep key talent", "ATTR", "Attrition of key talent", "%", "decrease", 12, 7, 0.55),
    (
        "Northwind Manufacturing",
        "Connect shop-floor data",
        "MES",
        "Machines connected to MES",
        "%",
        "increase",
        10,
        60,
        0.65,
    ),
    (
        "Operations",
        "Deliver on time, every time",
        "OPS-OTD",
        "On-time delivery (plants)",
        "%",
        "increase",
        80,
        95,
        0.45,
    ),
    (
        "Operations",
        "Cut order-to-delivery lead time",
        "OPS-LEAD",
        "Production lead time",
        "days",
        "decrease",
        12,
        8,
        0.9,
    ),
    ("Operations", "Reduce scrap and rework", "OPS-SCRAP", "Scrap rate (plants)", "%", "decrease", 4.8, 2.5, 0.5),
    ("Operations", "Lower cost per unit", "OPS-OEE", "Overall equipment effectiveness", "%", "increase", 62, 75, 0.7),
    (
        "Operations",
        "Build lean and quality skills",
        "OPS-KAIZEN",
        "Kaizen ideas implemented",
        "ideas",
        "increase",
        5,
        20,
        1.0,
    ),
    ("Operations", "Connect shop-floor data", "OPS-MES", "Lines reporting live data", "lines", "increase", 1, 8, 0.6),
    (
        "Assembly",
        "Cut order-to-delivery lead time",
        "ASM-CYCLE",
        "Assembly cycle time",
        "min",
        "decrease",
        48,
        40,
        0.95,
    ),
    ("Assembly", "Reduce scrap and rework", "ASM-FPY", "First-pass yield", "%", "increase", 90, 97, 0.9),
    ("Assembly", "Reduce scrap and rework", "ASM-REWORK", "Rework hours", "h", "decrease", 320, 200, 0.9),
    ("Assembly", "Lower cost per unit", "ASM-LABOR", "Labour hours per unit", "h", "decrease", 2.4, 2.0, 1.0),
    ("Assembly", "Build lean and quality skills", "ASM-SKILL", "Operators certified", "%", "increase", 40, 80, 1.0),
    ("Assembly", "Keep key talent", "ASM-ABS", "Absenteeism", "%", "decrease", 6, 4, 0.9),
    (
        "Assembly",
        "Connect shop-floor data",
        "ASM-SENSORS",
        "Stations with sensors",
        "stations",
        "increase",
        2,
        12,
        0.95,
    ),
    ("Quality Assurance", None, "QA-AUDIT", "Supplier audits done", "audits", "increase", 2, 10, 0.6),
    ("Quality Assurance", None, "QA-NCR", "Open non-conformance reports", "reports", "decrease", 40, 15, 0.45),
    ("Maintenance", None, "MNT-MTBF", "Mean time between failures", "h", "increase", 120, 180, 0.95),
    ("Maintenance", None, "MNT-PM", "Preventive maintenance done on time", "%", "increase", 70, 95, 1.0),
    ("Inside Sales", None, "IS-QUOTE", "Quote turnaround", "h", "decrease", 48, 24, 0.9),
    ("Inside Sales", "Convert more quotes into orders", "IS-CONV", "Quote conversion", "%", "increase", 18, 28, 0.6),
    ("Field Sales", None, "FS-PIPE", "Qualified pipeline", "kEUR", "increase", 2000, 3500, 0.95),
    ("Field Sales", None, "FS-VISITS", "Customer visits", "visits", "increase", 40, 70, 1.0),
    ("Marketing", None, "MKT-LEADS", "Marketing-qualified leads", "leads", "increase", 80, 150, 0.45),
    ("Marketing", None, "MKT-CPL", "Cost per lead", "EUR", "decrease", 120, 80, 0.4),
    ("Finance", None, "FIN-DSO", "Days sales outstanding", "days", "decrease", 62, 45, 0.95),
    ("Finance", None, "FIN-CLOSE", "Days to close the books", "days", "decrease", 10, 5, 1.0),
    ("Human Resources", "Fill open roles fast", "HR-HIRE", "Time to hire", "days", "decrease", 60, 40, 0.7),
    ("Human Resources", None, "HR-ENG", "Employee engagement", "index", "increase", 62, 72, 0.65),
    ("Inside Sales", None, "IS-PIPE", "Pipeline from inbound quotes", "kEUR", "increase", 600, 1000, 0.75),
    ("Marketing", None, "MKT-PIPE", "Marketing-sourced pipeline", "kEUR", "increase", 400, 900, 0.5),
    ("Quality Assurance", None, "QA-REWORK", "Rework hours from supplier defects", "h", "decrease", 140, 80, 0.45),
    ("Maintenance", None, "MNT-REWORK", "Rework hours after breakdowns", "h", "decrease", 90, 50, 0.95),
]
# Roll-up KPIs, parents before children: (unit, objective served, code, name, measurement unit, direction,
# method). Their baseline and targets are the sums of their children's; their values are computed.
DEMO_ROLLUPS = [
    ("Northwind Manufacturing", "Win key accounts", "PIPE", "Qualified pipeline", "kEUR", "increase", "sum"),
    ("Northwind Manufacturing", "Reduce scrap and rework", "REWORK", "Rework hours", "h", "decrease", "sum"),
    ("Sales & Marketing", "Win key accounts", "SM-PIPE", "Qualified pipeline (sales)", "kEUR", "increase", "sum"),
    ("Operations", "Reduce scrap and rework", "OPS-REWORK", "Rework hours (plants)", "h", "decrease", "sum"),
]
# Which roll-up each KPI is aligned to (child code: parent code).
DEMO_KPI_ALIGNMENT = {
    "SM-PIPE": "PIPE",
    "FS-PIPE": "SM-PIPE",
    "IS-PIPE": "SM-PIPE",
    "MKT-PIPE": "SM-PIPE",
    "OPS-REWORK": "REWORK",
    "ASM-REWORK": "OPS-REWORK",
    "QA-REWORK": "OPS-REWORK",
    "MNT-REWORK": "OPS-REWORK",
}
DEMO_MONTHS = 24
# (code, month offset from the first demo month, new target factor, reason)
DEMO_RECALIBRATIONS = [
    ("REV", 20, "0.97", "Key customer delayed its 2026 programme by two quarters."),
    ("SCRAP", 18, "1.10", "New alloy introduced; scrap baseline reset with the supplier."),
    ("MES", 22, "0.85", "MES vendor switch pushed phase 2 to next year."),
]
# Objectives of departments whose KPIs serve no company objective: (unit, perspective, name, aligned to on
# the parent unit's map)
DEMO_UNIT_OBJECTIVES = [
    ("Quality Assurance", "Internal Process", "Assure supplier quality", "Be the quality benchmark"),
    ("Maintenance", "Internal Process", "Keep machines running", "Lower cost per unit"),
    ("Inside Sales", "Customer", "Answer customers fast", "Deliver on time, every time"),
    ("Field Sales", "Customer", "Grow the pipeline", "Win key accounts"),
    ("Marketing", "Customer", "Generate qualified demand", "Win key accounts"),
    ("Finance", "Financial", "Run a fast, clean close", "Improve operating margin"),
    ("Human Resources", "Learning & Growth", "Hire and engage the right people", "Keep key talent"),
    ("Human Resources", "Internal Process", "Fill open roles fast", "Keep key talent"),
    ("Inside Sales", "Financial", "Convert more quotes into orders", "Grow revenue profitably"),
]

# Coaching cadences: (unit, kind, frequency, weekday 0=Monday, week of the month for monthly (-1: last),
# local time, participants' emails, agenda each session starts with)
DEMO_CADENCES = [
    (
        "Operations", "monthly_review", "monthly", 1, 2, "09:00", ["ops.head@northwind.example"],
        "1. KPI updates (red first)\n2. Wins and challenges\n3. Open action items",
    ),
    ("Assembly", "check_in", "biweekly", 3, None, "14:00", ["ops.head@northwind.example"], "Line status, blockers"),
    (
        "Operations", "workshop", "monthly", 2, -1, "10:00", ["ops.head@northwind.example"],
        "Lean and quality skills: one tool, practised on a real problem",
    ),
]  # fmt: skip
DEMO_COACHING_MONTHS = 12
# Building blocks of the demo's session notes (Markdown), wins, challenges and action items.
DEMO_NOTE_TOPICS = [
    "the scrap trend on line 2", "supplier lead times", "overtime in final assembly", "the MES pilot",
    "first-pass yield after the fixture change", "maintenance backlog", "absenteeism on the night shift",
    "changeover times", "the customer complaint from Baltic Motors", "operator certification",
]  # fmt: skip
DEMO_WINS = [
    "Two weeks without a late order.", "Changeover on press 3 down from 42 to 28 minutes.",
    "All night-shift operators certified on the new torque tools.", "Zero customer complaints this month.",
    "Kaizen board ideas implemented within a week.", "Preventive maintenance fully on plan.",
]  # fmt: skip
DEMO_CHALLENGES = [
    "Scrap still above plan on the new alloy.", "Two key suppliers late again.",
    "Sensor data from line 4 not yet in the MES.", "Overtime budget used up by the third week.",
    "Rework hours up after the design change.", "Holiday cover on the night shift is thin.",
]  # fmt: skip
DEMO_ACTIONS = [
    "Run a 5-why on the line 2 scrap spike", "Agree a delivery plan with the alloy supplier",
    "Update the changeover standard for press 3", "Train the night shift on the new fixture",
    "Move the sensor install on line 4 forward", "Review the overtime rota with HR",
    "Share the complaint 8D report with the customer", "Post the certification matrix on the floor",
    "Set a weekly MES data-quality check", "Plan the spare-part stock for the summer shutdown",
    "Audit the torque settings on station 7", "Agree the SMED pilot scope with the line leads",
    "Check the gauge calibration backlog", "Write the one-point lesson on the new jig",
    "Ask purchasing for a second alloy source", "Map the rework loop in final assembly",
    "Set up a red-KPI huddle after each shift", "Brief the new team leads on the scorecard",
]  # fmt: skip

# The story the demo tells at a glance: one department improving month after month (Assembly, from red to green
# over the last year) and one sliding (Quality Assurance, from green to red): the share of the way to target
# their KPIs gain or lose each month of the last 12.
DEMO_UNIT_TRENDS = {"Assembly": 0.035, "Quality Assurance": -0.035}
# KPIs on plan a year ago and slipping since (code: the share of the way to target lost each month of the last
# 12): their least-squares line misses the year-end target clearly, so the dashboard lists them as "likely to miss
# this year". On-time delivery in the plants makes the Operations objective it serves red, with the monthly review's
# open actions on it; complaints keep the company's quality objective red.
DEMO_SLIPPING = {"OPS-OTD": 0.05, "CPPM": 0.04}
# A cause-effect link of the company map that the data bears out (cause objective, effect objective, lag in
# months): every KPI serving the cause (or a sub-unit objective aligned to it) shares one monthly swing, and every
# KPI serving the effect the same swing a month later, so the link evidence finds a strong lag-1 relation. The
# other links keep their independent noise: weak, as most hypotheses would look on two years of data.
DEMO_LINKED = ("Lower cost per unit", "Improve operating margin", 1)
# The swing: the share of the way to target a month's KPIs lose (0 to this), drawn at random each month; none in
# the last months, so the month now due reads as without it.
DEMO_LINKED_SWING = 0.16
# KPIs whose latest months are missing (code: months without a value, the reason in the last value's comment):
# the one department with a gap in its data (half of its scorecard's weight).
DEMO_MISSING = {
    "HR-ENG": (3, "Pulse survey postponed until the new HR system is live."),
}
# The cause a department head writes on a value well below plan in the last two months (earlier months, and any
# other KPI: one of DEMO_CAUSES_OTHER, picked by the month so the history does not repeat one sentence).
DEMO_CAUSES = {
    "EBIT": "Steel surcharges not yet passed on to customers; price review with key accounts in progress.",
    "CPPM": "Two batches of mislabelled cartons reached customers; label check added at packing.",
    "SCRAP": "New press line still running in; tool settings being tuned with the supplier.",
    "ATTR": "Three senior engineers left for a competitor; exit interviews point to pay and career paths.",
    "MKT-CPL": "Trade-fair season: stand costs booked this month, leads follow in the next two.",
    "MKT-LEADS": "Website form broken for ten days after the relaunch; fixed on the 18th.",
    "MKT-PIPE": "Two large quotes slipped to next quarter at the customers' request.",
    "QA-NCR": "Backlog after the auditor's visit; reports are being closed in weekly batches.",
    "QA-REWORK": "Supplier coating defects on housings; supplier on a corrective action plan.",
}
DEMO_CAUSES_OTHER = (
    "Below plan: two weeks of short staffing; overtime planned to catch up.",
    "Below plan: a customer order moved into next month.",
    "Below plan: machine breakdown on line 2; repaired, backlog being worked off.",
)
# Measurement units that count things: whole numbers, no decimals.
DEMO_COUNT_UNITS = {"accounts", "products", "ideas", "lines", "stations", "audits", "reports", "visits", "leads"}
# How a quarter or a year is made from the months (any other KPI: the average of its months). Flows add up
# (finance reads revenue and costs as year-to-date totals); levels take the latest month.
DEMO_TIME_AGGREGATION = {
    **dict.fromkeys(
        ["REV", "OPEX", "KEY-ACC", "CO-DEV", "TRAIN", "REWORK", "OPS-REWORK", "ASM-REWORK", "QA-REWORK",
         "MNT-REWORK", "OPS-KAIZEN", "QA-AUDIT", "FS-VISITS", "MKT-LEADS"],
        "sum",
    ),
    **dict.fromkeys(
        ["PIPE", "SM-PIPE", "FS-PIPE", "IS-PIPE", "MKT-PIPE", "QA-NCR", "OPS-MES", "ASM-SENSORS", "MES", "ASM-SKILL"],
        "last",
    ),
}  # fmt: skip
# When values come in: the day of the month after the period they are entered on, mostly before the
# organization's data-entry deadline; Quality Assurance, sliding, more and more often after it.
DEMO_LATE_SHARE = 0.08
# Comments (issue 18): (kind, KPI code or objective name, author email, text, replies as (author email, text)); the
# @mentions notify the coach and the head of Operations once each, in their inbox and daily digest.
DEMO_COMMENTS = [
    (
        "kpi", "OPS-OTD", "ops.head@northwind.example",
        "Two late alloy deliveries explain most of this month's miss. @coach can we take it to the next review?",
        [("coach@northwind.example", "Yes: bring the supplier's **recovery plan** and the open orders it covers.")],
    ),
    (
        "kpi", "CPPM", "ceo@northwind.example",
        "Complaints are up for the third month running. @ops.head what does the 8D report say about the root cause?",
        [],
    ),
    (
        "objective", "Reduce scrap and rework", "coach@northwind.example",
        "The green-belt projects should show here first; see the rework KPIs of Assembly and Quality Assurance.",
        [("ops.head@northwind.example", "Agreed. Line 2 starts its project next month.")],
    ),
]  # fmt: skip
# Evidence files (issue 18): a PDF on the latest value of a KPI, added by (KPI code, author email, file name, title,
# lines of text); seed_demo renders it with WeasyPrint.
DEMO_EVIDENCE = (
    "OPS-OTD", "ops.head@northwind.example", "Supplier recovery plan.pdf", "Alloy supplier: recovery plan",
    [
        "Two late alloy deliveries caused most of this month's on-time delivery miss.",
        "The supplier adds a second shift from next week and ships the open orders in three lots.",
        "We track the lots daily and review the plan at the next monthly review.",
    ],
)  # fmt: skip
