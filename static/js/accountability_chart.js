// The coaching page's accountability chart: the three monthly shares of all the units the member follows,
// prepared by the server (coaching/accountability_display.py) and passed in with json_script.
document.addEventListener("DOMContentLoaded", () => {
  const canvas = document.getElementById("accountability-chart");
  const source = document.getElementById("accountability-chart-data");
  if (!canvas || !source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const COLOURS = ["#1f5fbf", "#1e8a4c", "#c98a00"];
  const STYLES = ["circle", "rectRot", "triangle"]; // the point shape and dash tell the lines apart too
  const DASHES = [[], [6, 3], [2, 3]];
  new Chart(canvas, {
    type: "line",
    data: {
      labels: data.labels,
      datasets: data.series.map((series, i) => ({
        label: series.label, data: series.values, counts: series.counts,
        borderColor: COLOURS[i], backgroundColor: COLOURS[i], pointStyle: STYLES[i], borderDash: DASHES[i],
        borderWidth: 2, pointRadius: 4, pointHoverRadius: 6, spanGaps: true, tension: 0.15,
      })),
    },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false,
      interaction: { mode: "index", intersect: false },
      scales: {
        y: { min: 0, max: 100, ticks: { stepSize: 25, callback: (v) => v + "%" }, grid: { color: "#e6e9ef" } },
        x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 10 } },
      },
      plugins: {
        legend: { position: "bottom", labels: { usePointStyle: true } },
        tooltip: {
          callbacks: {
            label: (item) => {
              const count = item.dataset.counts[item.dataIndex];
              return `${item.dataset.label}: ${item.raw === null ? "no data" : item.raw + "%"}${count ? " (" + count + ")" : ""}`;
            },
          },
        },
      },
    },
  });
  canvas.dataset.rendered = "true";
});
