/* The SLA report's charts (Chart.js, from npm). The numbers come from the page's
   #sla-report-data JSON; this file works whether the page was loaded or swapped in by htmx. */
(function () {
  "use strict";
  var COLOURS = ["#1f5fd6", "#1e7b45", "#8a5a00"];

  function chart(id, config) {
    var canvas = document.getElementById(id);
    if (!canvas || canvas.dataset.drawn) return;
    canvas.dataset.drawn = "1";
    new window.Chart(canvas, config);
  }

  function percentAxis() {
    return { y: { min: 0, max: 100, ticks: { callback: function (v) { return v + " %"; } } } };
  }

  function draw() {
    var source = document.getElementById("sla-report-data");
    if (!source) return;
    if (!window.Chart) { window.setTimeout(draw, 30); return; }
    var data = JSON.parse(source.textContent);
    var common = { responsive: true, maintainAspectRatio: false, animation: false, spanGaps: true };
    chart("sla-chart-weekly", {
      type: "line",
      data: {
        labels: data.weeks,
        datasets: data.goals.map(function (label, i) {
          return { label: label, data: data.weekly[i], borderColor: COLOURS[i], backgroundColor: COLOURS[i] };
        })
      },
      options: Object.assign({ scales: percentAxis() }, common)
    });
    chart("sla-chart-teams", {
      type: "bar",
      data: {
        labels: data.teams,
        datasets: data.goals.map(function (label, i) {
          return { label: label, data: data.by_team[i], backgroundColor: COLOURS[i] };
        })
      },
      options: Object.assign({ scales: percentAxis() }, common)
    });
    ["first_response", "close"].forEach(function (goal) {
      var times = data.times[goal];
      chart("sla-chart-" + goal, {
        type: "line",
        data: {
          labels: data.weeks,
          datasets: [
            { label: data.text.median, data: times.p50, borderColor: COLOURS[0], backgroundColor: COLOURS[0] },
            { label: data.text.p90, data: times.p90, borderColor: COLOURS[2], backgroundColor: COLOURS[2], borderDash: [6, 4] }
          ]
        },
        options: Object.assign({ scales: { y: { min: 0, title: { display: true, text: data.text.hours } } } }, common)
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
  document.addEventListener("htmx:afterSettle", draw);
})();
