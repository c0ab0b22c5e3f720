// The story timeline: vis-timeline over /api/stories/{id}/timeline.
// When a window holds too many events the API returns per-month (or per-year) counts; zooming
// in asks again for the visible window, so the browser never draws thousands of boxes.
(function () {
  var el = document.getElementById("timeline");
  if (!el || typeof vis === "undefined") return;
  var note = document.getElementById("timeline-note");
  var story = el.dataset.story;
  var params = new URLSearchParams(window.location.search);
  var base = {};
  ["actor", "type", "outlet", "since", "until"].forEach(function (k) {
    if (params.get(k)) base[k] = params.get(k);
  });
  var items = new vis.DataSet();
  var DAY = 86400000;
  var timeline = new vis.Timeline(el, items, {
    stack: true,
    maxHeight: 460,
    minHeight: 160,
    verticalScroll: true,
    zoomKey: "",
    zoomMin: 3 * DAY,
    orientation: { axis: "top", item: "top" },
    margin: { item: { horizontal: 4, vertical: 4 } },
    tooltip: { followMouse: true }
  });
  var aggregated = false;
  var first = true;

  function full(d, end) {
    if (!d) return null;
    if (d.length === 4) return end ? (+d + 1) + "-01-01" : d + "-01-01";
    if (d.length === 7) return d + "-01";
    return d;
  }
  function label(text, cls) {
    var span = document.createElement("span");
    span.className = cls || "";
    span.textContent = text; // untrusted titles: text only, never HTML
    return span;
  }
  function iso(date) { return new Date(date).toISOString().slice(0, 10); }

  function load(win) {
    var q = new URLSearchParams(base);
    q.set("max_items", "250");
    if (win) {
      var s = iso(win.start), u = iso(win.end);
      if (!base.since || s > base.since) q.set("since", s);
      if (!base.until || u < base.until) q.set("until", u);
    }
    return fetch("/api/stories/" + encodeURIComponent(story) + "/timeline?" + q.toString())
      .then(function (r) { return r.json(); })
      .then(function (data) { show(data, win); })
      .catch(function (err) { note.textContent = "Could not load the timeline: " + err; });
  }

  function show(data, win) {
    aggregated = data.aggregated;
    var rows = [];
    timeline.setOptions({ stack: !data.aggregated });
    if (data.aggregated) {
      var peak = Math.max.apply(null, data.buckets.map(function (b) { return b.count; }));
      data.buckets.forEach(function (b) {
        var shade = 0.15 + 0.6 * (b.count / peak); // darker = more events: a heat strip
        var planned = (b.by_status && b.by_status.planned) || 0;
        rows.push({
          id: "bucket:" + b.key, start: b.start, end: b.end, type: "range",
          className: "bucket" + (planned * 2 > b.count ? " status-planned" : ""),
          content: label(String(b.count), "bucket-label"), bucket: b,
          style: "background-color: rgba(29, 78, 137, " + shade.toFixed(2) + ");",
          title: label(b.key + ": " + b.count + " events (click to zoom in)")
        });
      });
      note.textContent = data.total + " events here: grouped by " + data.bucket +
        "; zoom in or click a group to see them one by one.";
    } else {
      data.items.forEach(function (e) {
        var end = e.date_end && e.date_end !== e.date ? full(e.date_end, true) : null;
        rows.push({
          id: e.id, start: full(e.date), end: end, type: end ? "range" : "box",
          className: "status-" + e.status + " type-" + (e.type || "").toLowerCase(),
          content: label(e.title), title: label(e.title + " (" + e.status + ", " + e.date + ")")
        });
      });
      note.textContent = data.total + " dated events" +
        (data.undated ? "; " + data.undated + " undated (listed below)" : "") + ".";
    }
    items.clear();
    items.add(rows);
    el.dataset.loaded = "yes";
    el.dataset.count = String(rows.length);
    if (first) { first = false; if (rows.length) timeline.fit({ animation: false }); }
  }

  var pending = null;
  timeline.on("rangechanged", function (props) {
    if (!props.byUser) return;
    clearTimeout(pending);
    pending = setTimeout(function () { load({ start: props.start, end: props.end }); }, 250);
  });
  timeline.on("select", function (props) {
    if (!props.items.length) return;
    var id = String(props.items[0]);
    if (id.indexOf("bucket:") === 0) {
      var b = items.get(id).bucket;
      timeline.setWindow(b.start, b.end);
      load({ start: new Date(b.start), end: new Date(b.end) });
      return;
    }
    if (id.indexOf("cluster") === 0) return;
    window.location.href = "/events/" + encodeURIComponent(id);
  });
  load(null);
})();
