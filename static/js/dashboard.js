// The executive dashboard: the scorecard's 12-month trend (Chart.js, vendored; the figures come in with json_script)
// and the heat map's tree: a unit's button shows or hides the units below it (rows carry their parent's id); the
// page holds the unit and its children, deeper rows are fetched when their parent is first unfolded. Without this
// script each unit's name still leads to its own dashboard, one level down.
document.addEventListener("DOMContentLoaded", () => {
  const table = document.getElementById("heatmap");
  if (table) {
    const body = table.tBodies[0];
    const childrenOf = (id) => Array.from(body.querySelectorAll(`tr[data-parent="${id}"]`));
    const setHidden = (id, hidden) => {
      childrenOf(id).forEach((row) => {
        row.hidden = hidden;
        const button = row.querySelector("button[data-toggle]");
        // a hidden row hides its whole subtree; showing it shows the children it had open
        setHidden(row.dataset.unit, hidden || (button && button.getAttribute("aria-expanded") === "false"));
      });
    };
    // The rows below a folded row come from the server the first time it is unfolded, right under it.
    const load = async (button) => {
      const response = await fetch(button.dataset.rows, { headers: { "HX-Request": "true" } });
      if (!response.ok) throw new Error(`rows: ${response.status}`);
      button.closest("tr").insertAdjacentHTML("afterend", await response.text());
      delete button.dataset.rows;
    };
    table.addEventListener("click", async (event) => {
      const button = event.target.closest("button[data-toggle]");
      if (!button || button.getAttribute("aria-busy") === "true") return;
      const open = button.getAttribute("aria-expanded") !== "true";
      if (open && button.dataset.rows) {
        button.setAttribute("aria-busy", "true");
        try {
          await load(button);
        } catch (error) {
          button.removeAttribute("aria-busy");
          window.location.assign(button.closest("tr").querySelector("a").href); // that unit's own dashboard
          return;
        }
        button.removeAttribute("aria-busy");
      }
      button.setAttribute("aria-expanded", String(open));
      setHidden(button.dataset.toggle, !open);
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
