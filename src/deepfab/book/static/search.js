// deepfab course book: offline full-text search over window.DEEPFAB_SEARCH (search-index.js).
// Every word of the query must occur in a section (prefix match); a word in the heading counts 10x.
(function () {
  "use strict";
  var records = window.DEEPFAB_SEARCH || [];
  var box = document.getElementById("q");
  var list = document.getElementById("results");
  var summary = document.getElementById("summary");
  var indexed = summary ? summary.textContent : "";
  records.forEach(function (r) {
    r.lowHeading = (r.lecture + " " + r.heading).toLowerCase();
    r.lowText = r.text.toLowerCase();
  });

  function words(query) {
    return (query.toLowerCase().match(/[\p{L}\p{N}][\p{L}\p{N}_.\-]*/gu) || []).slice(0, 8);
  }

  function count(text, word) {
    var n = 0, at = text.indexOf(word);
    while (at !== -1 && n < 50) { n += 1; at = text.indexOf(word, at + word.length); }
    return n;
  }

  function rank(query) {
    var ws = words(query), hits = [];
    if (!ws.length) return hits;
    records.forEach(function (r) {
      var score = 0;
      for (var i = 0; i < ws.length; i++) {
        var inHead = count(r.lowHeading, ws[i]), inText = count(r.lowText, ws[i]);
        if (!inHead && !inText) return;
        score += 10 * inHead + Math.min(inText, 20);
      }
      hits.push({ record: r, score: score });
    });
    hits.sort(function (a, b) { return b.score - a.score; });
    return hits.slice(0, 50);
  }

  function snippet(r, ws) {
    var at = -1;
    for (var i = 0; i < ws.length && at < 0; i++) at = r.lowText.indexOf(ws[i]);
    var start = Math.max(0, at - 80), text = r.text.slice(start, start + 240);
    var span = document.createElement("div");
    span.className = "snippet";
    var low = text.toLowerCase(), pos = 0;
    while (pos < text.length) {
      var next = -1, word = "";
      ws.forEach(function (w) {
        var k = low.indexOf(w, pos);
        if (k !== -1 && (next === -1 || k < next)) { next = k; word = w; }
      });
      if (next === -1) { span.appendChild(document.createTextNode(text.slice(pos))); break; }
      span.appendChild(document.createTextNode(text.slice(pos, next)));
      var mark = document.createElement("mark");
      mark.textContent = text.slice(next, next + word.length);
      span.appendChild(mark);
      pos = next + word.length;
    }
    if (start > 0) span.insertBefore(document.createTextNode("… "), span.firstChild);
    return span;
  }

  function show(query) {
    var ws = words(query), hits = rank(query);
    list.textContent = "";
    hits.forEach(function (h) {
      var r = h.record, li = document.createElement("li"), a = document.createElement("a");
      a.href = r.page + (r.anchor ? "#" + r.anchor : "");
      a.textContent = r.lecture + " · " + r.heading;
      li.appendChild(a);
      var where = document.createElement("span");
      where.className = "facts";
      where.textContent = "  " + r.title;
      li.appendChild(where);
      li.appendChild(snippet(r, ws));
      list.appendChild(li);
    });
    if (summary) {
      summary.textContent = ws.length
        ? hits.length + (hits.length === 1 ? " section matches " : " sections match ") + "“" + ws.join(" ") + "”."
        : indexed;
    }
  }

  var params = new URLSearchParams(window.location.search);
  if (box) {
    box.value = params.get("q") || "";
    box.addEventListener("input", function () { show(box.value); });
    show(box.value);
  }
})();
