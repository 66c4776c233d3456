// The KPI page's chart: actuals and targets over the months, on green / amber / red zones computed by the
// server (kpis/kpi_display.py) and passed in with json_script; and the year-end forecast as a dashed line from the
// latest value (kpis/forecast_display.py, its own json_script). Chart.js is vendored (static/vendor/chartjs).
document.addEventListener("DOMContentLoaded", () => {
  const canvas = document.getElementById("kpi-chart");
  const source = document.getElementById("kpi-chart-data");
  if (!canvas || !source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const css = getComputedStyle(document.documentElement);
  const colour = (name, fallback) => (css.getPropertyValue(name) || fallback).trim();
  const COLOURS = {
    green: colour("--green", "#1e8a4c"), amber: colour("--amber", "#c98a00"),
    red: colour("--red", "#c0392b"), grey: colour("--grey", "#9aa1ad"),
  };
  const ZONE_FILL = { green: "rgba(30,138,76,0.13)", amber: "rgba(201,138,0,0.15)", red: "rgba(192,57,43,0.10)" };
  const ZONE_NAMES = { green: "Green zone", amber: "Amber zone", red: "Red zone" };
  const format = (value) => {
    if (value === null || value === undefined) return "—";
    const text = value.toLocaleString(undefined, {
      minimumFractionDigits: data.decimals, maximumFractionDigits: data.decimals,
    });
    if (!data.unit) return text;
    return data.unit === "%" ? text + "%" : text + " " + data.unit;
  };

  const datasets = [];
  const seen = new Set();
  data.zones.forEach((zone) => {
    // Each zone is two datasets: its lower edge (drawn invisibly) and its upper edge filled down to it.
    datasets.push({
      label: "zone-edge", data: zone.low, pointRadius: 0, borderWidth: 0, fill: false,
      spanGaps: false, stepped: "middle", order: 10, zone: true, zoneEdge: true,
    });
    datasets.push({
      label: seen.has(zone.status) ? "zone-edge" : ZONE_NAMES[zone.status], zoneEdge: seen.has(zone.status),
      data: zone.high, pointRadius: 0, borderWidth: 0, fill: "-1", backgroundColor: ZONE_FILL[zone.status],
      borderColor: ZONE_FILL[zone.status], spanGaps: false, stepped: "middle", order: 10, zone: true,
    });
    seen.add(zone.status);
  });
  // A target of a single month has no line to draw: it is drawn as a point then.
  const lone = data.target.filter((v) => v !== null).length === 1;
  datasets.push({
    label: "Target", data: data.target, borderColor: "#14213d", backgroundColor: "#14213d",
    borderDash: [6, 4], borderWidth: 2, pointRadius: lone ? 4 : 0, pointStyle: "line", stepped: "middle",
    fill: false, order: 2,
  });
  if (data.original.some((v, i) => v !== null && v !== data.target[i])) {
    datasets.push({
      label: "Original target", data: data.original.map((v, i) => (v !== data.target[i] ? v : null)),
      borderColor: "#7b8496", backgroundColor: "#fff", borderWidth: 1.5, showLine: false,
      pointStyle: "crossRot", pointRadius: 6, order: 1,
    });
  }
  datasets.push({
    label: "Actual", data: data.actual, borderColor: "#1f5fbf", backgroundColor: "#1f5fbf", borderWidth: 2.5,
    pointRadius: 4.5, pointHoverRadius: 6, tension: 0.2, spanGaps: true, fill: false, order: 0,
    pointBackgroundColor: data.statuses.map((s) => COLOURS[s] || COLOURS.grey),
    pointBorderColor: "#fff", pointBorderWidth: 1.5,
  });

  // The forecast's points by period label: drawn where the chart's months hold them (none when the chart shows
  // other months, or there is no forecast).
  const forecastSource = document.getElementById("kpi-forecast-data");
  const forecast = forecastSource ? JSON.parse(forecastSource.textContent) : null;
  if (forecast && forecast.label && forecast.labels.length) {
    const byLabel = new Map(forecast.labels.map((label, i) => [label, forecast.values[i]]));
    const points = data.labels.map((label) => (byLabel.has(label) ? byLabel.get(label) : null));
    if (points.some((v) => v !== null)) {
      const colour = COLOURS[forecast.status] || COLOURS.grey;
      const end = points.reduce((last, v, i) => (v !== null ? i : last), -1); // the year end: a marker there
      datasets.push({
        label: forecast.label, data: points, borderColor: colour, backgroundColor: colour, borderWidth: 2.5,
        borderDash: [4, 4], pointRadius: points.map((_, i) => (i === end ? 5 : 0)), pointStyle: "rectRot",
        spanGaps: true, fill: false, order: 1, forecast: true,
      });
    }
  }

  // A projection beyond the actuals and targets widens the axis (the server's limits leave it out); the zones' open
  // edges, closed at the server's limits, follow to the new ones so the colours still fill the plot.
  let yMin = data.yMin;
  let yMax = data.yMax;
  const projected = datasets.filter((d) => d.forecast).flatMap((d) => d.data.filter((v) => v !== null));
  if (projected.length) {
    const low = Math.min(yMin, ...projected);
    const high = Math.max(yMax, ...projected);
    const pad = (high - low) * 0.05;
    if (low < yMin) yMin = data.yMin >= 0 && low >= 0 ? Math.max(0, low - pad) : low - pad;
    if (high > yMax) yMax = high + pad;
    datasets.forEach((d) => {
      if (d.zone) d.data = d.data.map((v) => (v === data.yMin ? yMin : v === data.yMax ? yMax : v));
    });
  }

  new Chart(canvas, {
    type: "line",
    data: { labels: data.labels, datasets },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false,
      interaction: { mode: "index", intersect: false },
      scales: {
        y: { min: yMin, max: yMax, ticks: { callback: (v) => format(v) }, grid: { color: "#e6e9ef" } },
        x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 12 } },
      },
      plugins: {
        legend: {
          position: "bottom",
          labels: { usePointStyle: true, filter: (item, chart) => !chart.datasets[item.datasetIndex].zoneEdge },
        },
        tooltip: {
          filter: (item) => !item.dataset.zone && item.raw !== null,
          callbacks: { label: (item) => `${item.dataset.label}: ${format(item.raw)}` },
        },
      },
    },
  });
  canvas.dataset.rendered = "true";
  if (datasets.some((d) => d.forecast)) canvas.dataset.forecast = forecast.classification;
});
