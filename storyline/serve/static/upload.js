// Upload page: drop files or paste text; sends them with the token to POST /api/upload.
(function () {
  var form = document.getElementById("upload");
  var out = document.getElementById("upload-result");
  var drop = document.getElementById("drop");
  if (!form) return;
  var input = form.querySelector("input[type=file]");
  ["dragenter", "dragover"].forEach(function (n) {
    drop.addEventListener(n, function (e) { e.preventDefault(); drop.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (n) {
    drop.addEventListener(n, function (e) { e.preventDefault(); drop.classList.remove("over"); });
  });
  drop.addEventListener("drop", function (e) { input.files = e.dataTransfer.files; });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    out.textContent = "Ingesting…";
    out.className = "result";
    fetch(form.action, { method: "POST", body: new FormData(form) })
      .then(function (r) { return r.json().then(function (body) { return [r.status, body]; }); })
      .then(function (res) {
        var status = res[0], body = res[1];
        if (status !== 200) {
          out.className = "result error";
          out.textContent = "Refused (" + status + "): " + (body.error || "error");
          return;
        }
        var lines = ["Added " + body.added.length + " article(s), " + body.skipped + " already stored."];
        body.added.forEach(function (id) { lines.push("  /articles/" + id); });
        body.failures.forEach(function (f) { lines.push("skipped: " + f); });
        out.textContent = lines.join("\n");
      })
      .catch(function (err) { out.className = "result error"; out.textContent = "Failed: " + err; });
  });
})();
