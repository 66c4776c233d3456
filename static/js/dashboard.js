// The executive dashboard: the scorecard's 12-month trend (Chart.js, vendored; the figures come in with json_script)
// and the heat map's tree: a unit's button shows or hides the units below it (rows carry their parent's id). Without
// this script every row shows.
document.addEventListener("DOMContentLoaded", () => {
  const table = document.getElementById("heatmap");
  if (table) {
    const rows = Array.from(table.tBodies[0].rows);
    const children = new Map();
    rows.forEach((row) => {
      const parent = row.dataset.parent;
      if (!parent) return;
      if (!children.has(parent)) children.set(parent, []);
      children.get(parent).push(row);
    });
    const setHidden = (id, hidden) => {
      (children.get(id) || []).forEach((row) => {
        row.hidden = hidden;
        const button = row.querySelector("button[data-toggle]");
        // a hidden row hides its whole subtree; showing it shows the children it had open
        setHidden(row.dataset.unit, hidden || (button && button.getAttribute("aria-expanded") === "false"));
      });
    };
    table.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-toggle]");
      if (!button) return;
      const open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", String(open));
      setHidden(button.dataset.toggle, !open);
    });
    // Start with the top two levels: the units below the first level are folded.
    rows.forEach((row) => {
      const button = row.querySelector("button[data-toggle]");
      if (button && row.dataset.parent) {
        button.setAttribute("aria-expanded", "false");
        setHidden(row.dataset.unit, true);
      }
    });
    table.dataset.ready = "true";
  }

  const canvas = document.getElementById("dash-trend");
  const source = document.getElementById("dash-trend-data");
  if (!canvas || !source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const css = getComputedStyle(document.documentElement);
  const colour = (name, fallback) => (css.getPropertyValue(name) || fallback).trim();
  const COLOURS = {
    green: colour("--green", "#197a42"), amber: colour("--amber", "#c98a00"),
    red: colour("--red", "#c0392b"), grey: colour("--grey", "#9aa1ad"),
  };
  new Chart(canvas, {
    type: "line",
    data: {
      labels: data.labels,
      datasets: [{
        label: "Scorecard score", data: data.scores, borderColor: "#1f5fbf", borderWidth: 2.5, tension: 0.2,
        spanGaps: true, pointRadius: 5, pointBackgroundColor: data.statuses.map((s) => COLOURS[s] || COLOURS.grey),
        pointBorderColor: "#fff", pointBorderWidth: 1.5,
      }],
    },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false,
      scales: {
        y: { min: 0, max: 100, ticks: { callback: (v) => v + "%" }, grid: { color: "#e6e9ef" } },
        x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 10 } },
      },
      plugins: {
        legend: { display: false },
        tooltip: { callbacks: { label: (item) => `Score: ${data.texts[item.dataIndex]}` } },
      },
    },
  });
  canvas.dataset.rendered = "true";
});
